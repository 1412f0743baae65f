"""What the IDS rules say: the confidence formula of campaigns and single-stage groups (every
term and cap), severity normalisation, the judgement without a sensor severity, and the
reasons each gives.

Expected confidences are worked out by hand from ``siem_consensus/analysts/_rules_ids.py``;
``tests/test_rules_thresholds.py`` covers the threat/benign lines themselves.
"""

from __future__ import annotations

from typing import Any

import pytest

from siem_consensus.analysts._rules_ids_routine import (
    maintenance_class,
    routine_class,
    signature_class,
    top_signature,
)
from siem_consensus.analysts.rules import KIND_RULES


def _judge(kind: str, **stats: Any) -> tuple[bool, float, list[str]]:
    return KIND_RULES[kind].judge(stats)


# -- campaigns --------------------------------------------------------------------------------


def test_a_two_stage_campaign_of_known_severity() -> None:
    assert _judge("campaign", stages=["reconnaissance", "initial_access"], max_severity=3) == (
        True,
        pytest.approx(0.68),  # 0.6 + 0.08 x (2 - 1)
        ["2 kill-chain stages in order: reconnaissance -> initial_access"],
    )


def test_every_campaign_term_adds_and_the_total_is_capped() -> None:
    stages = ["initial_access", "privilege_escalation", "command_and_control", "exfiltration"]
    threat, conf, why = _judge(
        "campaign", stages=stages, max_severity=4, intel_hits=["x"], asset_criticality="critical"
    )
    assert threat is True
    assert conf == pytest.approx(0.97)  # 0.6 + 0.24 + 0.05 + 0.05 + 0.05 + 0.04 + 0.04 = 1.07
    assert why == [
        "4 kill-chain stages in order: initial_access -> privilege_escalation -> "
        "command_and_control -> exfiltration",
        "1 threat-intel hit(s)",
        "target criticality critical",
        "post-exploitation activity: command_and_control, exfiltration",
        "a foothold followed by escalation or persistence: the exploit worked",
    ]


@pytest.mark.parametrize(
    ("stats", "confidence"),
    [
        ({"stage_count": 10, "max_severity": 3}, 0.84),  # stage term capped at 0.24
        ({"stages": ["execution", "persistence"], "max_severity": 3}, 0.72),  # + 0.04 foothold
        ({"stages": ["discovery", "impact"], "max_severity": 3}, 0.72),  # + 0.04 late stage
        ({"stages": ["discovery", "persistence"], "max_severity": 3}, 0.68),  # no foothold
        ({"stages": ["a", "b"], "max_severity": 4}, 0.73),  # + 0.05 at severity 4
        ({"stages": ["a", "b"], "max_severity": 9}, 0.73),  # severities above 4 are 4
        ({"stages": ["a", "b"], "asset_criticality": "medium", "max_severity": 3}, 0.68),
    ],
)
def test_campaign_confidence_terms(stats: dict[str, Any], confidence: float) -> None:
    assert _judge("campaign", **stats)[1] == pytest.approx(confidence)


def test_campaign_reasons_name_a_missing_or_low_severity() -> None:
    _, _, unknown = _judge("campaign", stages=["execution"])
    assert unknown == [
        "1 kill-chain stages in order: execution",
        "the sensors gave no severity: the stages decide",
    ]
    low = _judge("campaign", stages=["a", "b"], max_severity=2)
    assert low[0] is False and low[2][-1] == "highest sensor severity 2/4 is low"
    _, _, empty = _judge("campaign", stage_count=3, max_severity=3)
    assert empty == ["3 kill-chain stages in order: -"]


# -- single-stage groups ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "threat", "confidence"),
    [(1, False, 0.55), (2, False, 0.6), (3, True, 0.65), (4, True, 0.7), (0, False, 0.55)],
)
def test_single_stage_confidence_follows_the_sensor_severity(
    severity: int, threat: bool, confidence: float
) -> None:
    verdict = _judge("single_stage", max_severity=severity, alerts=12)
    shown = min(max(severity, 1), 4)
    assert verdict == (
        threat,
        pytest.approx(confidence),
        [f"12 alerts of one stage, highest severity {shown}/4"],
    )


