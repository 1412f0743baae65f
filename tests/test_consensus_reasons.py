"""What a decision says beside its outcome: the reasons a reviewer reads, the severity and
actions it carries, and the exact boundaries of each policy's parameters (the quorum's
default, a weight's default, the deterministic floor's lowest severity, get_policy's names).

``tests/test_consensus_policies.py`` and ``tests/test_consensus_properties.py`` check the
outcomes; these check the rest of the decision, which a reviewer and the exports rely on.
"""

from __future__ import annotations

import re

import pytest

from siem_consensus import ConfigError
from siem_consensus.consensus import (
    MajorityPolicy,
    UnanimousPolicy,
    WeightedPolicy,
    bind_verdicts,
    decide,
    get_policy,
    verify_verdict,
)
from siem_consensus.models import Incident, Outcome, Severity, Usage, Verdict, VerdictStatus


def _case(severity: Severity = Severity.MEDIUM) -> Incident:
    return Incident(id="inc", detector="d", kind="k", title="t", severity=severity, score=0.5)


def _vote(name: str, is_threat: bool, confidence: float = 0.9, **extra: object) -> Verdict:
    return Verdict(
        analyst=name, incident_id="inc", is_threat=is_threat, confidence=confidence, **extra
    )


def _status(name: str, status: VerdictStatus, **extra: object) -> Verdict:
    return Verdict(analyst=name, incident_id="inc", status=status, **extra)


# -- reasons ----------------------------------------------------------------------------------


def test_an_alert_says_which_side_won_and_at_what_confidence() -> None:
    decision = decide(_case(), [_vote("a", True), _vote("b", True, 0.85)], UnanimousPolicy(0.8))
    assert decision.outcome is Outcome.ALERT
    assert decision.reasons == ("unanimous: threat at 0.85 >= threshold 0.80",)
    assert decision.confidence == pytest.approx(0.85)
    assert (decision.policy, decision.threshold) == ("unanimous", 0.8)


def test_a_dismissal_says_the_benign_side_won() -> None:
    decision = decide(_case(), [_vote("a", False, 0.9)], MajorityPolicy(0.8))
    assert decision.outcome is Outcome.DISMISSED
    assert decision.reasons == ("majority: benign at 0.90 >= threshold 0.80",)


def test_no_analyst_asked_is_review_with_no_confidence() -> None:
    skipped = _status("llm", VerdictStatus.SKIPPED, rationale="below the pre-filter score")
    decision = decide(_case(), [skipped], WeightedPolicy(0.8))
    assert decision.outcome is Outcome.NEEDS_REVIEW
    assert decision.confidence is None and decision.degraded is False
    assert decision.reasons == (
        "llm not asked: below the pre-filter score",
        "no analyst judged this incident",
    )


def test_two_sides_below_the_threshold_show_the_larger() -> None:
    decision = decide(
        _case(), [_vote("a", True, 0.6), _vote("b", False, 0.7)], MajorityPolicy(0.5, quorum=1)
    )
    assert decision.outcome is Outcome.NEEDS_REVIEW
    assert decision.confidence is None  # both reach the quorum: conflicting
    weighted = decide(_case(), [_vote("a", True, 0.6), _vote("b", False, 0.7)], WeightedPolicy())
    assert weighted.outcome is Outcome.NEEDS_REVIEW
    assert weighted.confidence == pytest.approx(0.35)  # max(0.3, 0.35)
    assert weighted.reasons == (
        "weighted: threat 0.30 vs benign 0.35: no side reaches the threshold 0.80 and "
        "outweighs the other",
    )


def test_one_side_below_the_threshold_shows_its_confidence() -> None:
    decision = decide(_case(), [_vote("a", True, 0.6), _vote("b", True, 0.7)], UnanimousPolicy())
    assert decision.outcome is Outcome.NEEDS_REVIEW
    assert decision.confidence == pytest.approx(0.6)
    assert decision.reasons == ("unanimous: combined confidence 0.60 below threshold 0.80",)


