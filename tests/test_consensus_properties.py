"""Property tests of the consensus invariants (DESIGN.md, "Consensus semantics").

Policies are drawn with their parameters (weights, quorum, thresholds including 0 and 1);
verdicts with every fault an analyst can produce (consensus_strategies.py).
"""

from __future__ import annotations

import random
from fractions import Fraction

from consensus_strategies import (
    INCIDENT,
    NEW,
    confidences,
    incidents,
    policies,
    thresholds,
    verdict,
    verdict_lists,
)
from hypothesis import assume, given
from hypothesis import strategies as st

from siem_consensus.consensus import (
    ConsensusPolicy,
    MajorityPolicy,
    UnanimousPolicy,
    WeightedPolicy,
    decide,
)
from siem_consensus.models import Decision, Incident, Outcome, Severity, Verdict, VerdictStatus

RANK = {Outcome.DISMISSED: 0, Outcome.NEEDS_REVIEW: 1, Outcome.ALERT: 2}


def _same_policy(policy: ConsensusPolicy, threshold: float) -> ConsensusPolicy:
    if isinstance(policy, MajorityPolicy):
        return MajorityPolicy(threshold, policy.quorum)
    if isinstance(policy, WeightedPolicy):
        return WeightedPolicy(threshold, policy.weights)
    return UnanimousPolicy(threshold)


def _failed(verdicts: list[Verdict]) -> bool:
    """Whether an analyst failed: an error, or a verdict about another incident."""
    return any(
        v.status is VerdictStatus.ERROR or v.incident_id not in ("", INCIDENT) for v in verdicts
    )


@given(incidents(), verdict_lists(), policies())
def test_any_failure_means_degraded_review(
    incident: Incident, verdicts: list[Verdict], policy: ConsensusPolicy
) -> None:
    decision = decide(incident, verdicts, policy)
    assert decision.degraded == _failed(verdicts)
    if decision.degraded:
        assert decision.outcome is Outcome.NEEDS_REVIEW


@given(incidents(), verdict_lists(), policies())
def test_a_verdict_about_another_incident_is_an_error(
    incident: Incident, verdicts: list[Verdict], policy: ConsensusPolicy
) -> None:
    decision = decide(incident, verdicts, policy)
    for given_, bound in zip(verdicts, decision.verdicts, strict=True):
        assert bound.incident_id == INCIDENT
        if given_.incident_id not in ("", INCIDENT):
            assert bound.status is VerdictStatus.ERROR and bound.is_threat is None
            assert bound.error == f"verdict about {given_.incident_id}, asked about {INCIDENT}"


@given(incidents(st.sampled_from([Severity.HIGH, Severity.CRITICAL])), verdict_lists(), policies())
def test_high_severity_is_never_dismissed(
    incident: Incident, verdicts: list[Verdict], policy: ConsensusPolicy
) -> None:
    assert decide(incident, verdicts, policy).outcome is not Outcome.DISMISSED


@given(incidents(), verdict_lists(min_size=2), thresholds)
def test_unanimous_never_alerts_on_disagreement(
    incident: Incident, verdicts: list[Verdict], threshold: float
) -> None:
    decision = decide(incident, verdicts, UnanimousPolicy(threshold))
    sides = {v.is_threat for v in decision.verdicts if v.counts}
    if len(sides) > 1:
        assert decision.outcome is Outcome.NEEDS_REVIEW


@given(incidents(), verdict_lists(), thresholds)
def test_unanimous_alert_means_every_analyst_asked_agreed(
    incident: Incident, verdicts: list[Verdict], threshold: float
) -> None:
    decision = decide(incident, verdicts, UnanimousPolicy(threshold))
    if decision.outcome is Outcome.ALERT:
        asked = _asked(decision)
        assert len(asked) >= 2
        assert all(v.counts and v.is_threat and v.confidence >= threshold for v in asked)


@given(incidents(), thresholds, st.data())
def test_unanimous_any_abstention_among_agreeing_analysts_means_review(
    incident: Incident, threshold: float, data: st.DataObject
) -> None:
    sure = st.floats(threshold, 1)
    agreeing = [
        data.draw(verdict(f"t{n}", VerdictStatus.OK, clean=True, is_threat=True, confidence=sure))
        for n in range(data.draw(st.integers(2, 4)))
    ]
    policy = UnanimousPolicy(threshold)
    assert decide(incident, agreeing, policy).outcome is Outcome.ALERT
    quiet = [VerdictStatus.ABSTAINED, VerdictStatus.UNVERIFIED, VerdictStatus.ERROR]
    silent = data.draw(verdict(NEW, data.draw(st.sampled_from(quiet))))
    at = data.draw(st.integers(0, len(agreeing)))
    decision = decide(incident, [*agreeing[:at], silent, *agreeing[at:]], policy)
    assert decision.outcome is Outcome.NEEDS_REVIEW


