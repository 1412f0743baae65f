"""The embedded baseline analyst: how unusual is this incident against the rest of the input?

No key, no network, deterministic. It reads the population statistics the detector computed
over every (source, window) of the input (``stats["population"]``) and scores the incident by
z-score of the statistic its kind is about, plus rarity of the targeted ports. It does not
know *why* something happens, so it abstains where no population statistic applies.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..models import Incident, Verdict
from ._rules_auth import AUTH_BASELINE, AUTH_CATEGORIES
from .base import abstain, register

__all__ = ["BaselineAnalyst"]

# detection kind -> (incident statistic, population mean key, population std key, label)
_INSIDER_KINDS = (
    "insider_risk",
    "data_exfiltration",
    "removable_media_exfiltration",
    "cloud_exfiltration",
    "email_exfiltration",
    "privilege_abuse",
)
_METRICS: dict[str, tuple[str, str, str, str]] = {
    "port_scan": ("distinct_ports", "ports_mean", "ports_std", "distinct ports"),
    "network_sweep": ("distinct_hosts", "hosts_mean", "hosts_std", "distinct hosts"),
    "brute_force": ("events", "events_mean", "events_std", "events"),
    "campaign": ("stage_count", "stages_mean", "stages_std", "kill-chain stages"),
    "single_stage": ("distinct_signatures", "signatures_mean", "signatures_std", "signatures"),
    "alert_flood": ("distinct_signatures", "signatures_mean", "signatures_std", "signatures"),
    **{
        kind: ("features", "features_mean", "features_std", "independent signals")
        for kind in _INSIDER_KINDS
    },
    **AUTH_BASELINE,
}
_CATEGORY = {
    "port_scan": "reconnaissance",
    "network_sweep": "reconnaissance",
    "brute_force": "credential_access",
    "campaign": "multi_stage_attack",
    "single_stage": "attack_attempt",
    "alert_flood": "noise",
    **dict.fromkeys(_INSIDER_KINDS, "insider_threat"),
    **AUTH_CATEGORIES,
}


@register("baseline")
class BaselineAnalyst:
    """Embedded analyst judging incidents by z-score and rarity against the input's population.

    Args:
        z_threat: z-score at or above which the incident is called a threat.
        min_population: fewer (source, window) keys than this and it abstains.
    """

    name = "baseline"

    def __init__(self, z_threat: float = 3.0, min_population: int = 10) -> None:
        self.z_threat = z_threat
        self.min_population = min_population

    async def analyze(self, case: Incident) -> Verdict:
        """Score the incident against the population, or abstain."""
        metric = _METRICS.get(case.kind)
        population: Mapping[str, Any] = case.stats.get("population") or {}
        if metric is None:
            return abstain(self.name, case, f"no population statistic for {case.kind!r}")
        keys = int(population.get("keys", 0))
        if keys < self.min_population:
            return abstain(self.name, case, f"population of {keys} too small for a baseline")
        stat, mean_key, std_key, label = metric
        raw = case.stats.get(stat, 0)
        value = float(len(raw) if isinstance(raw, list | tuple) else raw or 0)
        mean, std = float(population.get(mean_key, 0.0)), float(population.get(std_key, 0.0))
        z = (value - mean) / max(std, 0.5)
        rare = _rare_ports(case.stats, population)
        is_threat = z >= self.z_threat
        why = [f"{value:g} {label} vs input mean {mean:.2f} (std {std:.2f}): z = {z:.1f}"]
        if rare:
            why.append(f"ports hit by this source alone: {', '.join(map(str, rare[:10]))}")
        return Verdict(
            analyst=self.name,
            incident_id=case.id,
            is_threat=is_threat,
            confidence=round(_confidence(z, self.z_threat, len(rare)), 3),
            severity=case.severity if is_threat else None,
            category=_CATEGORY[case.kind] if is_threat else "benign",
            attack_techniques=tuple(ref.technique_id for ref in case.attack) if is_threat else (),
            evidence_event_ids=case.evidence_event_ids[:3],
            rationale="; ".join(why),
            attacker_goal=None,
            business_impact=(
                f"behaviour {z:.0f} standard deviations beyond every other source"
                if is_threat
                else None
            ),
            recommended_actions=("Compare this activity with the entity's own history",)
            if is_threat
            else (),
        )


def _rare_ports(stats: Mapping[str, Any], population: Mapping[str, Any]) -> list[int]:
    popularity: Mapping[Any, Any] = population.get("port_popularity") or {}
    return sorted(
        int(port)
        for port in stats.get("ports", [])
        if int(popularity.get(str(port), popularity.get(port, 0))) <= 1
    )


def _confidence(z: float, z_threat: float, rare: int) -> float:
    """Monotone in z: 0.8 at the threat line, approaching 0.97 far beyond it.

    Below the line the analyst leans benign, more confidently the more ordinary it looks:
    0.85 at or below the mean, 0.75 within one deviation, 0.6 up to the line.
    """
    if z >= z_threat:
        return min(0.97, 0.8 + 0.1 * math.log2(z / z_threat) + 0.01 * min(rare, 5))
    if z <= 0.0:
        return 0.85
    return 0.75 if z <= 1.0 else 0.6