@pytest.mark.parametrize("severity", [5, 9, "7"])
def test_a_sensor_severity_above_four_counts_as_four(severity: Any) -> None:
    assert _judge("single_stage", max_severity=severity, alerts=2) == (
        True,
        pytest.approx(0.7),  # 0.6 + 0.05 x (4 - 2)
        ["2 alerts of one stage, highest severity 4/4"],
    )


def test_a_one_stage_campaign_gets_no_stage_term() -> None:
    assert _judge("campaign", stages=["initial_access"], max_severity=3) == (
        False,
        pytest.approx(0.6),
        ["1 kill-chain stages in order: initial_access"],
    )


@pytest.mark.parametrize(("busier", "threat"), [(49, False), (50, True)])
def test_two_episodes_of_login_failures_are_judged_by_the_busier(busier: int, threat: bool) -> None:
    """50 failures in one hour and 1 in another average 25 per hour: the busier hour decides."""
    episodes = [{"attack_steps": busier, "windows": 1}, {"attack_steps": 1, "windows": 1}]
    verdict = _judge("single_stage", stages=["credential_access"], alerts=busier + 1,
                     attack_steps=busier + 1, windows=2, episodes=episodes)  # fmt: skip
    assert verdict[0] is threat
    assert verdict[2][-1].startswith(f"{busier} failed logins per active hour")


def test_single_stage_context_adds_confidence_and_reasons() -> None:
    threat, conf, why = _judge(
        "single_stage", max_severity=4, alerts=3, intel_hits=[1, 2], asset_criticality="high"
    )
    assert (threat, conf) == (True, pytest.approx(0.8))  # 0.6 + 0.1 + 0.05 + 0.05
    assert why == [
        "3 alerts of one stage, highest severity 4/4",
        "2 threat-intel hit(s)",
        "target criticality high",
    ]


def test_guessing_without_a_sensor_severity_gains_the_context_bonus() -> None:
    threat, conf, why = _judge(
        "single_stage",
        stages=["credential_access"],
        alerts=120,
        attack_steps=120,
        windows=2,
        asset_criticality="high",
    )
    assert (threat, conf) == (True, pytest.approx(0.7))  # 0.65 + 0.05
    assert why == [
        "120 alerts of one stage, highest severity unknown",
        "target criticality high",
        "60 failed logins per active hour: guessing",
    ]


def test_routine_login_failures_keep_their_confidence_whatever_the_context() -> None:
    threat, conf, why = _judge(
        "single_stage", stages=["credential_access"], alerts=40, asset_criticality="critical"
    )
    assert (threat, conf) == (False, 0.85)
    assert why[-1] == (
        "40 failed logins per active hour, under 50: the level of users mistyping passwords"
    )


def test_routine_failures_on_an_intel_list_are_a_threat_at_modest_confidence() -> None:
    threat, conf, why = _judge(
        "single_stage", stages=["credential_access"], alerts=4, intel_hits=["x"]
    )
    assert (threat, conf) == (True, pytest.approx(0.65))  # 0.6 + 0.05
    assert why[-1] == "but on a threat-intel list"


@pytest.mark.parametrize(
    ("stages", "threat", "confidence", "reason"),
    [
        (["impact"], True, 0.6, "an impact step (a service stopped, data destroyed) on its own"),
        (
            ["lateral_movement"],
            True,
            0.65,
            "lateral_movement stage without sensor severity: look at it",
        ),
        ([], True, 0.65, "an unnamed stage without sensor severity: look at it"),
    ],
)
def test_other_single_stages_without_severity(
    stages: list[str], threat: bool, confidence: float, reason: str
) -> None:
    verdict = _judge("single_stage", stages=stages, alerts=1)
    assert verdict[:2] == (threat, pytest.approx(confidence))
    assert verdict[2][-1] == reason


