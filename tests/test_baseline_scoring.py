"""What the baseline analyst says: the z-score against the input's population, rare ports,
the confidence ladder and cap, and every field of its verdict; worked out by hand from
``siem_consensus/analysts/baseline.py``. Its threat line is in ``tests/test_rules_thresholds.py``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from siem_consensus import ConfigError
from siem_consensus.analysts import BaselineAnalyst
from siem_consensus.models import AttackRef, Incident, Severity, Verdict, VerdictStatus

_SCAN = AttackRef(
    technique_id="T1046", technique_name="Network Service Discovery", tactic="Discovery"
)
_EVIDENCE = ("fw:1", "fw:2", "fw:3", "fw:4")


def _analyze(kind: str, population: dict[str, Any] | None, **stats: Any) -> Verdict:
    case = Incident(
        id="fw-1",
        detector="firewall",
        kind=kind,
        title="t",
        severity=Severity.HIGH,
        score=0.7,
        evidence_event_ids=_EVIDENCE,
        stats={"population": population, **stats},
        attack=(_SCAN,),
    )
    return asyncio.run(BaselineAnalyst().analyze(case))


def _population(**values: Any) -> dict[str, Any]:
    return {"keys": 100, **values}


def test_a_threat_verdict_with_rare_ports() -> None:
    popularity = {"22": 50, "8080": 1, 443: 5}  # 443 only under an int key
    verdict = _analyze(
        "port_scan",
        _population(ports_mean=2, ports_std=1, port_popularity=popularity),
        distinct_ports=6,
        ports=[22, 8080, "9999", 443, None, "x"],
    )
    assert verdict.status is VerdictStatus.OK
    assert verdict.analyst == "baseline" and verdict.incident_id == "fw-1"
    assert verdict.is_threat is True
    # z = (6 - 2) / 1 = 4: 0.8 + 0.1 x log2(4 / 3) + 0.01 x 2 rare ports
    assert verdict.confidence == pytest.approx(0.862)
    assert verdict.rationale == (
        "6 distinct ports vs input mean 2.00 (std 1.00): z = 4.0; "
        "ports hit by this source alone: 8080, 9999"
    )
    assert verdict.severity is Severity.HIGH
    assert verdict.category == "reconnaissance"
    assert verdict.attack_techniques == ("T1046",)
    assert verdict.evidence_event_ids == _EVIDENCE[:3]
    assert verdict.attacker_goal is None
    assert verdict.business_impact == "behaviour 4 standard deviations beyond every other source"
    assert verdict.recommended_actions == ("Compare this activity with the entity's own history",)


def test_a_benign_verdict_claims_nothing() -> None:
    verdict = _analyze("brute_force", _population(events_mean=10, events_std=10), events=15)
    assert verdict.is_threat is False
    assert verdict.confidence == 0.85  # z = 0.5: within one deviation
    assert verdict.rationale == "15 events vs input mean 10.00 (std 10.00): z = 0.5"
    assert verdict.severity is None and verdict.category == "benign"
    assert verdict.attack_techniques == () and verdict.recommended_actions == ()
    assert verdict.business_impact is None


def test_a_deviation_below_half_counts_as_half() -> None:
    # z = (4 - 2) / max(0.1, 0.5) = 4, not 20
    verdict = _analyze("network_sweep", _population(hosts_mean=2, hosts_std=0.1), distinct_hosts=4)
    assert verdict.rationale == "4 distinct hosts vs input mean 2.00 (std 0.10): z = 4.0"
    assert verdict.confidence == pytest.approx(0.842)  # 0.8 + 0.1 x log2(4 / 3)


def test_rare_ports_add_at_most_five_hundredths_and_the_total_is_capped() -> None:
    ports = list(range(1000, 1007))  # seven ports nobody else used
    at_line = _analyze(
        "port_scan", _population(ports_mean=0, ports_std=1), distinct_ports=3, ports=ports
    )
    assert at_line.confidence == pytest.approx(0.85)  # 0.8 + 0.05
    assert at_line.rationale.endswith(
        "ports hit by this source alone: 1000, 1001, 1002, 1003, 1004, 1005, 1006"
    )
    far = _analyze("port_scan", _population(ports_mean=0, ports_std=1), distinct_ports=300)
    assert far.confidence == 0.97


@pytest.mark.parametrize(
    ("events", "confidence"),
    [(20, 0.85), (20.5, 0.7), (30, 0.7), (30.5, 0.6), (39, 0.6)],  # z = (events - 10) / 10
)
def test_below_the_line_the_analyst_leans_benign(events: float, confidence: float) -> None:
    verdict = _analyze("brute_force", _population(events_mean=10, events_std=10), events=events)
    assert (verdict.is_threat, verdict.confidence) == (False, confidence)


@pytest.mark.parametrize(
    ("stats", "value"),
    [
        ({"alerts": 40, "windows": 4}, "10"),  # alerts per active window
        ({"alerts": 40, "windows": 0}, "40"),
        ({"alerts": 40}, "40"),
    ],
)
def test_a_single_stage_group_is_judged_by_alerts_per_window(
    stats: dict[str, Any], value: str
) -> None:
    verdict = _analyze("single_stage", _population(alerts_mean=0, alerts_std=1), **stats)
    assert verdict.rationale.startswith(f"{value} alerts per window vs input mean 0.00")


def test_a_listed_statistic_counts_its_items_and_a_missing_one_is_zero() -> None:
    listed = _analyze("brute_force", _population(), events=["a", "b", "c"])
    assert listed.rationale.startswith("3 events vs input mean 0.00 (std 0.00): z = 6.0")
    missing = _analyze("brute_force", _population(events_mean=None, events_std="x"))
    assert missing.rationale == "0 events vs input mean 0.00 (std 0.00): z = 0.0"


def test_small_populations_use_own_evidence_or_abstain() -> None:
    small = _analyze("brute_force", {"keys": 3}, events=2)
    assert small.status is VerdictStatus.ABSTAINED
    assert small.rationale == "population of 3 too small for a baseline"
    unknown = _analyze("beaconing", _population())
    assert unknown.status is VerdictStatus.ABSTAINED
    assert unknown.rationale == "no population statistic for 'beaconing'"
    none = _analyze("port_scan", None, distinct_ports=50)
    assert none.rationale == "population of 0 too small for a baseline"


def test_own_evidence_on_a_small_population_is_a_threat_without_a_z_score() -> None:
    verdict = _analyze("port_scan", {"keys": 2}, distinct_ports=5000)
    assert (verdict.status, verdict.is_threat) == (VerdictStatus.OK, True)
    assert verdict.rationale.startswith("population of 2 too small for a baseline; own evidence: ")
    assert verdict.business_impact == "behaviour no legitimate client shows"


@pytest.mark.parametrize("z_threat", [0, -1.0])
def test_the_threat_line_must_be_positive(z_threat: float) -> None:
    with pytest.raises(ConfigError, match=f"z_threat must be a positive number, got {z_threat}"):
        BaselineAnalyst(z_threat=z_threat)


def _low_scan(**stats: Any) -> Incident:
    return Incident(
        id="i",
        detector="firewall",
        kind="port_scan",
        title="t",
        severity=Severity.LOW,
        score=0.1,
        stats=stats,
    )


def test_options_change_the_judgement() -> None:
    case = _low_scan(distinct_ports=4, population={"keys": 5, "ports_mean": 2, "ports_std": 1})
    strict = asyncio.run(BaselineAnalyst(z_threat=1.5, min_population=5).analyze(case))
    assert (strict.status, strict.is_threat) == (VerdictStatus.OK, True)
    assert asyncio.run(BaselineAnalyst().analyze(case)).status is VerdictStatus.ABSTAINED


def test_a_threat_line_below_one_deviation_is_accepted() -> None:
    """Any positive line is valid: a fraction of a deviation, for a very sensitive baseline."""
    case = _low_scan(population=_population(ports_mean=10, ports_std=10), distinct_ports=16)
    verdict = asyncio.run(BaselineAnalyst(z_threat=0.5).analyze(case))  # z = 0.6
    assert (verdict.is_threat, verdict.rationale) == (
        True,
        "16 distinct ports vs input mean 10.00 (std 10.00): z = 0.6",
    )


def test_the_reasons_name_at_most_ten_rare_ports() -> None:
    ports = list(range(2000, 2012))  # twelve ports nobody else used
    verdict = _analyze(
        "port_scan", _population(ports_mean=0, ports_std=1), distinct_ports=12, ports=ports
    )
    assert verdict.rationale.endswith(
        "ports hit by this source alone: " + ", ".join(map(str, range(2000, 2010)))
    )


def test_a_port_is_rare_when_one_source_used_it_and_odd_entries_are_skipped() -> None:
    popularity = {"1001": 2, "1002": 1}  # 1001: two sources; 1002: this one alone
    verdict = _analyze(
        "port_scan",
        _population(ports_mean=0, ports_std=1, port_popularity=popularity),
        distinct_ports=12,
        ports=["x", 1000, 1001, 1002],
    )
    assert verdict.rationale.endswith("ports hit by this source alone: 1000, 1002")