def test_abstentions_and_failures_are_named_with_their_reason() -> None:
    verdicts = [
        _vote("a", True),
        _status("b", VerdictStatus.ABSTAINED, rationale="no rule for this kind"),
        _status("c", VerdictStatus.ABSTAINED),
        _status("d", VerdictStatus.UNVERIFIED, is_threat=True, problems=("p1", "p2")),
        _status("e", VerdictStatus.ERROR, error="timeout after 120 s"),
        _status("f", VerdictStatus.ERROR),
    ]
    decision = decide(_case(), verdicts, MajorityPolicy(0.8))
    assert decision.outcome is Outcome.NEEDS_REVIEW and decision.degraded is True
    assert decision.reasons == (
        "no side reached a quorum of 4 of 6 analysts",
        "b abstained: no rule for this kind",
        "c abstained: abstained",
        "d abstained: p1; p2",
        "e failed: timeout after 120 s",
        "f failed: unknown error",
        "analyst failure: a human must review (degraded)",
    )


def test_the_deterministic_floor_applies_from_high() -> None:
    votes = [_vote("a", False, 0.95), _vote("b", False, 0.95)]
    medium = decide(_case(Severity.MEDIUM), votes, UnanimousPolicy())
    assert medium.outcome is Outcome.DISMISSED
    high = decide(_case(Severity.HIGH), votes, UnanimousPolicy())
    assert high.outcome is Outcome.NEEDS_REVIEW
    assert high.reasons[-1] == (
        "deterministic floor: a high detection cannot be dismissed by analysts"
    )
    assert high.confidence == pytest.approx(0.95)  # what the analysts said, still shown


def test_unanimous_reasons() -> None:
    split = decide(_case(), [_vote("a", True), _vote("b", False)], UnanimousPolicy())
    assert split.reasons == ("conflicting analysis - manual investigation required",)
    partial = decide(
        _case(), [_vote("a", True), _status("b", VerdictStatus.ABSTAINED)], UnanimousPolicy()
    )
    assert partial.reasons[0] == "only 1 of 2 analysts gave a usable verdict"
    alone = decide(_case(), [_vote("a", True)], UnanimousPolicy())
    assert alone.reasons == ("unanimous: an alert needs at least two agreeing analysts",)
    assert alone.outcome is Outcome.NEEDS_REVIEW
    benign_alone = decide(_case(), [_vote("a", False)], UnanimousPolicy())
    assert benign_alone.outcome is Outcome.DISMISSED  # one voice may dismiss a medium


def test_weighted_with_every_weight_zero_says_so() -> None:
    policy = WeightedPolicy(0.5, weights={"a": 0, "b": 0})
    decision = decide(_case(), [_vote("a", True), _vote("b", True)], policy)
    assert decision.outcome is Outcome.NEEDS_REVIEW
    assert decision.reasons == ("weighted: every analyst asked has weight 0",)


# -- severity and actions ---------------------------------------------------------------------


def test_the_decision_severity_is_what_every_agreeing_analyst_asserts() -> None:
    votes = [
        _vote("a", True, severity=Severity.CRITICAL),
        _vote("b", True, severity=Severity.HIGH),
        _vote("c", False, severity=Severity.CRITICAL),  # not agreeing with the alert
    ]
    decision = decide(_case(Severity.LOW), votes, MajorityPolicy(0.8))
    assert decision.outcome is Outcome.ALERT
    assert decision.severity is Severity.HIGH  # the least any agreeing analyst claims


def test_analysts_never_lower_the_detector_severity() -> None:
    votes = [_vote("a", True, severity=Severity.LOW), _vote("b", True, severity=None)]
    decision = decide(_case(Severity.MEDIUM), votes, UnanimousPolicy())
    assert decision.severity is Severity.MEDIUM
    same = decide(
        _case(Severity.HIGH), [_vote("a", True, severity=Severity.HIGH)] * 2, UnanimousPolicy()
    )
    assert same.severity is Severity.HIGH


