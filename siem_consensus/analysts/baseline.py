"""The embedded baseline analyst: how unusual is this incident against the rest of the input?

No key, no network, deterministic. It reads the population statistics the detector computed
over every (source, window) of the input (``stats["population"]``) and scores the incident by
z-score of the statistic its kind is about, plus rarity of the targeted ports (see
:data:`METRICS`). It does not know *why* something happens.

On a population too small for a baseline (fewer than ``min_population`` keys, e.g. a file
holding one attack), it judges from the incident's own evidence where that is unambiguous
(:mod:`._baseline_self`): a brute force at machine speed, a port scan or a sweep far wider
than any client. Otherwise, and for kinds without a population statistic, it abstains.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError
from ..models import Incident, Verdict
from ._baseline_self import own_evidence
from ._rules_auth import AUTH_BASELINE, AUTH_CATEGORIES
from ._rules_base import as_number, count, items, mapping, number
from .base import abstain, register

__all__ = ["METRICS", "BaselineAnalyst"]

_INSIDER_KINDS = (
    "insider_risk",
    "data_exfiltration",
    "removable_media_exfiltration",
    "cloud_exfiltration",
    "email_exfiltration",
    "privilege_abuse",
)
METRICS: dict[str, tuple[str, str, str, str]] = {
    "port_scan": ("distinct_ports", "ports_mean", "ports_std", "distinct ports"),
    "network_sweep": ("distinct_hosts", "hosts_mean", "hosts_std", "distinct hosts"),
    "brute_force": ("events", "events_mean", "events_std", "events"),
    "campaign": ("stage_count", "stages_mean", "stages_std", "kill-chain stages"),
    "single_stage": ("alerts_per_window", "alerts_mean", "alerts_std", "alerts per window"),
    "alert_flood": ("distinct_signatures", "signatures_mean", "signatures_std", "signatures"),
    "dga": ("failed_domains", "failed_domains_mean", "failed_domains_std", "NXDOMAIN domains"),
    **{
        kind: ("features", "features_mean", "features_std", "independent signals")
        for kind in _INSIDER_KINDS
    },
    **AUTH_BASELINE,
}
"""Detection kind -> (incident statistic, population mean key, population std key, label).

``alerts_per_window`` is derived: the group's alerts over its active windows (a single-stage
group is judged by its volume; its distinct signatures include unrelated background)."""

_CATEGORY = {
    "port_scan": "reconnaissance",
    "network_sweep": "reconnaissance",
    "brute_force": "credential_access",
    "campaign": "multi_stage_attack",
    "single_stage": "attack_attempt",
    "alert_flood": "noise",
    "dga": "command_and_control",
    **dict.fromkeys(_INSIDER_KINDS, "insider_threat"),
    **AUTH_CATEGORIES,
}


@register("baseline")
class BaselineAnalyst:
    """Embedded analyst judging incidents by z-score and rarity against the input's population.

    Args:
        z_threat: z-score at or above which the incident is called a threat.
        min_population: fewer (source, window) keys than this and it judges from the
            incident's own evidence, or abstains.
    """

    name = "baseline"

    def __init__(self, z_threat: float = 3.0, min_population: int = 10) -> None:
        if not z_threat > 0:
            raise ConfigError(f"z_threat must be a positive number, got {z_threat}")
        self.z_threat = z_threat
        self.min_population = min_population

    async def analyze(self, case: Incident) -> Verdict:
        """Score the incident against the population, or from its own evidence, or abstain."""
        metric = METRICS.get(case.kind)
        if metric is None:
            return abstain(self.name, case, f"no population statistic for {case.kind!r}")
        population = mapping(case.stats, "population")
        keys = count(population, "keys")
        if keys < self.min_population:
            own = own_evidence(case.kind, case.stats)
            if own is None:
                return abstain(self.name, case, f"population of {keys} too small for a baseline")
            is_threat, confidence, reason = own
            note = f"population of {keys} too small for a baseline; own evidence: {reason}"
            return self._verdict(case, is_threat, confidence, [note], None)
        stat, mean_key, std_key, label = metric
        value = _value(case.stats, stat)
        mean = number(population, mean_key) or 0.0
        std = number(population, std_key) or 0.0
        z = (value - mean) / max(std, 0.5)
        rare = _rare_ports(case.stats, population)
        why = [f"{value:g} {label} vs input mean {mean:.2f} (std {std:.2f}): z = {z:.1f}"]
        if rare:
            why.append(f"ports hit by this source alone: {', '.join(map(str, rare[:10]))}")
        confidence = _confidence(z, self.z_threat, len(rare))
        return self._verdict(case, z >= self.z_threat, confidence, why, z)

    def _verdict(
        self, case: Incident, is_threat: bool, confidence: float, why: list[str], z: float | None
    ) -> Verdict:
        impact = None
        if is_threat:
            impact = (
                f"behaviour {z:.0f} standard deviations beyond every other source"
                if z is not None
                else "behaviour no legitimate client shows"
            )
        return Verdict(
            analyst=self.name,
            incident_id=case.id,
            is_threat=is_threat,
            confidence=round(confidence, 3),
            severity=case.severity if is_threat else None,
            category=_CATEGORY[case.kind] if is_threat else "benign",
            attack_techniques=tuple(ref.technique_id for ref in case.attack) if is_threat else (),
            evidence_event_ids=case.evidence_event_ids[:3],
            rationale="; ".join(why),
            attacker_goal=None,
            business_impact=impact,
            recommended_actions=("Compare this activity with the entity's own history",)
            if is_threat
            else (),
        )


def _value(stats: Mapping[str, Any], stat: str) -> float:
    """The incident's statistic as a finite float (a list counts its items)."""
    if stat == "alerts_per_window":
        return count(stats, "alerts") / max(count(stats, "windows", 1), 1)
    if isinstance(stats.get(stat), list | tuple):
        return float(count(stats, stat))
    return number(stats, stat) or 0.0


def _rare_ports(stats: Mapping[str, Any], population: Mapping[str, Any]) -> list[int]:
    popularity: Mapping[Any, Any] = mapping(population, "port_popularity")
    rare = []
    for raw in items(stats, "ports"):
        port = as_number(raw, None)
        if port is None:
            continue
        seen = as_number(popularity.get(str(int(port)), popularity.get(int(port))), 0.0) or 0.0
        if seen <= 1:
            rare.append(int(port))
    return sorted(rare)


def _confidence(z: float, z_threat: float, rare: int) -> float:
    """Monotone in z: 0.8 at the threat line, approaching 0.97 far beyond it.

    Below the line the analyst leans benign, more confidently the more ordinary it looks:
    0.85 within one deviation of the mean (or below it), 0.7 within two, 0.6 up to the line.
    """
    if z >= z_threat:
        return min(0.97, 0.8 + 0.1 * math.log2(z / z_threat) + 0.01 * min(rare, 5))
    if z <= 1.0:
        return 0.85
    return 0.7 if z <= 2.0 else 0.6