def test_a_service_stop_beside_an_update_is_maintenance() -> None:
    verdict = _judge(
        "single_stage", stages=["impact"], alerts=2, signatures=[["apt user agent", 3]]
    )
    assert verdict[:2] == (False, 0.85)
    assert verdict[2][-1] == "service changes during software update: maintenance"


# -- floods -----------------------------------------------------------------------------------


def test_flood_reasons_by_case() -> None:
    severe = _judge("alert_flood", max_severity=3, alerts=500, distinct_signatures=2)
    assert severe == (
        True,
        0.6,
        ["500 alerts of 2 signature(s), severity 3/4", "but severe or on an intel list: review"],
    )
    low = _judge("alert_flood", max_severity=2, alerts=500)
    assert low == (
        False,
        0.85,
        [
            "500 alerts of 1 signature(s), severity 2/4",
            "repetitive, low severity: tuning candidate, not an attack",
        ],
    )
    routine = _judge("alert_flood", alerts=9, signatures=[["Wazuh: IDS event.", 9]])
    assert routine[:2] == (False, 0.85)
    assert routine[2][-1] == "repetitive sensor meta-alert: tuning candidate, not an attack"
    odd = _judge("alert_flood", alerts=9, signatures=["Odd thing"])
    assert odd[:2] == (False, 0.7)
    assert odd[2] == [
        "9 alerts of 1 signature(s), severity unknown",
        "repetitive, but 'Odd thing' is of no routine class and has no severity: look once",
    ]
    unnamed = _judge("alert_flood", alerts=9)
    assert unnamed[2][-1].startswith("repetitive, but 'its signature' is of no routine class")


def test_a_flood_on_an_intel_list_is_reviewed_whatever_its_severity() -> None:
    assert _judge("alert_flood", max_severity=1, intel_hits=["x"])[:2] == (True, 0.6)


# -- routine signature classes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("signature", "klass"),
    [
        ("PAM: Login session opened.", "authentication success"),
        ("ClamAV database update", "software update"),
        ("ET POLICY pip User-Agent", "software update"),
        ("SURICATA TLS invalid record", "protocol anomaly"),
        ("Multiple IDS alerts for same id.", "sensor meta-alert"),
        ("AMiner: New event type", "sensor meta-alert"),
        ("ET EXPLOIT Apache Struts RCE", None),
    ],
)
def test_signature_classes(signature: str, klass: str | None) -> None:
    assert signature_class(signature) == klass


def test_routine_class_needs_every_signature_in_one_class() -> None:
    assert routine_class({"signatures": [["IDS event", 5], "ids event."]}) == "sensor meta-alert"
    assert routine_class({"signatures": ["IDS event", "ClamAV database update"]}) is None
    assert routine_class({"signatures": ["IDS event", "ET EXPLOIT x"]}) is None
    assert routine_class({"signatures": []}) is None
    assert routine_class({"signatures": [[], "", 3]}) is None  # nothing usable


def test_top_signature_is_the_first_usable_name() -> None:
    assert top_signature({"signatures": [[], ["a", 3], "b"]}) == "a"
    assert top_signature({"signatures": [("", 1), 7]}) is None


def test_maintenance_needs_an_update_in_every_episode() -> None:
    update, other = {"signatures": ["dnf user agent"]}, {"signatures": ["x"]}
    assert maintenance_class({"signatures": ["x", "ClamAV signature update"]}) == "software update"
    assert maintenance_class({"signatures": ["Login session opened"]}) is None
    assert maintenance_class({"episodes": [update, update]}) == "software update"
    assert maintenance_class({"episodes": [update, other]}) is None
    # One episode is the group itself: its own signatures decide.
    assert maintenance_class({"episodes": [other], "signatures": ["apt user agent"]}) == (
        "software update"
    )
