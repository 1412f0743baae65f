"""The embedded analysts judge from detector statistics, independently and deterministically."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from siem_consensus.analysts import BaselineAnalyst, RulesAnalyst, resolve_analysts, run_analyst
from siem_consensus.enrich.attack import attack_ref
from siem_consensus.errors import ConfigError
from siem_consensus.models import Incident, Severity, Verdict, VerdictStatus

POPULATION = {
    "keys": 1000,
    "events_mean": 1.4,
    "events_std": 6.0,
    "ports_mean": 1.2,
    "ports_std": 0.5,
    "hosts_mean": 1.1,
    "hosts_std": 0.3,
    "port_popularity": {"21": 1, "22": 300, "1433": 1},
}


def _incident(kind: str, **stats: Any) -> Incident:
    return Incident(
        id="fw-1",
        detector="firewall",
        kind=kind,
        title="t",
        severity=Severity.HIGH,
        score=0.8,
        evidence_event_ids=("a.log:1", "a.log:2"),
        attack=(attack_ref("T1046"),),
        stats={"population": POPULATION, **stats},
    )


def _judge(analyst: Any, incident: Incident) -> Verdict:
    return asyncio.run(run_analyst(analyst, incident))


SCAN = dict(
    distinct_ports=13,
    distinct_hosts=1,
    events=195,
    deny_ratio=1.0,
    internal_source=False,
    sensitive_ports=[22, 23, 445, 1433, 3306, 3389, 5432, 8080, 8443],
    ports=[21, 22, 1433],
)


def test_rules_call_a_wide_external_scan_a_threat() -> None:
    verdict = _judge(RulesAnalyst(), _incident("port_scan", **SCAN))
    assert verdict.is_threat and verdict.confidence >= 0.9
    assert verdict.category == "reconnaissance" and verdict.attack_techniques == ("T1046",)
    assert set(verdict.evidence_event_ids) <= {"a.log:1", "a.log:2"}
    assert verdict.recommended_actions and verdict.attacker_goal


def test_rules_scan_confidence_grows_with_breadth() -> None:
    narrow = _judge(
        RulesAnalyst(),
        _incident("port_scan", **{**SCAN, "distinct_ports": 10, "sensitive_ports": []}),
    )
    assert narrow.confidence < _judge(RulesAnalyst(), _incident("port_scan", **SCAN)).confidence


def test_rules_treat_regular_ntp_as_benign() -> None:
    verdict = _judge(
        RulesAnalyst(), _incident("beaconing", beacon_cv=0.01, ports=[123], internal_source=True)
    )
    assert verdict.is_threat is False


def test_rules_abstain_on_unknown_kinds() -> None:
    verdict = _judge(RulesAnalyst(), _incident("teleportation"))
    assert verdict.status is VerdictStatus.ABSTAINED and not verdict.counts


def test_baseline_scores_by_z_and_rarity() -> None:
    verdict = _judge(BaselineAnalyst(), _incident("port_scan", **SCAN))
    assert verdict.is_threat and verdict.confidence >= 0.9
    assert "z = 23.6" in verdict.rationale and "21, 1433" in verdict.rationale


def test_baseline_leans_benign_for_ordinary_behaviour() -> None:
    verdict = _judge(BaselineAnalyst(), _incident("port_scan", **{**SCAN, "distinct_ports": 2}))
    assert verdict.is_threat is False


def test_baseline_abstains_without_population() -> None:
    incident = _incident("port_scan", **SCAN).model_copy(update={"stats": dict(SCAN)})
    assert _judge(BaselineAnalyst(), incident).status is VerdictStatus.ABSTAINED


class _Broken:
    name = "broken"

    async def analyze(self, case: Incident) -> Verdict:
        raise RuntimeError("provider exploded")


class _Slow:
    name = "slow"

    async def analyze(self, case: Incident) -> Verdict:
        await asyncio.sleep(5)
        raise AssertionError("unreachable")


def test_failures_become_error_verdicts_not_guesses() -> None:
    verdict = _judge(_Broken(), _incident("port_scan", **SCAN))
    assert verdict.status is VerdictStatus.ERROR and verdict.is_threat is None
    assert "provider exploded" in (verdict.error or "")


def test_timeouts_become_error_verdicts() -> None:
    verdict = asyncio.run(run_analyst(_Slow(), _incident("port_scan", **SCAN), timeout=0.05))
    assert verdict.status is VerdictStatus.ERROR and "timed out" in (verdict.error or "")


def test_unknown_and_duplicate_analysts_are_config_errors() -> None:
    with pytest.raises(
        ConfigError, match="valid analysts are: baseline, claude, local:<base_url>, openai, rules"
    ):
        resolve_analysts("rules,nope")
    with pytest.raises(ConfigError, match="unique"):
        resolve_analysts([RulesAnalyst(), RulesAnalyst()])


IDS_POPULATION = {"keys": 500, "alerts_mean": 100.0, "alerts_std": 50.0,
                  "signatures_mean": 3.0, "signatures_std": 1.0}  # fmt: skip


def _ids_group(**stats: Any) -> Incident:
    return _incident("single_stage", population=IDS_POPULATION, **stats).model_copy(
        update={"detector": "ids"}
    )


@pytest.mark.parametrize(
    ("alerts", "windows", "threat", "confidence"),
    [(140, 1, False, 0.85), (500, 2, True, 0.8), (500, 1, True, 0.942)],
)
def test_baseline_judges_a_single_stage_group_by_alerts_per_active_window(
    alerts: int, windows: int, threat: bool, confidence: float
) -> None:
    # many distinct signatures (background in the group) do not make it unusual
    case = _ids_group(alerts=alerts, windows=windows, distinct_signatures=9)
    verdict = _judge(BaselineAnalyst(), case)
    assert (verdict.is_threat, verdict.confidence) == (threat, confidence)
    assert "alerts per window" in (verdict.rationale or "")


def test_baseline_rejects_a_non_positive_z_line() -> None:
    with pytest.raises(ConfigError, match="z_threat"):
        BaselineAnalyst(z_threat=0)
