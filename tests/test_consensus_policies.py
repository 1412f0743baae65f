"""Every documented branch of each policy, by example; the table of docs/consensus.md is
checked row by row against the code (the table is written by hand, not generated)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from siem_consensus import ConfigError, build_ids_graph
from siem_consensus.consensus import (
    ConsensusPolicy,
    MajorityPolicy,
    UnanimousPolicy,
    WeightedPolicy,
    decide,
    get_policy,
)
from siem_consensus.models import Decision, Incident, Outcome, Severity, Verdict, VerdictStatus

DOC = Path(__file__).resolve().parent.parent / "docs" / "consensus.md"
_ROW = re.compile(r"^\| ([23]) \| (\w+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$")
_CELL = re.compile(r"^(alert|review|dismissed)( degraded)?(?: (\d\.\d+))?$")
_OUTCOMES = {"alert": Outcome.ALERT, "review": Outcome.NEEDS_REVIEW, "dismissed": Outcome.DISMISSED}


def _case(severity: Severity = Severity.MEDIUM) -> Incident:
    return Incident(id="inc", detector="d", kind="k", title="t", severity=severity, score=0.5)


def _verdict(n: int, spec: str) -> Verdict:
    name = f"a{n}"
    if spec in ("abstain", "error", "skipped"):
        status = {
            "abstain": VerdictStatus.ABSTAINED,
            "error": VerdictStatus.ERROR,
            "skipped": VerdictStatus.SKIPPED,
        }[spec]
        return Verdict(analyst=name, incident_id="inc", status=status, error=spec)
    side, confidence = spec.split()
    return Verdict(
        analyst=name, incident_id="inc", is_threat=side == "threat", confidence=float(confidence)
    )


def _table() -> list[tuple[str, ...]]:
    rows = [m.groups() for line in DOC.read_text().splitlines() if (m := _ROW.match(line))]
    assert len(rows) >= 12, "the two-and-three-analysts table is missing from docs/consensus.md"
    return [tuple(cell.strip() for cell in row) for row in rows]


@pytest.mark.parametrize("row", _table(), ids=lambda row: f"{row[1]}: {row[2]}")
def test_the_documented_table_matches_the_code(row: tuple[str, ...]) -> None:
    count, severity, specs, *cells = row
    verdicts = [_verdict(n, spec.strip()) for n, spec in enumerate(specs.split(","))]
    assert len(verdicts) == int(count)
    names = [v.analyst for v in verdicts]
    for policy, cell in zip(("unanimous", "majority", "weighted"), cells, strict=True):
        match = _CELL.match(cell)
        assert match, f"unreadable cell {cell!r}"
        outcome, degraded, shown = match.groups()
        decision = decide(
            _case(Severity(severity)), verdicts, get_policy(policy, 0.8), analysts=names
        )
        assert decision.outcome is _OUTCOMES[outcome], (policy, decision.reasons)
        assert decision.degraded == bool(degraded), policy
        if shown is None:
            assert decision.confidence is None, policy
        else:
            digits = len(shown.split(".")[1])
            assert decision.confidence == pytest.approx(float(shown), abs=0.5 * 10**-digits)


def _decide(policy: ConsensusPolicy, *specs: str, severity: Severity = Severity.MEDIUM) -> Decision:
    return decide(_case(severity), [_verdict(n, s) for n, s in enumerate(specs)], policy)


def test_weighted_alerts_only_when_the_threat_side_also_outweighs_the_benign_side() -> None:
    # threat 0.35 vs benign 0.65 at threshold 0.3: both reach it, benign is larger
    decision = _decide(WeightedPolicy(0.3), "threat 0.7", "benign 0.65", "benign 0.65")
    assert decision.outcome is Outcome.DISMISSED
    assert decision.confidence == pytest.approx(1.3 / 3)
    tie = _decide(WeightedPolicy(0.3), "threat 0.9", "benign 0.9")
    assert tie.outcome is Outcome.NEEDS_REVIEW and tie.confidence == pytest.approx(0.45)


def test_weighted_threshold_zero_is_the_larger_share() -> None:
    two_benign = _decide(WeightedPolicy(0.0), "benign 0.9", "benign 0.9")
    assert two_benign.outcome is Outcome.DISMISSED and two_benign.confidence == 0.9
    assert _decide(WeightedPolicy(0.0), "threat 0.2", "benign 0.1").outcome is Outcome.ALERT
    nothing = _decide(WeightedPolicy(0.0), "threat 0.0", "abstain")
    assert nothing.outcome is Outcome.NEEDS_REVIEW


def test_weighted_threshold_one_needs_every_weighted_analyst_fully_sure() -> None:
    assert _decide(WeightedPolicy(1.0), "threat 1.0", "threat 1.0").outcome is Outcome.ALERT
    assert _decide(WeightedPolicy(1.0), "threat 1.0", "threat 0.99").outcome is (
        Outcome.NEEDS_REVIEW
    )
    assert _decide(WeightedPolicy(1.0), "threat 1.0", "abstain").outcome is (Outcome.NEEDS_REVIEW)
    muted = WeightedPolicy(1.0, weights={"a1": 0.0})  # the silent analyst weighs nothing
    assert _decide(muted, "threat 1.0", "abstain").outcome is Outcome.ALERT


def test_weights_change_the_outcome_and_abstainers_keep_their_weight() -> None:
    specs = ("threat 0.9", "benign 0.9", "abstain")
    assert _decide(WeightedPolicy(0.5), *specs).outcome is Outcome.NEEDS_REVIEW
    trusted = WeightedPolicy(0.5, weights={"a0": 3.0})
    assert _decide(trusted, *specs).confidence == pytest.approx(2.7 / 5)
    assert _decide(trusted, *specs).outcome is Outcome.ALERT
    heavy_silence = WeightedPolicy(0.5, weights={"a0": 3.0, "a2": 3.0})
    assert _decide(heavy_silence, *specs).confidence == pytest.approx(2.7 / 7)
    assert _decide(heavy_silence, *specs).outcome is Outcome.NEEDS_REVIEW


def test_majority_quorum_is_honoured() -> None:
    specs = ("threat 0.9", "abstain", "abstain")
    assert _decide(MajorityPolicy(0.8), *specs).outcome is Outcome.NEEDS_REVIEW
    assert _decide(MajorityPolicy(0.8, quorum=1), *specs).outcome is Outcome.ALERT
    strict = MajorityPolicy(0.8, quorum=3)
    assert _decide(strict, "threat 0.9", "threat 0.9", "benign 0.9").outcome is (
        Outcome.NEEDS_REVIEW
    )
    both = _decide(MajorityPolicy(0.8, quorum=1), "threat 0.9", "benign 0.9")
    assert both.outcome is Outcome.NEEDS_REVIEW and both.confidence is None
    assert "conflicting analysis: both sides reached the quorum" in both.reasons


def test_majority_confidence_is_the_quorum_th_highest() -> None:
    four = ("threat 0.95", "threat 0.9", "threat 0.85", "threat 0.7")  # quorum 3 of 4
    decision = _decide(MajorityPolicy(0.8), *four)
    assert decision.outcome is Outcome.ALERT and decision.confidence == 0.85
    assert decision.reasons == ("majority: threat at 0.85 >= threshold 0.80",)
    low = _decide(MajorityPolicy(0.8), "threat 0.95", "threat 0.75", "threat 0.7")
    assert low.outcome is Outcome.NEEDS_REVIEW and low.confidence == 0.75
    assert "majority: combined confidence 0.75 below threshold 0.80" in low.reasons
    none = _decide(MajorityPolicy(0.8), "threat 0.95", "benign 0.9", "abstain")
    assert none.confidence is None
    assert "no side reached a quorum of 2 of 3 analysts" in none.reasons


def test_unanimous_confidence_is_the_lowest_agreeing_one() -> None:
    decision = _decide(UnanimousPolicy(0.8), "threat 0.95", "threat 0.85")
    assert decision.outcome is Outcome.ALERT and decision.confidence == 0.85
    assert "unanimous: threat at 0.85 >= threshold 0.80" in decision.reasons


def test_review_shows_the_side_that_came_closest() -> None:
    decision = _decide(WeightedPolicy(0.8), "threat 0.3", "benign 0.9", "abstain")
    assert decision.outcome is Outcome.NEEDS_REVIEW
    assert decision.confidence == pytest.approx(0.3)  # benign 0.9 / 3, not threat 0.1
    assert (
        "weighted: threat 0.10 vs benign 0.30: no side reaches the threshold 0.80 and "
        "outweighs the other" in decision.reasons
    )


def test_reasons_name_every_abstainer_failure_and_skipped_analyst() -> None:
    verdicts = [
        Verdict(analyst="sure", incident_id="inc", is_threat=True, confidence=0.9),
        Verdict(analyst="shy", incident_id="inc", status=VerdictStatus.ABSTAINED),
        Verdict(
            analyst="unsure", incident_id="inc", status=VerdictStatus.ABSTAINED, rationale="why"
        ),
        Verdict(analyst="broken", incident_id="inc", status=VerdictStatus.ERROR, error="boom"),
        Verdict(analyst="silent", incident_id="inc", status=VerdictStatus.ERROR),
        Verdict(analyst="cheap", incident_id="inc", status=VerdictStatus.SKIPPED, rationale="low"),
    ]
    reasons = decide(_case(), verdicts, UnanimousPolicy(0.8)).reasons
    assert reasons == (
        "only 1 of 5 analysts gave a usable verdict",
        "shy abstained: abstained",
        "unsure abstained: why",
        "cheap not asked: low",
        "broken failed: boom",
        "silent failed: unknown error",
        "analyst failure: a human must review (degraded)",
    )


def test_a_dismissal_recommends_only_what_the_benign_side_recommends() -> None:
    verdicts = [
        Verdict(
            analyst=f"a{n}",
            incident_id="inc",
            is_threat=side,
            confidence=0.9,
            recommended_actions=(action,),
            severity=Severity.CRITICAL,
        )
        for n, (side, action) in enumerate([(True, "block"), (False, "close"), (False, "watch")])
    ]
    decision = decide(_case(), verdicts, WeightedPolicy(0.5))
    assert decision.outcome is Outcome.DISMISSED
    assert decision.recommended_actions == ("close", "watch")
    assert decision.severity is Severity.MEDIUM


def test_unanimous_needs_two_voices_to_alert_but_one_may_dismiss() -> None:
    alone = _decide(UnanimousPolicy(0.8), "threat 0.99", "skipped")
    assert alone.outcome is Outcome.NEEDS_REVIEW and alone.confidence is None
    assert "unanimous: an alert needs at least two agreeing analysts" in alone.reasons
    assert _decide(UnanimousPolicy(0.8), "benign 0.9", "skipped").outcome is Outcome.DISMISSED


@pytest.mark.parametrize(
    ("severities", "expected"),
    [
        ((Severity.CRITICAL, Severity.CRITICAL), Severity.CRITICAL),
        ((Severity.CRITICAL, Severity.HIGH), Severity.HIGH),
        ((Severity.CRITICAL, None), Severity.CRITICAL),
        ((Severity.LOW, Severity.INFO), Severity.MEDIUM),  # never below the detector's
        ((None, None), Severity.MEDIUM),
    ],
)
def test_alert_severity_is_raised_to_what_every_agreeing_analyst_asserts(
    severities: tuple[Severity | None, Severity | None], expected: Severity
) -> None:
    verdicts = [
        Verdict(analyst=f"a{n}", incident_id="inc", is_threat=True, confidence=0.9, severity=s)
        for n, s in enumerate(severities)
    ]
    decision = decide(_case(), verdicts, UnanimousPolicy(0.8))
    assert decision.outcome is Outcome.ALERT and decision.severity is expected


def test_severity_is_not_raised_without_an_alert() -> None:
    benign = [
        Verdict(analyst=f"a{n}", incident_id="inc", is_threat=s, confidence=0.9, severity=sev)
        for n, (s, sev) in enumerate([(True, Severity.CRITICAL), (False, Severity.CRITICAL)])
    ]
    assert decide(_case(), benign, UnanimousPolicy(0.8)).severity is Severity.MEDIUM


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        (MajorityPolicy(0.8, quorum=3), "quorum 3 can never be reached with 2 analysts"),
        (WeightedPolicy(0.8, weights={"claude": 2.0}), "not configured: claude"),
        (WeightedPolicy(0.8, weights={"rules": 0, "baseline": 0}), "every configured analyst"),
    ],
)
def test_settings_that_can_never_decide_are_refused_when_the_graph_is_built(
    policy: ConsensusPolicy, message: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        build_ids_graph(analysts=["rules", "baseline"], policy=policy)


def test_settings_that_can_decide_are_accepted_when_the_graph_is_built() -> None:
    build_ids_graph(analysts=["rules", "baseline"], policy=MajorityPolicy(0.8, quorum=2))
    weighted = WeightedPolicy(0.8, weights={"rules": 2.0, "baseline": 0.0})
    build_ids_graph(analysts=["rules", "baseline"], policy=weighted)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_weights_must_be_finite_and_not_negative(bad: float) -> None:
    with pytest.raises(ConfigError, match="weights must be finite numbers >= 0"):
        WeightedPolicy(0.8, weights={"rules": bad})


@pytest.mark.parametrize("bad", [-0.01, 1.01, float("nan")])
def test_thresholds_outside_zero_to_one_are_refused(bad: float) -> None:
    with pytest.raises(ConfigError, match="threshold must be between 0 and 1"):
        UnanimousPolicy(bad)


def test_quorum_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="quorum must be >= 1, got 0"):
        MajorityPolicy(0.8, quorum=0)