@given(incidents(), verdict_lists(), thresholds)
def test_unanimous_never_alerts_on_one_real_vote(
    incident: Incident, verdicts: list[Verdict], threshold: float
) -> None:
    decision = decide(incident, verdicts, UnanimousPolicy(threshold))
    if sum(v.counts for v in decision.verdicts) < 2:
        assert decision.outcome is not Outcome.ALERT


@given(incidents(), verdict_lists(), policies())
def test_shown_confidence_is_the_one_that_decided(
    incident: Incident, verdicts: list[Verdict], policy: ConsensusPolicy
) -> None:
    decision = decide(incident, verdicts, policy)
    counting = [v for v in decision.verdicts if v.counts]
    if decision.outcome is Outcome.ALERT:
        assert decision.confidence is not None and decision.confidence >= policy.threshold
        agreeing = sorted((v.confidence for v in counting if v.is_threat), reverse=True)
        if isinstance(policy, UnanimousPolicy):
            assert decision.confidence == min(agreeing)
        if isinstance(policy, MajorityPolicy):
            need = policy.quorum or len(_asked(decision)) // 2 + 1
            assert decision.confidence == agreeing[need - 1]
    if isinstance(policy, WeightedPolicy) and counting and decision.outcome is Outcome.ALERT:
        threat, benign = _weighted_shares(policy, decision)
        assert decision.confidence == float(threat) and threat > benign


def _asked(decision: Decision) -> list[Verdict]:
    return [v for v in decision.verdicts if v.status is not VerdictStatus.SKIPPED]


def _weighted_shares(policy: WeightedPolicy, decision: Decision) -> tuple[Fraction, Fraction]:
    """The documented formula, computed independently of the policy."""
    asked = _asked(decision)
    total = sum(Fraction(policy.weights.get(v.analyst, 1.0)) for v in asked)
    shares = []
    for side in (True, False):
        on_side = [v for v in asked if v.counts and v.is_threat is side]
        weighted = sum(
            Fraction(policy.weights.get(v.analyst, 1.0)) * Fraction(v.confidence) for v in on_side
        )
        shares.append(Fraction(weighted) / total if total else Fraction(0))
    return shares[0], shares[1]


@given(incidents(), verdict_lists(1, 3, clean=True), policies(kinds=("weighted",)), st.data())
def test_weighted_outcome_follows_the_documented_formula(
    incident: Incident, verdicts: list[Verdict], policy: WeightedPolicy, data: st.DataObject
) -> None:
    """Counting verdicts plus abstainers (abstained, unverified, skipped) with their weights."""
    quiet = [VerdictStatus.ABSTAINED, VerdictStatus.UNVERIFIED, VerdictStatus.SKIPPED]
    abstainers = [
        data.draw(verdict(name, data.draw(st.sampled_from(quiet)), failures=False))
        for name in ("a4", "a5")[: data.draw(st.integers(0, 2))]
    ]
    decision = decide(incident, [*verdicts, *abstainers], policy)
    total = sum(policy.weights.get(v.analyst, 1.0) for v in _asked(decision))
    assume(total > 0)
    threat, benign = _weighted_shares(policy, decision)
    limit = Fraction(policy.threshold)
    if threat >= limit and threat > benign:
        expected = Outcome.ALERT
    elif benign >= limit and benign > threat and incident.severity.rank < Severity.HIGH.rank:
        expected = Outcome.DISMISSED
    else:
        expected = Outcome.NEEDS_REVIEW
    assert decision.outcome is expected
    assert decision.confidence == float(max(threat, benign))


@given(incidents(), verdict_lists(clean=True), policies(kinds=("majority",)))
def test_majority_needs_its_quorum(
    incident: Incident, verdicts: list[Verdict], policy: MajorityPolicy
) -> None:
    decision = decide(incident, verdicts, policy)
    need = policy.quorum or len(verdicts) // 2 + 1
    sure = [v for v in verdicts if v.is_threat and v.confidence >= policy.threshold]
    if decision.outcome is Outcome.ALERT:
        assert len(sure) >= need
    both = min(sum(v.is_threat is s for v in verdicts) for s in (True, False)) >= need
    if len(sure) >= need and not both:
        assert decision.outcome is Outcome.ALERT


@given(incidents(), verdict_lists(), policies(), st.data())
def test_adding_an_agreeing_verdict_never_lowers_the_outcome(
    incident: Incident, verdicts: list[Verdict], policy: ConsensusPolicy, data: st.DataObject
) -> None:
    """An agreeing verdict: ``ok``, verified, on one side, at or above the threshold."""
    side = data.draw(st.booleans())
    sure = st.floats(policy.threshold, 1)
    extra = data.draw(verdict(NEW, VerdictStatus.OK, clean=True, is_threat=side, confidence=sure))
    before = decide(incident, verdicts, policy)
    after = decide(incident, [*verdicts, extra], policy)
    if side:
        assert RANK[after.outcome] >= RANK[before.outcome]
    else:
        assert RANK[after.outcome] <= RANK[before.outcome]