def test_a_review_keeps_the_detector_severity_and_recommends_nothing() -> None:
    votes = [
        _vote("a", True, severity=Severity.CRITICAL, recommended_actions=("block",)),
        _vote("b", False, recommended_actions=("ignore",)),
    ]
    decision = decide(_case(Severity.LOW), votes, UnanimousPolicy())
    assert decision.outcome is Outcome.NEEDS_REVIEW
    assert decision.severity is Severity.LOW and decision.recommended_actions == ()


def test_actions_of_the_agreeing_side_in_order_without_repeats() -> None:
    votes = [
        _vote("a", False, recommended_actions=("tune", "close")),
        _vote("b", False, recommended_actions=("close", "note")),
        _vote("c", True, recommended_actions=("block",)),
    ]
    decision = decide(_case(), votes, MajorityPolicy(0.8))
    assert decision.outcome is Outcome.DISMISSED
    assert decision.recommended_actions == ("tune", "close", "note")
    assert decision.severity is Severity.MEDIUM  # a dismissal claims no threat severity


# -- parameters -------------------------------------------------------------------------------


def test_the_default_quorum_is_more_than_half_of_those_asked() -> None:
    three = [_vote("a", True), _vote("b", True), _vote("c", True)]
    abstain = _status("d", VerdictStatus.ABSTAINED)
    assert decide(_case(), [*three, abstain], MajorityPolicy()).outcome is Outcome.ALERT
    two = decide(
        _case(),
        [*three[:2], abstain, abstain.model_copy(update={"analyst": "e"})],
        MajorityPolicy(),
    )
    assert two.outcome is Outcome.NEEDS_REVIEW
    assert "no side reached a quorum of 3 of 4 analysts" in two.reasons


def test_a_quorum_as_large_as_the_analysts_is_allowed() -> None:
    MajorityPolicy(0.8, quorum=2).check_analysts(["a", "b"])
    MajorityPolicy(0.8, quorum=1)
    MajorityPolicy(0.8).check_analysts([])


def test_an_unreachable_quorum_names_the_analysts() -> None:
    with pytest.raises(ConfigError) as info:
        MajorityPolicy(0.8, quorum=3).check_analysts(["rules", "baseline"])
    assert str(info.value) == (
        "quorum 3 can never be reached with 2 analysts (rules, baseline); use a quorum of at most 2"
    )


def test_an_analyst_without_a_weight_weighs_one() -> None:
    policy = WeightedPolicy(0.5, weights={"b": 3})
    assert policy.weight("a") == 1.0 and policy.weight("b") == 3
    # a alone at 1.0 against b: share 1 / 4 = 0.25, b's 3 x 0.6 / 4 = 0.45
    decision = decide(_case(), [_vote("a", True, 1.0), _vote("b", False, 0.6)], policy)
    assert decision.outcome is Outcome.NEEDS_REVIEW
    assert decision.confidence == pytest.approx(0.45)


def test_weights_may_be_zero_but_not_all_of_them() -> None:
    WeightedPolicy(0.8, weights={"a": 0.0, "b": 1.0}).check_analysts(["a", "b"])
    WeightedPolicy(0.8).check_analysts([])
    with pytest.raises(
        ConfigError, match="^every configured analyst has weight 0: nothing could decide$"
    ):
        WeightedPolicy(0.8, weights={"a": 0.0}).check_analysts(["a"])
    with pytest.raises(
        ConfigError,
        match=re.escape(
            "weights name analysts that are not configured: x, y; configured analysts are: a, b"
        ),
    ):
        WeightedPolicy(0.8, weights={"y": 1, "x": 2}).check_analysts(["a", "b"])


