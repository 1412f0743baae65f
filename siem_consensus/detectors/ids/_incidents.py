"""Describe IDS components and flood chains as :class:`Incident` objects (stats, score, text).

Score (0-1, severity by :meth:`Severity.from_score`), with V the highest normalised sensor
severity as ``(max - 1) / 3`` (0 when unknown), C the asset criticality (low 0, medium 1/3,
high 2/3, critical 1; 0 without an inventory) and I 1 when an entity or domain is on a
threat-intel list:

* ``campaign``: 0.4 + 0.2 D + 0.15 P + 0.1 V + 0.05 S + 0.05 C + 0.05 I, where D, stage
  diversity, is ``min(1, (stages - 1) / 3)``; P, progression, the furthest stage rank / 4; S,
  alert types, ``min(1, (signatures - 1) / (escalate_signatures - 1))``. Every campaign is at
  least medium (0.47); Scenario 2 (5 stages, up to exfiltration, severity 4/4, 5 signatures)
  scores 0.9, critical; reconnaissance, exploitation and privilege escalation without sensor
  severities (AIT-ADS) score 0.66, high; without severities a campaign tops out at 0.8.
* ``single_stage``: 0.4 + 0.1 P + 0.1 V + 0.05 A + 0.05 C + 0.05 I, where A, volume, is
  ``min(1, log10(attack steps / min_alerts) / 2)``: medium unless criticality or intel lift it.
* ``alert_flood``: 0.2 + 0.1 V: low.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias
from urllib.parse import urlsplit

from ...enrich.attack_map import AttackMap, phase_of
from ...enrich.intel import ThreatIntel
from ...enrich.zones import AssetInventory
from ...models import AttackRef, Entities, Event, Incident, Severity
from ._config import IdsThresholds
from ._evidence import TACTIC_ORDER, incident_id, ip_order, is_ip, pick_evidence
from ._evidence import nulls_last as _nulls_last
from ._evidence import severity_stats as _severity
from ._recurring import episode_stats
from ._state import LEVELS
from ._text import Step, narrative, reasons_for, title_for

__all__ = ["Context", "Row", "group_incident", "score"]

Row: TypeAlias = dict[str, Any]
"""A kept partial row as a dict. Components hold a few dozen rows, so their statistics are
plain Python: a polars query per statistic would cost more than the work itself."""

_CRITICALITY = ("low", "medium", "high", "critical")
_LISTED = 20


@dataclass(frozen=True)
class Context:
    """What describing an incident needs besides its rows."""

    cfg: IdsThresholds
    amap: AttackMap
    inventory: AssetInventory | None
    intel: ThreatIntel | None
    population: dict[str, Any]


def group_incident(
    rows: Sequence[Row],
    active: list[list[Any]],
    kind: str,
    ctx: Context,
    episodes: Sequence[Sequence[Row]] | None = None,
) -> Incident:
    """The incident of one component (or of several episodes of a recurring finding): its
    kept rows and ``[entity, first slot, last slot]`` runs of the windows where its members
    were active."""
    members = sorted({run[0] for run in active}, key=ip_order)
    steps = _steps(rows, ctx.amap)
    stats = _stats(rows, members, steps, ctx)
    stats["active_windows"] = {"window_s": ctx.cfg.window_s, "runs": active}
    stats["episodes"] = episode_stats(episodes or [rows])
    label = max(steps, key=lambda s: (s.alerts, -s.rank)).rule.label if steps else None
    stage_of = [
        ctx.amap.stage(row["rule"]) if row["rule"] is not None and row["step"] else None
        for row in rows
    ]
    evidence = pick_evidence(rows, stage_of, ctx.cfg.evidence_limit)
    stats["intel_hits"] = _intel(ctx.intel, members, evidence)
    value = score(kind, stats, ctx.cfg)
    anchor = [*stats["attackers"][:1], *stats["victims"][:1]] or members[:1]
    return Incident(
        id=incident_id(kind, anchor, stats["_first"]),
        detector="ids",
        kind=kind,
        title=title_for(kind, stats, label),
        severity=Severity.from_score(value),
        score=value,
        entities=_entities(stats, members, ctx.cfg.max_listed_entities),
        first_seen=stats.pop("_first"),
        last_seen=stats.pop("_last"),
        event_count=stats["alerts"],
        evidence_event_ids=tuple(e.event_id for e in evidence),
        evidence=tuple(evidence),
        stats=stats,
        attack=_attack(steps, ctx.amap),
        reasons=reasons_for(kind, stats, ctx.cfg),
    )


def score(kind: str, stats: dict[str, Any], cfg: IdsThresholds) -> float:
    """The detector score of an incident (formula in the module docstring)."""
    sev = stats["max_severity"]
    v = (sev - 1) / 3 if sev else 0.0
    crit = stats["asset_criticality"]
    c = _CRITICALITY.index(crit) / 3 if crit in _CRITICALITY else 0.0
    i = 1.0 if stats["intel_hits"] else 0.0
    p = stats.get("max_stage_rank", 0) / 4
    if kind == "campaign":
        d = min(1.0, (stats["stage_count"] - 1) / 3)
        span = max(cfg.escalate_signatures - 1, 1)
        s = min(1.0, (stats["distinct_signatures"] - 1) / span)
        value = 0.4 + 0.2 * d + 0.15 * p + 0.1 * v + 0.05 * s + 0.05 * c + 0.05 * i
    elif kind == "single_stage":
        a = min(1.0, max(0.0, math.log10(max(stats["attack_steps"], 1) / cfg.min_alerts) / 2))
        value = 0.4 + 0.1 * p + 0.1 * v + 0.05 * a + 0.05 * c + 0.05 * i
    else:
        value = 0.2 + 0.1 * v
    return round(min(1.0, float(value)), 4)


def _steps(rows: Sequence[Row], amap: AttackMap) -> list[Step]:
    """One step per mapping rule of the attack-step rows: its alerts, and the endpoints, time
    and port of its earliest row."""
    mapped = [row for row in rows if row["step"] and row["rule"] is not None]
    earliest: dict[int, Row] = {}
    alerts: dict[int, int] = {}
    for row in sorted(mapped, key=_first_alert):
        earliest.setdefault(row["rule"], row)
        alerts[row["rule"]] = alerts.get(row["rule"], 0) + row["n"]
    steps = [
        Step(
            rule=amap.rules[index],
            index=index,
            stage=amap.stage(index),
            rank=amap.stage_ranks[index],
            alerts=int(alerts[index]),
            first_seen=row["t_first"],
            actor=row["a"],
            target=row["b"],
            port=row["f_destination_port"],
        )
        for index, row in earliest.items()
    ]
    return sorted(steps, key=lambda s: (s.rank, s.first_seen is None, s.first_seen, s.index))


def _first_alert(row: Row) -> tuple[Any, ...]:
    return tuple(_nulls_last(row[c]) for c in ("t_first", "f_input", "f_line"))


def _stats(rows: Sequence[Row], members: list[str], steps: list[Step], ctx: Context) -> Row:
    levels = [sum(row[c] for row in rows) for c in LEVELS]
    highest, counts = _severity(levels)
    signatures = _totals(rows, "sig")
    first = min((row["t_first"] for row in rows if row["t_first"] is not None), default=None)
    last = max((row["t_last"] for row in rows if row["t_last"] is not None), default=None)
    stages = list(dict.fromkeys(s.stage for s in steps))
    stats: dict[str, Any] = {
        "alerts": _alerts(rows),
        "attack_steps": _alerts(row for row in rows if row["step"]),
        "flooded_alerts": _alerts(row for row in rows if row["flood"]),
        "distinct_signatures": len(signatures),
        "signatures": [[s, int(n)] for s, n in signatures[:20]],
        "stages": stages,
        "stage_count": len(stages),
        "phases": list(dict.fromkeys(phase_of(s) for s in stages)),
        "max_stage_rank": max((s.rank for s in steps), default=0),
        "tactics": _tactics(steps, ctx.amap),
        "techniques": _techniques(steps, ctx.amap),
        "max_severity": highest,
        "severity_counts": counts,
        "sensors": sorted({row["sensor"] for row in rows if row["sensor"] is not None}),
        "intel_hits": [],
        "asset_criticality": _criticality(ctx.inventory, members),
        "flood": False,
        "duration_s": round((last - first).total_seconds(), 3) if first and last else 0.0,
        "windows": len({row["slot"] for row in rows}),
        **_roles(rows, ctx.amap),
        "member_entities": members,
        "narrative": narrative(steps) or _unmapped_story(rows, ctx.cfg),
        "population": ctx.population,
        "_first": first,
        "_last": last,
    }
    return stats


def _alerts(rows: Iterable[Row]) -> int:
    return int(sum(row["n"] for row in rows))


def _roles(rows: Sequence[Row], amap: AttackMap) -> dict[str, list[str]]:
    steps = [row for row in rows if row["step"]]
    paired = [(row, _rank(row, amap)) for row in steps if row["b"] is not None]
    inbound = [row for row, rank in paired if rank is None or rank <= 2]
    outbound = [row for row, rank in paired if rank is not None and rank >= 3]
    attackers = _ranked(inbound, "a")
    victims = _ranked(inbound, "b") or _ranked([r for r in steps if r["b"] is None], "a")
    victims = victims or _ranked(outbound, "a")
    only_victims = [v for v in victims if v not in attackers]
    victims = only_victims or victims
    return {
        "attackers": attackers[:_LISTED],
        "victims": victims[:_LISTED],
        "peers": _ranked(outbound, "b")[:_LISTED],
    }


def _rank(row: Row, amap: AttackMap) -> int | None:
    rule = row["rule"]
    return amap.stage_ranks[rule] if rule is not None else None


def _unmapped_story(rows: Sequence[Row], cfg: IdsThresholds) -> str:
    """Narrative of a group whose attack steps no mapping rule explains (high severity)."""
    steps = [row for row in rows if row["step"]]
    listed = "; ".join(f"{sig} ({n})" for sig, n in _totals(steps, "sig")[:3])
    return (
        f"{_alerts(steps):,} alerts of severity {cfg.link_min_severity}/4 or above that no "
        f"ATT&CK mapping rule explains: {listed}."
    )


def _totals(rows: Iterable[Row], column: str) -> list[tuple[Any, int]]:
    """Alerts per value of ``column``, most first, ties by value (a missing value first)."""
    sums: dict[Any, int] = {}
    for row in rows:
        sums[row[column]] = sums.get(row[column], 0) + row["n"]
    return sorted(sums.items(), key=lambda item: (-item[1], item[0] is not None, item[0]))


def _ranked(rows: Iterable[Row], column: str) -> list[str]:
    return [str(value) for value, _ in _totals(rows, column)]


def _tactics(steps: list[Step], amap: AttackMap) -> list[str]:
    names = {ref.tactic for step in steps for ref in amap.refs(step.index)}
    known = [t for t in TACTIC_ORDER if t in names]
    return known + sorted(names - set(known))


def _techniques(steps: list[Step], amap: AttackMap) -> list[list[Any]]:
    counts: dict[str, int] = {}
    for step in steps:
        for ref in amap.refs(step.index):
            counts[ref.technique_id] = counts.get(ref.technique_id, 0) + step.alerts
    return [[t, n] for t, n in counts.items()]


def _attack(steps: list[Step], amap: AttackMap) -> tuple[AttackRef, ...]:
    refs: dict[str, AttackRef] = {}
    for step in steps:
        for ref in amap.refs(step.index):
            refs.setdefault(ref.technique_id, ref)
    return tuple(refs.values())


def _criticality(inventory: AssetInventory | None, members: list[str]) -> str | None:
    if inventory is None:
        return None
    levels = [
        asset.criticality
        for e in members
        if (asset := inventory.resolve(e)) is not None and asset.criticality in _CRITICALITY
    ]
    return max(levels, key=_CRITICALITY.index) if levels else None


def _intel(intel: ThreatIntel | None, members: list[str], evidence: list[Event]) -> list[list[str]]:
    if intel is None:
        return []
    values = list(members)
    for event in evidence:
        values += [v for v in (event.dns_question, event.tls_sni, _host(event.url_original)) if v]
    hits = {(h.indicator, h.source) for v in dict.fromkeys(values) for h in intel.lookup(v)}
    return [list(h) for h in sorted(hits)]


def _host(url: str | None) -> str | None:
    if not url:
        return None
    return urlsplit(url if "//" in url else "//" + url).hostname


def _entities(stats: dict[str, Any], members: list[str], limit: int) -> Entities:
    sources = [e for e in stats["attackers"] if is_ip(e)]
    others = [*stats["victims"], *stats["peers"], *sorted(members, key=ip_order)]
    targets = [e for e in dict.fromkeys(others) if is_ip(e) and e not in sources]
    names = [e for e in members if not is_ip(e)]
    return Entities(
        source_ips=tuple(sources[:limit]),
        destination_ips=tuple(targets[:limit]),
        hosts=tuple(sorted(names)[:limit]),
    )
