"""Every threshold of the embedded analysts, on both sides of the line.

The numbers are written out (19 and 20 hosts, not ``SWEEP_MIN_HOSTS - 1``), so changing a
threshold, or the comparison, fails a test here.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from siem_consensus.analysts import BaselineAnalyst, RulesAnalyst, run_analyst
from siem_consensus.consensus import decide, get_policy
from siem_consensus.models import Incident, Outcome, Severity, Verdict, VerdictStatus

POPULATION = {
    "keys": 1000,
    "events_mean": 10.0,
    "events_std": 10.0,
    "ports_mean": 2.0,
    "ports_std": 1.0,
    "hosts_mean": 2.0,
    "hosts_std": 1.0,
    "alerts_mean": 100.0,
    "alerts_std": 100.0,
    "signatures_mean": 3.0,
    "signatures_std": 2.0,
    "stages_mean": 0.1,
    "stages_std": 0.3,
    "features_mean": 0.5,
    "features_std": 0.5,
}


def incident(kind: str, detector: str = "firewall", **stats: Any) -> Incident:
    return Incident(
        id=f"{detector}-1",
        detector=detector,
        kind=kind,
        title="t",
        severity=Severity.MEDIUM,
        score=0.5,
        evidence_event_ids=("a:1",),
        stats={"population": POPULATION, **stats},
    )


def rules(case: Incident) -> Verdict:
    verdict = asyncio.run(run_analyst(RulesAnalyst(), case))
    assert verdict.status is VerdictStatus.OK, verdict
    return verdict


def baseline(case: Incident, **options: Any) -> Verdict:
    return asyncio.run(run_analyst(BaselineAnalyst(**options), case))


# -- firewall ---------------------------------------------------------------------------


@pytest.mark.parametrize(("ports", "threat"), [(9, False), (10, True)])
def test_port_scan_from_ten_ports(ports: int, threat: bool) -> None:
    assert rules(incident("port_scan", distinct_ports=ports)).is_threat is threat


@pytest.mark.parametrize(("hosts", "threat"), [(19, False), (20, True)])
def test_sweep_from_twenty_hosts(hosts: int, threat: bool) -> None:
    assert rules(incident("network_sweep", distinct_hosts=hosts)).is_threat is threat


@pytest.mark.parametrize(("attempts", "threat"), [(49, False), (50, True)])
def test_brute_force_from_fifty_attempts(attempts: int, threat: bool) -> None:
    case = incident("brute_force", max_attempts_same_target=attempts)
    assert rules(case).is_threat is threat


def test_brute_force_confidence_grows_with_attempts() -> None:
    low = rules(incident("brute_force", max_attempts_same_target=50, internal_source=True))
    high = rules(incident("brute_force", max_attempts_same_target=800, internal_source=True))
    assert (low.confidence, high.confidence) == (0.65, 0.85)


@pytest.mark.parametrize(("deny", "confidence"), [(0.89, 0.6), (0.9, 0.64)])
def test_deny_ratio_bonus_from_ninety_percent(deny: float, confidence: float) -> None:
    case = incident("port_scan", distinct_ports=10, deny_ratio=deny, internal_source=True)
    assert rules(case).confidence == confidence


@pytest.mark.parametrize(("internal", "confidence"), [(True, 0.6), (False, 0.65)])
def test_external_source_bonus(internal: bool, confidence: float) -> None:
    case = incident("port_scan", distinct_ports=10, internal_source=internal)
    assert rules(case).confidence == confidence


@pytest.mark.parametrize(("ports", "threat"), [([53], False), ([123], False), ([8081], True)])
def test_regular_dns_and_ntp_are_expected(ports: list[int], threat: bool) -> None:
    assert rules(incident("beaconing", beacon_cv=0.05, ports=ports)).is_threat is threat


# -- IDS with sensor severities ----------------------------------------------------------


def ids(kind: str, **stats: Any) -> Incident:
    return incident(kind, "ids", **stats)


@pytest.mark.parametrize(("severity", "threat"), [(2, False), (3, True)])
def test_single_stage_is_a_threat_from_severity_three(severity: int, threat: bool) -> None:
    case = ids("single_stage", max_severity=severity, alerts=10, stages=["credential_access"])
    assert rules(case).is_threat is threat


@pytest.mark.parametrize(("severity", "threat"), [(2, False), (3, True)])
def test_flood_is_noise_up_to_severity_two(severity: int, threat: bool) -> None:
    case = ids("alert_flood", max_severity=severity, alerts=5000, distinct_signatures=1)
    assert rules(case).is_threat is threat


@pytest.mark.parametrize(
    ("stages", "threat"),
    [(["reconnaissance"], False), (["reconnaissance", "initial_access"], True)],
)
def test_campaign_from_two_stages(stages: list[str], threat: bool) -> None:
    case = ids("campaign", stages=stages, stage_count=len(stages), max_severity=4)
    assert rules(case).is_threat is threat


@pytest.mark.parametrize(("severity", "threat"), [(2, False), (3, True), (None, True)])
def test_campaign_needs_severity_three_when_the_sensor_gives_one(
    severity: int | None, threat: bool
) -> None:
    stages = ["reconnaissance", "initial_access"]
    case = ids("campaign", stages=stages, stage_count=2, max_severity=severity)
    assert rules(case).is_threat is threat


def test_a_foothold_then_escalation_alerts_under_the_ids_default() -> None:
    stages = ["reconnaissance", "initial_access", "privilege_escalation"]
    found = rules(ids("campaign", stages=stages, stage_count=3, max_severity=None))
    without = rules(ids("campaign", stages=stages[:2] + ["discovery"], stage_count=3))
    assert (found.confidence, without.confidence) == (0.8, 0.76)


def test_threat_intel_hits_raise_confidence_and_overrule_noise() -> None:
    plain = ids("single_stage", max_severity=3, alerts=10)
    listed = ids("single_stage", max_severity=3, alerts=10, intel_hits=[["1.2.3.4", "list"]])
    assert rules(listed).confidence == round(rules(plain).confidence + 0.05, 3)
    flood = {"max_severity": 1, "alerts": 5000}
    assert rules(ids("alert_flood", **flood)).is_threat is False
    assert rules(ids("alert_flood", **flood, intel_hits=[["x.biz", "list"]])).is_threat is True


@pytest.mark.parametrize(("criticality", "bonus"), [("medium", 0.0), ("high", 0.05)])
def test_asset_criticality_from_high(criticality: str, bonus: float) -> None:
    base = rules(ids("single_stage", max_severity=3, alerts=10)).confidence
    case = ids("single_stage", max_severity=3, alerts=10, asset_criticality=criticality)
    assert rules(case).confidence == round(base + bonus, 3)


# -- IDS without sensor severities (AIT-ADS) ---------------------------------------------


@pytest.mark.parametrize(
    ("steps", "windows", "threat"), [(49, 1, False), (50, 1, True), (98, 2, False), (100, 2, True)]
)
def test_login_failures_are_guessing_from_fifty_per_active_hour(
    steps: int, windows: int, threat: bool
) -> None:
    case = ids(
        "single_stage",
        stages=["credential_access"],
        attack_steps=steps,
        windows=windows,
        alerts=steps + 100,
        max_severity=None,
    )
    verdict = rules(case)
    assert verdict.is_threat is threat
    assert verdict.confidence == (0.65 if threat else 0.85)


def test_routine_login_failures_on_an_intel_list_are_a_threat() -> None:
    case = ids(
        "single_stage",
        stages=["credential_access"],
        attack_steps=6,
        windows=1,
        alerts=100,
        intel_hits=[["10.0.0.9", "list"]],
    )
    assert rules(case).is_threat is True


@pytest.mark.parametrize(
    ("signatures", "threat"),
    [
        ([["AMiner: New service_stop parameter combination", 1]], True),
        (
            [
                ["AMiner: New service_stop parameter combination", 1],
                ["Wazuh: ClamAV database update", 6],
            ],
            False,
        ),
        (
            [
                ["AMiner: New service_stop parameter combination", 1],
                ["ET POLICY GNU/Linux APT User-Agent Outbound", 5],
            ],
            False,
        ),
    ],
)
def test_a_service_stop_is_maintenance_only_beside_a_software_update(
    signatures: list[list[Any]], threat: bool
) -> None:
    case = ids(
        "single_stage",
        stages=["impact"],
        attack_steps=1,
        windows=1,
        alerts=7,
        signatures=signatures,
    )
    assert rules(case).is_threat is threat


STOP = "AMiner: New service_stop parameter combination"
UPDATE = "Wazuh: ClamAV database update"


def episode(steps: int, windows: int, *signatures: str) -> dict[str, Any]:
    return {"attack_steps": steps, "windows": windows, "signatures": list(signatures)}


@pytest.mark.parametrize(
    ("episodes", "threat"),
    [
        ([episode(1, 1, STOP, UPDATE), episode(1, 1, UPDATE, STOP)], False),
        ([episode(1, 1, STOP, UPDATE), episode(1, 1, STOP)], True),
        ([episode(1, 1, STOP), episode(1, 1, STOP)], True),
    ],
)
def test_a_recurring_service_stop_is_maintenance_only_when_every_episode_is(
    episodes: list[dict[str, Any]], threat: bool
) -> None:
    # the group's top signatures hold the update: only the episodes tell them apart
    signatures = [[STOP, 2], [UPDATE, 6]]
    case = ids("single_stage", stages=["impact"], attack_steps=2, windows=2, alerts=8,
               signatures=signatures, episodes=episodes)  # fmt: skip
    assert rules(case).is_threat is threat


@pytest.mark.parametrize(("busiest", "threat"), [(49, False), (50, True)])
def test_recurring_login_failures_are_judged_by_the_busiest_episode(
    busiest: int, threat: bool
) -> None:
    # 49 + 1 + 1 failures in 3 hours average 17 per hour; the busiest hour decides
    episodes = [episode(busiest, 1), episode(1, 1), episode(1, 1)]
    case = ids("single_stage", stages=["credential_access"], attack_steps=busiest + 2,
               windows=3, alerts=busiest + 50, episodes=episodes)  # fmt: skip
    assert rules(case).is_threat is threat


def test_one_episode_is_judged_as_the_whole_group() -> None:
    only = [episode(60, 2, STOP)]  # 30 per hour: the group's own figures decide
    case = ids("single_stage", stages=["credential_access"], attack_steps=120, windows=2,
               alerts=200, episodes=only)  # fmt: skip
    assert rules(case).is_threat is True


@pytest.mark.parametrize("stage", ["reconnaissance", "exfiltration", "privilege_escalation"])
def test_other_single_stages_without_severity_go_to_a_human(stage: str) -> None:
    verdict = rules(ids("single_stage", stages=[stage], attack_steps=5, windows=1, alerts=9))
    assert verdict.is_threat is True and verdict.confidence == 0.65


@pytest.mark.parametrize(
    ("signature", "confidence"),
    [
        ("Wazuh: Dovecot Authentication Success.", 0.85),
        ("Wazuh: PAM: Login session opened.", 0.85),
        ("Wazuh: ClamAV database update", 0.85),
        ("Suricata: Alert - SURICATA TLS invalid handshake message", 0.85),
        ("Wazuh: IDS event.", 0.85),
        ("Wazuh: Multiple IDS alerts for same id.", 0.85),
        ("AMiner: New event type.", 0.85),
        ("Suricata: Alert - ET INFO Observed DNS Query to .biz TLD", 0.7),
        ("AMiner: High entropy in DNS domain.", 0.7),
    ],
)
def test_floods_without_severity_are_routine_only_by_signature_class(
    signature: str, confidence: float
) -> None:
    case = ids("alert_flood", alerts=20_000, distinct_signatures=1, signatures=[[signature, 1]])
    verdict = rules(case)
    assert verdict.is_threat is False and verdict.confidence == confidence


@pytest.mark.parametrize(
    ("signature", "outcome"),
    [
        ("Wazuh: Dovecot Authentication Success.", Outcome.DISMISSED),
        ("Suricata: Alert - ET INFO Observed DNS Query to .biz TLD", Outcome.NEEDS_REVIEW),
    ],
)
def test_ids_default_policy_dismisses_routine_floods_and_shows_the_rest(
    signature: str, outcome: Outcome
) -> None:
    case = ids("alert_flood", alerts=20_000, distinct_signatures=1, signatures=[[signature, 1]])
    case = case.model_copy(update={"severity": Severity.LOW})
    verdicts = [rules(case), baseline(case)]
    assert decide(case, verdicts, get_policy("majority", 0.8)).outcome is outcome


# -- insider ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("features", "threat", "confidence"),
    [(["a"], False, 0.75), (["a", "b"], False, 0.6), (["a", "b", "c"], True, 0.81)],
)
def test_insider_needs_three_independent_signals(
    features: list[str], threat: bool, confidence: float
) -> None:
    verdict = rules(incident("data_exfiltration", "insider", features=features))
    assert (verdict.is_threat, verdict.confidence) == (threat, confidence)


@pytest.mark.parametrize(("ratio", "signals"), [(9.9, 2), (10, 3)])
def test_insider_volume_counts_from_ten_times_the_baseline(ratio: float, signals: int) -> None:
    verdict = rules(
        incident("data_exfiltration", "insider", features=["a", "b"], volume_ratio=ratio)
    )
    assert verdict.is_threat is (signals >= 3)


@pytest.mark.parametrize(("share", "threat"), [(0.49, False), (0.5, True)])
def test_insider_off_hours_counts_from_half(share: float, threat: bool) -> None:
    case = incident("data_exfiltration", "insider", features=["a", "b"], off_hours_share=share)
    assert rules(case).is_threat is threat


# -- baseline -----------------------------------------------------------------------------


@pytest.mark.parametrize(("ports", "threat"), [(4, False), (5, True)])
def test_baseline_threat_from_z_three(ports: int, threat: bool) -> None:
    # ports mean 2, std 1: 4 ports is z = 2, 5 ports z = 3
    assert baseline(incident("port_scan", distinct_ports=ports)).is_threat is threat


@pytest.mark.parametrize(("ports", "confidence"), [(3, 0.85), (4, 0.7), (4.5, 0.6), (5, 0.8)])
def test_baseline_confidence_ladder(ports: float, confidence: float) -> None:
    # z = 1 ordinary (0.85), z = 2 (0.7), z = 2.5 (0.6), z = 3 on the line (0.8)
    assert baseline(incident("port_scan", distinct_ports=ports)).confidence == confidence


@pytest.mark.parametrize(("keys", "status"), [(9, VerdictStatus.ABSTAINED), (10, VerdictStatus.OK)])
def test_baseline_needs_ten_keys(keys: int, status: VerdictStatus) -> None:
    case = incident("port_scan", distinct_ports=5, population={**POPULATION, "keys": keys})
    assert baseline(case).status is status


def _small(**stats: Any) -> dict[str, Any]:
    return {"population": {"keys": 3}, **stats}


@pytest.mark.parametrize(
    ("kind", "stats", "threat"),
    [
        ("brute_force", _small(max_attempts_same_target=99, rate_per_min=50.0), None),
        ("brute_force", _small(max_attempts_same_target=100, rate_per_min=50.0), True),
        ("brute_force", _small(max_attempts_same_target=2960, rate_per_min=9.9), None),
        ("brute_force", _small(max_attempts_same_target=2960, rate_per_min=10.0), True),
        ("port_scan", _small(distinct_ports=99), None),
        ("port_scan", _small(distinct_ports=100), True),
        ("network_sweep", _small(distinct_hosts=99), None),
        ("network_sweep", _small(distinct_hosts=100), True),
        ("beaconing", _small(beacon_cv=0.01), None),
    ],
)
def test_baseline_on_a_small_population_uses_the_incidents_own_evidence(
    kind: str, stats: dict[str, Any], threat: bool | None
) -> None:
    verdict = baseline(incident(kind, **stats))
    if threat is None:
        assert verdict.status is VerdictStatus.ABSTAINED
    else:
        assert verdict.status is VerdictStatus.OK and verdict.is_threat is threat
        assert verdict.confidence >= 0.8 and "own evidence" in (verdict.rationale or "")


def test_the_cic_ssh_patator_brute_force_alerts_on_a_population_of_three() -> None:
    """Issue 10: 2,960 attempts at 47.5/min on SSH, population 3 (the SSH-Patator file alone)."""
    case = incident(
        "brute_force",
        max_attempts_same_target=2960,
        events=2960,
        rate_per_min=47.497,
        internal_source=True,
        population={"keys": 3},
    )
    case = case.model_copy(update={"severity": Severity.CRITICAL})
    verdicts = [rules(case), baseline(case)]
    assert [v.is_threat for v in verdicts] == [True, True]
    assert decide(case, verdicts, get_policy("majority", 0.8)).outcome is Outcome.ALERT
