"""Property tests of the consensus invariants (DESIGN.md, "Consensus semantics")."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import NAMES, incidents, verdict, verdict_lists

from siem_consensus.consensus import POLICIES, ConsensusPolicy, decide, get_policy
from siem_consensus.models import Incident, Outcome, Severity, Verdict, VerdictStatus

thresholds = st.floats(0.0, 1.0)
policy_names = st.sampled_from(sorted(POLICIES))


def _policy(name: str, threshold: float) -> ConsensusPolicy:
    return get_policy(name, threshold)


@given(incidents(), verdict_lists(), policy_names, thresholds)
def test_any_failure_means_degraded_review(
    incident: Incident, verdicts: list[Verdict], name: str, threshold: float
) -> None:
    decision = decide(incident, verdicts, _policy(name, threshold))
    failed = any(v.status is VerdictStatus.ERROR for v in verdicts)
    assert decision.degraded == failed
    if failed:
        assert decision.outcome is Outcome.NEEDS_REVIEW


@given(
    incidents(st.sampled_from([Severity.HIGH, Severity.CRITICAL])),
    verdict_lists(),
    policy_names,
    thresholds,
)
def test_high_severity_is_never_dismissed(
    incident: Incident, verdicts: list[Verdict], name: str, threshold: float
) -> None:
    assert decide(incident, verdicts, _policy(name, threshold)).outcome is not Outcome.DISMISSED


@given(incidents(), verdict_lists(min_size=2), thresholds)
def test_unanimous_never_alerts_on_disagreement(
    incident: Incident, verdicts: list[Verdict], threshold: float
) -> None:
    sides = {v.is_threat for v in verdicts if v.counts}
    decision = decide(incident, verdicts, _policy("unanimous", threshold))
    if len(sides) > 1:
        assert decision.outcome is Outcome.NEEDS_REVIEW


@given(incidents(), verdict_lists(), policy_names, thresholds)
def test_shown_confidence_is_the_one_that_decided(
    incident: Incident, verdicts: list[Verdict], name: str, threshold: float
) -> None:
    decision = decide(incident, verdicts, _policy(name, threshold))
    if decision.outcome in (Outcome.ALERT, Outcome.DISMISSED) and not decision.degraded:
        assert decision.confidence is not None and decision.confidence >= threshold
    if name == "unanimous" and decision.outcome is Outcome.ALERT:
        assert decision.confidence == min(v.confidence for v in verdicts if v.counts)


@given(
    incidents(), verdict_lists(max_size=4, ok_only=True), policy_names, thresholds, st.floats(0, 1)
)
def test_adding_a_dissenter_never_raises_confidence(
    incident: Incident, verdicts: list[Verdict], name: str, threshold: float, conf: float
) -> None:
    policy = _policy(name, threshold)
    before = decide(incident, verdicts, policy)
    dissent = Verdict(analyst="dissenter", incident_id="inc-1", is_threat=False, confidence=conf)
    after = decide(incident, [*verdicts, dissent], policy)
    if after.outcome is Outcome.ALERT:
        assert before.outcome is Outcome.ALERT
        assert before.confidence is not None and after.confidence is not None
        assert after.confidence <= before.confidence


@given(
    incidents(),
    verdict_lists(max_size=4),
    policy_names,
    thresholds,
    st.sampled_from([VerdictStatus.ABSTAINED, VerdictStatus.UNVERIFIED, VerdictStatus.ERROR]),
)
def test_abstention_never_creates_an_alert(
    incident: Incident,
    verdicts: list[Verdict],
    name: str,
    threshold: float,
    status: VerdictStatus,
) -> None:
    policy = _policy(name, threshold)
    extra = Verdict(
        analyst="extra",
        incident_id="inc-1",
        status=status,
        is_threat=True,
        confidence=1.0,
        error="x" if status is VerdictStatus.ERROR else None,
    )
    if decide(incident, verdicts, policy).outcome is not Outcome.ALERT:
        assert decide(incident, [*verdicts, extra], policy).outcome is not Outcome.ALERT


@given(incidents(), verdict_lists(), policy_names, thresholds)
def test_failures_are_never_fabricated(
    incident: Incident, verdicts: list[Verdict], name: str, threshold: float
) -> None:
    decision = decide(incident, verdicts, _policy(name, threshold))
    assert [v.analyst for v in decision.verdicts] == [v.analyst for v in verdicts]
    for before, after in zip(verdicts, decision.verdicts, strict=True):
        if before.status is VerdictStatus.ERROR:
            assert after.status is VerdictStatus.ERROR and after.is_threat is None


@given(incidents(), verdict_lists(), policy_names, thresholds, thresholds)
def test_raising_the_threshold_never_adds_alerts(
    incident: Incident, verdicts: list[Verdict], name: str, t1: float, t2: float
) -> None:
    low, high = sorted((t1, t2))
    if decide(incident, verdicts, _policy(name, high)).outcome is Outcome.ALERT:
        assert decide(incident, verdicts, _policy(name, low)).outcome is Outcome.ALERT


@given(incidents(), st.data())
def test_citing_unknown_events_is_an_abstention(incident: Incident, data: st.DataObject) -> None:
    good = [data.draw(verdict(n, VerdictStatus.OK)) for n in NAMES[:2]]
    liar = good[0].model_copy(update={"evidence_event_ids": ("other.log:99",)})
    decision = decide(incident, [liar, good[1]], _policy("unanimous", 0.0))
    assert decision.verdicts[0].status is VerdictStatus.UNVERIFIED
    assert decision.outcome is not Outcome.ALERT


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_no_verdicts_needs_review(name: str) -> None:
    incident = Incident(id="i", detector="d", kind="k", title="t", severity=Severity.LOW, score=0.1)
    decision = decide(incident, [], _policy(name, 0.5))
    assert decision.outcome is Outcome.NEEDS_REVIEW and decision.confidence is None


@given(incidents(), st.lists(st.floats(0, 1), min_size=1, max_size=5), thresholds)
def test_unanimous_agreement_alerts_exactly_at_the_minimum(
    incident: Incident, confidences: list[float], threshold: float
) -> None:
    verdicts = [
        Verdict(analyst=f"a{i}", incident_id="inc-1", is_threat=True, confidence=c)
        for i, c in enumerate(confidences)
    ]
    decision = decide(incident, verdicts, _policy("unanimous", threshold))
    assert decision.confidence == min(confidences)
    expected = Outcome.ALERT if min(confidences) >= threshold else Outcome.NEEDS_REVIEW
    assert decision.outcome is expected


@given(incidents(), st.lists(st.floats(0, 1), min_size=1, max_size=5), thresholds)
def test_weighted_abstention_dilutes(
    incident: Incident, confidences: list[float], threshold: float
) -> None:
    verdicts = [
        Verdict(analyst=f"a{i}", incident_id="inc-1", is_threat=True, confidence=c)
        for i, c in enumerate(confidences)
    ]
    silent = Verdict(analyst="silent", incident_id="inc-1", status=VerdictStatus.ABSTAINED)
    policy = _policy("weighted", threshold)
    before, after = (
        decide(incident, verdicts, policy),
        decide(incident, [*verdicts, silent], policy),
    )
    assert before.confidence is not None and after.confidence is not None
    assert after.confidence <= before.confidence
