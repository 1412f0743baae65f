"""Titles, narratives and reasons of IDS incidents (plain text built from the numbers).

The narrative tells the steps in the order they were first seen, one clause per mapping rule,
grouped by the entity acting: ``185.220.101.45 scanned 10.1.50.25, attempted SQL injection and
command injection, then 10.1.50.25 connected out to 203.0.113.66:4444 and sent 2 large
transfers.`` Alerts about one host alone (host-based sensors) read ``10.35.35.206 raised
wordlist scanning (29,283 alerts) and sudo to root (3 alerts)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ...enrich.attack_map import MappingRule
from ._config import IdsThresholds

__all__ = ["Step", "human_duration", "narrative", "reasons_for", "title_for"]


@dataclass(frozen=True)
class Step:
    """One mapping rule as observed in an incident."""

    rule: MappingRule
    index: int
    stage: str
    rank: int
    alerts: int
    first_seen: Any
    actor: str
    target: str | None
    port: int | None


def human_duration(seconds: float) -> str:
    """``45 s``, ``28 min``, ``1 h`` or ``2.5 h``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f}".removesuffix(".0") + " h"


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _join(items: Sequence[str]) -> str:
    """``a, b and c``; a comma before a last item that has its own ``and``."""
    if len(items) <= 1:
        return "".join(items)
    last = ", " if " and " in items[-1] else " and "
    return ", ".join(items[:-1]) + last + items[-1]


def _clause(step: Step) -> str:
    if step.target is None:
        return f"{step.rule.label} ({_plural(step.alerts, 'alert')})"
    return step.rule.clause().format(
        dst=step.target,
        port=step.port if step.port is not None else "?",
        n=step.alerts,
        s="" if step.alerts == 1 else "s",
    )


def _merge_attempts(clauses: list[str]) -> list[str]:
    merged: list[str] = []
    for clause in clauses:
        if clause in merged:
            continue
        if merged and merged[-1].startswith("attempted ") and clause.startswith("attempted "):
            merged[-1] = f"{merged[-1]} and {clause.removeprefix('attempted ')}"
        else:
            merged.append(clause)
    return merged


def narrative(steps: Sequence[Step]) -> str:
    """One sentence telling the steps in time order (see the module docstring)."""
    segments: list[tuple[str, bool, list[str]]] = []
    for step in sorted(steps, key=lambda s: (s.first_seen is None, s.first_seen, s.rank)):
        alone = step.target is None
        if segments and segments[-1][0] == step.actor and segments[-1][1] == alone:
            segments[-1][2].append(_clause(step))
        else:
            segments.append((step.actor, alone, [_clause(step)]))
    parts = []
    for actor, alone, clauses in segments:
        verb = " raised " if alone else " "
        parts.append(actor + verb + _join(_merge_attempts(clauses)))
    return (", then ".join(parts) + ".") if parts else ""


def title_for(kind: str, stats: dict[str, Any], label: str | None) -> str:
    """One-line summary naming the main attacker and victim (or host) and the phases."""
    attackers, victims = stats["attackers"], stats["victims"]
    who = _first(attackers)
    whom = _first(victims)
    if kind == "campaign":
        phases = " -> ".join(stats["phases"])
        where = f": {who} -> {whom}" if who and whom else f" on {whom or who}"
        return f"Multi-stage attack{where} ({phases})"
    what = label or "repeated high-severity alerts"
    what = what[0].upper() + what[1:]
    where = f": {who} -> {whom}" if who and whom else f" on {whom or who}"
    return f"{what}{where} ({_plural(stats['attack_steps'], 'alert')})"


def _first(entities: Sequence[str]) -> str | None:
    if not entities:
        return None
    more = f" (+{len(entities) - 1} more)" if len(entities) > 1 else ""
    return entities[0] + more


def reasons_for(kind: str, stats: dict[str, Any], cfg: IdsThresholds) -> tuple[str, ...]:
    """Sentences with the numbers that made the incident, in decreasing weight."""
    stages = ", ".join(stats["stages"]) or "none mapped"
    rule = (
        f"at least {cfg.min_alerts} attack-step alerts; {cfg.campaign_min_stages} or more "
        "kill-chain stages make a campaign"
    )
    reasons = [
        f"{_plural(stats['attack_steps'], 'attack-step alert')} in "
        f"{_plural(stats['stage_count'], 'kill-chain stage')} ({stages}) (rule: {rule}).",
        f"{_plural(stats['alerts'], 'alert')} over {human_duration(stats['duration_s'])} from "
        f"{_plural(len(stats['sensors']), 'sensor')} ({', '.join(stats['sensors'][:5])}); "
        f"{_plural(stats['distinct_signatures'], 'distinct signature')}.",
    ]
    if stats["max_severity"] is not None:
        at_top = stats["severity_counts"][str(stats["max_severity"])]
        reasons.append(
            f"Highest sensor severity {stats['max_severity']}/4 "
            f"({_plural(at_top, 'alert')} at that level)."
        )
    pop = stats["population"]
    if pop["keys"] and pop["alerts_std"] > 0:
        z = (stats["alerts"] - pop["alerts_mean"]) / pop["alerts_std"]
        reasons.append(
            f"{_plural(stats['alerts'], 'alert')} is {z:+.1f} standard deviations from the mean "
            f"of {pop['keys']:,} (window, entity pair) groups ({pop['alerts_mean']:.1f})."
        )
    if stats["intel_hits"]:
        hits = "; ".join(f"{i} on {s}" for i, s in stats["intel_hits"][:5])
        reasons.append(f"Threat intel: {hits}.")
    if stats["asset_criticality"]:
        reasons.append(f"Targets include an asset of {stats['asset_criticality']} criticality.")
    episodes = stats.get("episodes") or []
    if len(episodes) > 1:
        reasons.append(
            f"The same finding recurs on this host: {_plural(len(episodes), 'episode')} "
            f"between {episodes[0]['first']} and {episodes[-1]['last']} (one incident)."
        )
    if kind == "campaign" and stats["flooded_alerts"]:
        reasons.append(
            f"{_plural(stats['flooded_alerts'], 'alert')} of flooding signatures on these "
            "entities are included but were not counted as attack steps."
        )
    return tuple(reasons)
