"""Claim verification, one check at a time: each test fails when its single check is removed.

A verdict that passes every check is the control; each case changes exactly one claim.
"""

from __future__ import annotations

import pytest

from siem_consensus.consensus import UnanimousPolicy, decide, verify_verdict
from siem_consensus.models import Incident, Outcome, Severity, Verdict, VerdictStatus

CASE = Incident(
    id="inc-1",
    detector="firewall",
    kind="port_scan",
    title="t",
    severity=Severity.MEDIUM,
    score=0.6,
    evidence_event_ids=("fw.log:1", "fw.log:2"),
)
GOOD = Verdict(
    analyst="a",
    incident_id="inc-1",
    is_threat=True,
    confidence=0.9,
    attack_techniques=("T1046", "T1595.001"),
    evidence_event_ids=("fw.log:1",),
)

FAULTS = {
    "unknown event ids": (
        {"evidence_event_ids": ("fw.log:1", "other.log:7")},
        "cites event ids not in the incident: other.log:7",
    ),
    "unknown ATT&CK ids": (
        {"attack_techniques": ("T1046", "T9999")},
        "unknown ATT&CK technique ids: T9999",
    ),
    "verdict about another incident": (
        {"incident_id": "inc-2"},
        "verdict is about 'inc-2', not 'inc-1'",
    ),
    "no threat judgement": ({"is_threat": None}, "no threat judgement given"),
}


def test_the_control_verdict_passes_every_check() -> None:
    assert verify_verdict(GOOD, CASE) == GOOD


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_each_check_alone_makes_the_verdict_an_abstention(fault: str) -> None:
    change, problem = FAULTS[fault]
    checked = verify_verdict(GOOD.model_copy(update=change), CASE)
    assert checked.status is VerdictStatus.UNVERIFIED
    assert checked.problems == (problem,)
    assert not checked.counts


@pytest.mark.parametrize("fault", sorted(set(FAULTS) - {"verdict about another incident"}))
def test_a_failed_check_keeps_an_agreeing_vote_from_alerting(fault: str) -> None:
    change, problem = FAULTS[fault]
    other = GOOD.model_copy(update={"analyst": "b"})
    assert decide(CASE, [GOOD, other], UnanimousPolicy(0.8)).outcome is Outcome.ALERT
    decision = decide(CASE, [GOOD.model_copy(update=change), other], UnanimousPolicy(0.8))
    assert decision.outcome is Outcome.NEEDS_REVIEW and not decision.degraded
    assert f"a abstained: {problem}" in decision.reasons


def test_decide_treats_a_verdict_about_another_incident_as_a_failure() -> None:
    """Before verification, ``decide`` binds verdicts to the case: a failure, not an
    abstention (verify_verdict's own check covers direct callers of the policy)."""
    liar = GOOD.model_copy(update={"incident_id": "inc-2"})
    decision = decide(CASE, [liar, GOOD.model_copy(update={"analyst": "b"})], UnanimousPolicy(0.8))
    assert decision.verdicts[0].status is VerdictStatus.ERROR
    assert decision.verdicts[0].error == "verdict about inc-2, asked about inc-1"
    assert decision.outcome is Outcome.NEEDS_REVIEW and decision.degraded


def test_every_problem_is_listed_and_extra_checks_run_last() -> None:
    def no_t1595(verdict: Verdict, incident: Incident) -> list[str]:
        return [f"{t} not plausible here" for t in verdict.attack_techniques if "T1595" in t]

    faulty = GOOD.model_copy(update={"evidence_event_ids": ("x:1",), "attack_techniques": ("T0",)})
    assert verify_verdict(faulty, CASE, [no_t1595]).problems == (
        "cites event ids not in the incident: x:1",
        "unknown ATT&CK technique ids: T0",
    )
    checked = verify_verdict(GOOD, CASE, [no_t1595])
    assert checked.status is VerdictStatus.UNVERIFIED
    assert checked.problems == ("T1595.001 not plausible here",)


@pytest.mark.parametrize(
    "status", [VerdictStatus.ABSTAINED, VerdictStatus.ERROR, VerdictStatus.SKIPPED]
)
def test_only_ok_verdicts_are_verified(status: VerdictStatus) -> None:
    """A verdict that is not ``ok`` keeps its status: an error is never softened into an
    abstention, a skipped analyst stays out of the vote."""
    quiet = GOOD.model_copy(update={"status": status, "evidence_event_ids": ("x:1",)})
    assert verify_verdict(quiet, CASE) is quiet