@given(incidents(), verdict_lists(), policies(), st.data())
def test_a_dissenting_verdict_never_turns_review_into_a_decision(
    incident: Incident, verdicts: list[Verdict], policy: ConsensusPolicy, data: st.DataObject
) -> None:
    """Any benign verdict never creates an alert; any threat verdict never a dismissal."""
    side = data.draw(st.booleans())
    extra = data.draw(verdict(NEW, VerdictStatus.OK, clean=True, is_threat=side))
    before = decide(incident, verdicts, policy)
    after = decide(incident, [*verdicts, extra], policy)
    opposite = Outcome.DISMISSED if side else Outcome.ALERT
    if before.outcome is not opposite:
        assert after.outcome is not opposite


@given(incidents(), verdict_lists(), policies(), st.randoms(use_true_random=False))
def test_outcome_is_invariant_under_verdict_order(
    incident: Incident, verdicts: list[Verdict], policy: ConsensusPolicy, rng: random.Random
) -> None:
    shuffled = list(verdicts)
    rng.shuffle(shuffled)
    first, second = decide(incident, verdicts, policy), decide(incident, shuffled, policy)
    assert (first.outcome, first.confidence, first.degraded, first.severity) == (
        second.outcome,
        second.confidence,
        second.degraded,
        second.severity,
    )
    assert set(first.recommended_actions) == set(second.recommended_actions)
    assert sorted(first.reasons) == sorted(second.reasons)


@given(
    incidents(),
    verdict_lists(),
    policies(),
    st.sampled_from([VerdictStatus.ABSTAINED, VerdictStatus.UNVERIFIED, VerdictStatus.ERROR]),
)
def test_abstention_never_creates_an_alert(
    incident: Incident, verdicts: list[Verdict], policy: ConsensusPolicy, status: VerdictStatus
) -> None:
    extra = Verdict(
        analyst=NEW,
        incident_id=INCIDENT,
        status=status,
        is_threat=True,
        confidence=1.0,
        error="x" if status is VerdictStatus.ERROR else None,
    )
    if decide(incident, verdicts, policy).outcome is not Outcome.ALERT:
        assert decide(incident, [*verdicts, extra], policy).outcome is not Outcome.ALERT


@given(incidents(), verdict_lists(), policies())
def test_failures_are_never_fabricated(
    incident: Incident, verdicts: list[Verdict], policy: ConsensusPolicy
) -> None:
    decision = decide(incident, verdicts, policy)
    assert [v.analyst for v in decision.verdicts] == [v.analyst for v in verdicts]
    for after in decision.verdicts:
        if after.status is VerdictStatus.ERROR:
            assert after.is_threat is None and after.confidence == 0.0
            assert not (after.attack_techniques or after.evidence_event_ids)
            assert not after.recommended_actions


@given(incidents(), verdict_lists(), policies(), thresholds)
def test_raising_the_threshold_never_adds_alerts(
    incident: Incident, verdicts: list[Verdict], policy: ConsensusPolicy, other: float
) -> None:
    low, high = sorted((policy.threshold, other))
    if decide(incident, verdicts, _same_policy(policy, high)).outcome is Outcome.ALERT:
        assert decide(incident, verdicts, _same_policy(policy, low)).outcome is Outcome.ALERT


@given(incidents(), st.lists(confidences, min_size=2, max_size=5), thresholds)
def test_unanimous_agreement_alerts_exactly_at_the_minimum(
    incident: Incident, values: list[float], threshold: float
) -> None:
    verdicts = [
        Verdict(analyst=f"a{i}", incident_id=INCIDENT, is_threat=True, confidence=c)
        for i, c in enumerate(values)
    ]
    decision = decide(incident, verdicts, UnanimousPolicy(threshold))
    assert decision.confidence == min(values)
    expected = Outcome.ALERT if min(values) >= threshold else Outcome.NEEDS_REVIEW
    assert decision.outcome is expected


@given(incidents(), verdict_lists(clean=True), policies(), st.data())
def test_severity_is_raised_only_by_what_every_agreeing_analyst_asserts(
    incident: Incident, verdicts: list[Verdict], policy: ConsensusPolicy, data: st.DataObject
) -> None:
    sure = st.floats(policy.threshold, 1)
    threats = [
        data.draw(verdict(f"t{n}", VerdictStatus.OK, clean=True, is_threat=True, confidence=sure))
        for n in range(data.draw(st.integers(2, 3)))
    ]
    decision = decide(incident, [*verdicts, *threats], policy)
    assert decision.severity is not None
    claimed = [v.severity for v in decision.verdicts if v.is_threat and v.severity is not None]
    if decision.outcome is not Outcome.ALERT or not claimed:
        assert decision.severity is incident.severity
    else:
        agreed = min(s.rank for s in claimed)
        assert decision.severity.rank == max(agreed, incident.severity.rank)
