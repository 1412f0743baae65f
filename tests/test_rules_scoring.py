"""What the embedded rules analyst says, not only which side it takes: the confidence formula
of each firewall rule (every term and cap), the reasons it gives, and every field of the
verdict it builds.

Expected confidences are worked out by hand from the formulas documented in
``siem_consensus/analysts/_rules_firewall.py``; ``tests/test_rules_thresholds.py`` covers the
threat/benign lines themselves.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from siem_consensus.analysts import RulesAnalyst
from siem_consensus.analysts.rules import KIND_RULES, KindRule
from siem_consensus.models import AttackRef, Incident, Severity, Verdict, VerdictStatus

_SCAN = AttackRef(
    technique_id="T1046", technique_name="Network Service Discovery", tactic="Discovery"
)
_EVIDENCE = tuple(f"fw.log:{n}" for n in range(1, 8))


def _incident(kind: str, severity: Severity = Severity.HIGH, **stats: Any) -> Incident:
    return Incident(
        id="fw-1",
        detector="firewall",
        kind=kind,
        title="t",
        severity=severity,
        score=0.7,
        evidence_event_ids=_EVIDENCE,
        stats=stats,
        attack=(_SCAN,),
    )


def _analyze(case: Incident, analyst: RulesAnalyst | None = None) -> Verdict:
    return asyncio.run((analyst or RulesAnalyst()).analyze(case))


def _judge(kind: str, **stats: Any) -> tuple[bool, float, list[str]]:
    return KIND_RULES[kind].judge(stats)


# -- the verdict the analyst builds -----------------------------------------------------------


def test_a_threat_verdict_carries_the_rule_the_incident_and_the_reasons() -> None:
    case = _incident(
        "port_scan", distinct_ports=13, sensitive_ports=[22, 3389], internal_source=True
    )
    verdict = _analyze(case)
    rule = KIND_RULES["port_scan"]
    assert verdict.status is VerdictStatus.OK
    assert verdict.analyst == "rules" and verdict.incident_id == "fw-1"
    assert verdict.is_threat is True
    assert verdict.confidence == pytest.approx(0.72)  # 0.6 + 3 x 0.02 + 2 x 0.03
    assert verdict.severity is Severity.HIGH
    assert verdict.category == "reconnaissance" == rule.category
    assert verdict.attack_techniques == ("T1046",)
    assert verdict.evidence_event_ids == _EVIDENCE[:5]  # at most five cited
    assert verdict.rationale == "13 distinct ports probed, 2 of them sensitive services"
    assert verdict.attacker_goal == rule.goal
    assert verdict.business_impact == rule.impact
    assert verdict.recommended_actions == rule.actions and rule.actions


def test_a_benign_verdict_claims_nothing_about_the_attack() -> None:
    verdict = _analyze(_incident("port_scan", distinct_ports=3, internal_source=True))
    assert verdict.is_threat is False
    assert verdict.confidence == pytest.approx(0.6)
    assert verdict.severity is None
    assert verdict.category == "benign"
    assert verdict.attack_techniques == ()
    assert verdict.evidence_event_ids == _EVIDENCE[:5]
    assert verdict.attacker_goal is None and verdict.business_impact is None
    assert verdict.recommended_actions == ()


def test_the_confidence_is_rounded_to_three_places() -> None:
    rule = KindRule("c", "g", "i", ("a",), judge=lambda stats: (True, 0.123456, ["why"]))
    verdict = _analyze(_incident("custom"), RulesAnalyst({"custom": rule}))
    assert verdict.confidence == 0.123
    assert verdict.rationale == "why"


def test_custom_rules_replace_the_built_in_table() -> None:
    rule = KindRule("c", "g", "i", ("a",), judge=lambda stats: (False, 0.9, ["a", "b"]))
    analyst = RulesAnalyst({"custom": rule})
    assert _analyze(_incident("custom"), analyst).rationale == "a; b"
    abstained = _analyze(_incident("port_scan", distinct_ports=50), analyst)
    assert abstained.status is VerdictStatus.ABSTAINED
    assert abstained.rationale == "no rule for detection kind 'port_scan'"


# -- port scan --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stats", "confidence"),
    [
        # 0.6 + min(0.02 x (ports - 10), 0.1) + min(0.03 x sensitive, 0.18) (+ 0.05 external)
        ({"distinct_ports": 13, "sensitive_ports": [22, 3389]}, 0.72),
        ({"distinct_ports": 100, "sensitive_ports": list(range(10))}, 0.88),  # both capped
        ({"distinct_ports": 9, "sensitive_ports": [22]}, 0.63),  # below 10: no breadth term
    ],
)
def test_port_scan_confidence_terms_and_caps(stats: dict[str, Any], confidence: float) -> None:
    _, conf, _ = _judge("port_scan", internal_source=True, **stats)
    assert conf == pytest.approx(confidence)


def test_an_external_source_and_denials_add_to_the_confidence_and_the_reasons() -> None:
    threat, conf, why = _judge(
        "port_scan", distinct_ports=40, sensitive_ports=[22] * 7, deny_ratio=0.95
    )
    assert threat is True
    assert conf == pytest.approx(0.97)  # 0.6 + 0.1 + 0.18 + 0.05 + 0.04: every term at its cap
    assert why == [
        "40 distinct ports probed, 7 of them sensitive services",
        "source is external",
        "95% of attempts were denied",
    ]


# -- network sweep ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stats", "confidence"),
    [
        # 0.6 + min(0.01 x (hosts - 20), 0.15) + min(0.05 x sensitive, 0.1) (+ bonus)
        ({"distinct_hosts": 25, "sensitive_ports": [445], "internal_source": True}, 0.7),
        ({"distinct_hosts": 100, "sensitive_ports": [1, 2, 3], "internal_source": True}, 0.85),
        ({"distinct_hosts": 10, "internal_source": True}, 0.6),
        ({"distinct_hosts": 100, "sensitive_ports": [1, 2, 3], "deny_ratio": 0.9}, 0.94),
    ],
)
def test_sweep_confidence_terms_and_caps(stats: dict[str, Any], confidence: float) -> None:
    _, conf, _ = _judge("network_sweep", **stats)
    assert conf == pytest.approx(confidence)


def test_sweep_reasons() -> None:
    _, _, why = _judge("network_sweep", distinct_hosts=30, deny_ratio=0.9)
    assert why == [
        "30 hosts contacted on few ports",
        "source is external",
        "90% of attempts were denied",
    ]


# -- brute force ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attempts", "confidence"),
    [
        (200, 0.75),  # 0.65 + 0.05 x log2(200 / 50)
        (50 * 2**10, 0.85),  # the log term is capped at 0.2
        (0, 0.5),  # far below: floored at 0.5
        (25, 0.6),  # 0.65 - 0.05
    ],
)
def test_brute_force_confidence_is_logarithmic_in_attempts(
    attempts: int, confidence: float
) -> None:
    _, conf, why = _judge("brute_force", max_attempts_same_target=attempts, internal_source=True)
    assert conf == pytest.approx(confidence)
    assert why == [f"{attempts} attempts against one authentication service"]


def test_brute_force_from_outside_with_denials_tops_out_below_one() -> None:
    _, conf, _ = _judge("brute_force", max_attempts_same_target=50 * 2**10, deny_ratio=1.0)
    assert conf == pytest.approx(0.94)  # 0.65 + 0.2 + 0.05 + 0.04


@pytest.mark.parametrize("attempts", [0, 1])
def test_a_brute_force_of_one_attempt_or_none_sits_at_the_floor(attempts: int) -> None:
    # 0.65 + 0.05 x log2(1 / 50) + 0.05 + 0.04 = 0.46: the floor, 0.5
    assert _judge("brute_force", max_attempts_same_target=attempts, deny_ratio=1.0) == (
        False,
        0.5,
        [
            f"{attempts} attempts against one authentication service",
            "source is external",
            "100% of attempts were denied",
        ],
    )


# -- beaconing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cv", "confidence"),
    [(0.0, 0.85), (0.15, 0.725), (0.3, 0.6), (0.6, 0.6)],  # 0.6 + 0.25 x max(0, 1 - cv / 0.3)
)
def test_beacon_confidence_falls_with_irregularity(cv: float, confidence: float) -> None:
    threat, conf, why = _judge("beaconing", beacon_cv=cv, ports=[8443])
    assert threat is True
    assert conf == pytest.approx(confidence)
    assert why == [f"inter-arrival coefficient of variation {cv:.2f} (regular)"]


@pytest.mark.parametrize("stats", [{}, {"beacon_cv": None}, {"beacon_cv": -0.1}])
def test_beaconing_without_inter_arrival_statistics_is_not_a_threat(
    stats: dict[str, Any],
) -> None:
    assert _judge("beaconing", **stats) == (False, 0.5, ["no inter-arrival statistics"])


def test_regular_ntp_is_expected_and_an_internal_beacon_is_called_out() -> None:
    threat, conf, why = _judge("beaconing", beacon_cv=0.1, ports=[123, "x"])
    assert (threat, conf) == (False, 0.7)
    assert why[-1] == "regular NTP traffic is expected"
    _, _, internal = _judge("beaconing", beacon_cv=0.1, ports=["8443"], internal_source=True)
    assert internal[-1] == "an internal host calls out on a fixed schedule"


def test_dns_hunting_for_a_c2_adds_a_tenth_to_a_beacon_and_says_so() -> None:
    dga = {"failed_domains": 40, "algorithmic_share": 0.9, "lookups_per_domain": 1.0}
    threat, conf, why = _judge("beaconing", beacon_cv=0.15, ports=[8443], dga=dga)
    assert (threat, conf) == (True, pytest.approx(0.825))  # 0.725 + 0.1
    assert why[-1] == (
        "supported by the same host's DNS: 40 distinct domains failed (NXDOMAIN), "
        "90% algorithmic-looking"
    )
    weak = {**dga, "algorithmic_share": 0.3}
    assert _judge("beaconing", beacon_cv=0.15, ports=[8443], dga=weak)[1] == pytest.approx(0.725)


# -- DGA-like DNS -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domains", "share", "confidence"),
    [
        # 0.65 + min(0.05 x log2(domains / 20), 0.15) + 0.1 x share
        (20, 0.5, 0.7),  # at the line: no breadth term
        (40, 0.5, 0.75),
        (160, 1.0, 0.9),  # breadth 0.15 (log2 8 = 3), share 1: the highest it gets
        (320, 0.5, 0.85),  # breadth 0.2 capped at 0.15
    ],
)
def test_dga_confidence_terms_and_caps(domains: int, share: float, confidence: float) -> None:
    threat, conf, why = _judge("dga", failed_domains=domains, algorithmic_share=share)
    assert (threat, conf) == (True, pytest.approx(confidence))
    assert why == [
        f"{domains} distinct domains failed (NXDOMAIN), {share:.0%} algorithmic-looking",
        "a host hunting for its C2 server",
    ]


@pytest.mark.parametrize("share", [None, "many", -0.1, 1.01, 1.5])
def test_dga_without_a_share_between_zero_and_one_has_no_name_shape_statistics(
    share: Any,
) -> None:
    stats = {"failed_domains": 80, "lookups_per_domain": 1.0}
    expected = (False, 0.5, ["no name-shape statistics"])
    assert _judge("dga", **stats, algorithmic_share=share) == expected
    assert _judge("dga", **stats) == expected


def test_dga_shares_of_zero_and_one_are_measured() -> None:
    assert _judge("dga", failed_domains=80, algorithmic_share=0.0) == (
        False,
        0.6,
        [
            "80 distinct domains failed (NXDOMAIN), 0% algorithmic-looking",
            "too few or too word-like for a generator",
        ],
    )
    assert _judge("dga", failed_domains=80, algorithmic_share=1.0)[:2] == (
        True,
        pytest.approx(0.85),  # 0.65 + 0.05 x log2(4) + 0.1
    )


def test_dga_of_retried_names_is_a_misconfiguration() -> None:
    stats = {"failed_domains": 80, "algorithmic_share": 0.9, "lookups_per_domain": 3.5}
    assert _judge("dga", **stats) == (
        False,
        0.6,
        [
            "80 distinct domains failed (NXDOMAIN), 90% algorithmic-looking",
            "each retried 3.5 times: a misconfigured name, not a generator",
        ],
    )


# -- internet background scan -----------------------------------------------------------------


def test_an_internet_scan_is_a_threat_only_where_a_sensitive_service_answered() -> None:
    exposed = _judge(
        "internet_scan", sources=40, distinct_ports=12, exposed_sensitive_ports=[22, 3389]
    )
    assert exposed == (
        True,
        0.7,
        [
            "40 external source(s) slowly probed 12 ports",
            "sensitive services reachable from the internet: 22, 3389",
        ],
    )
    refused = _judge("internet_scan")
    assert refused == (
        False,
        0.8,
        [
            "0 external source(s) slowly probed 0 ports",
            "every sensitive probe was refused: routine internet background",
        ],
    )