@pytest.mark.parametrize("weight", [float("nan"), float("inf"), -0.1])
def test_weights_must_be_finite_and_not_negative(weight: float) -> None:
    with pytest.raises(ConfigError, match=re.escape("weights must be finite numbers >= 0")):
        WeightedPolicy(0.8, weights={"a": 1.0, "b": weight})


@pytest.mark.parametrize("threshold", [0.0, 1.0])
def test_thresholds_zero_and_one_are_allowed(threshold: float) -> None:
    assert UnanimousPolicy(threshold).threshold == threshold


@pytest.mark.parametrize("threshold", [-0.01, 1.01, float("nan")])
def test_thresholds_outside_zero_to_one_are_refused(threshold: float) -> None:
    with pytest.raises(ConfigError, match=f"threshold must be between 0 and 1, got {threshold}"):
        MajorityPolicy(threshold)


def test_get_policy_by_name_alias_or_instance() -> None:
    majority = get_policy("quorum", 0.6)
    assert isinstance(majority, MajorityPolicy) and majority.threshold == 0.6
    assert majority.quorum is None
    weighted = get_policy("weighted", 0.3)
    assert isinstance(weighted, WeightedPolicy) and weighted.threshold == 0.3
    assert isinstance(get_policy("unanimous"), UnanimousPolicy)
    assert get_policy("majority").threshold == 0.8
    mine = WeightedPolicy(0.1)
    assert get_policy(mine, 0.9) is mine
    with pytest.raises(
        ConfigError,
        match=re.escape("unknown policy 'vote'; valid policies are: majority, unanimous, weighted"),
    ):
        get_policy("vote")


# -- binding and verification -----------------------------------------------------------------


def test_at_most_five_unknown_ids_and_techniques_are_named() -> None:
    case = Incident(
        id="inc",
        detector="d",
        kind="k",
        title="t",
        severity=Severity.LOW,
        score=0.1,
        evidence_event_ids=("e:1",),
    )
    cited = tuple(f"x:{n}" for n in range(7))
    invented = tuple(f"T99{n}" for n in range(10, 17))
    verdict = _vote("a", True, evidence_event_ids=cited, attack_techniques=invented)
    checked = verify_verdict(verdict, case)
    assert checked.problems == (
        "cites event ids not in the incident: x:0, x:1, x:2, x:3, x:4",
        "unknown ATT&CK technique ids: T9910, T9911, T9912, T9913, T9914",
    )


def test_a_verdict_without_an_incident_id_is_about_the_incident_asked() -> None:
    anonymous = Verdict(analyst="a", is_threat=True, confidence=0.9)
    [bound] = bind_verdicts(_case(), [anonymous])
    assert bound.incident_id == "inc" and bound.status is VerdictStatus.OK
    assert bind_verdicts(_case(), [bound])[0] is bound


def test_an_error_verdict_keeps_what_the_wrong_answer_cost() -> None:
    usage = Usage(calls=1, input_tokens=10, output_tokens=5, cost_usd=0.01)
    wrong = _vote("a", True, model="m1", usage=usage, latency_s=1.5).model_copy(
        update={"incident_id": "other"}
    )
    [bound] = bind_verdicts(_case(), [wrong])
    assert bound.status is VerdictStatus.ERROR
    assert (bound.model, bound.usage, bound.latency_s) == ("m1", usage, 1.5)
    assert bound.error == "verdict about other, asked about inc"
    [missing] = bind_verdicts(_case(), [], analysts=["a"])
    assert (missing.model, missing.usage, missing.latency_s) == (None, None, None)
    assert missing.incident_id == "inc" and missing.analyst == "a"


def test_unconfigured_analysts_follow_the_configured_ones_by_name() -> None:
    bound = bind_verdicts(_case(), [_vote("z", True), _vote("c", True), _vote("a", True)], ["a"])
    assert [(v.analyst, v.status) for v in bound] == [
        ("a", VerdictStatus.OK),
        ("c", VerdictStatus.ERROR),
        ("z", VerdictStatus.ERROR),
    ]
