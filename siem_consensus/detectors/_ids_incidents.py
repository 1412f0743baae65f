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
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import polars as pl

from ..enrich.attack_map import AttackMap, phase_of
from ..enrich.intel import ThreatIntel
from ..enrich.zones import AssetInventory
from ..models import AttackRef, Entities, Event, Incident, Severity
from ._ids_config import IdsThresholds
from ._ids_evidence import TACTIC_ORDER, incident_id, ip_order, is_ip, pick_evidence
from ._ids_evidence import severity_stats as _severity
from ._ids_state import LEVELS
from ._ids_text import Step, narrative, reasons_for, title_for

__all__ = ["Context", "group_incident", "score"]

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
    rows: pl.DataFrame, active: list[list[Any]], kind: str, ctx: Context
) -> Incident:
    """The incident of one component: its kept rows and ``[entity, first slot, last slot]``
    runs of the windows where its members were active."""
    members = sorted({run[0] for run in active}, key=ip_order)
    steps = _steps(rows, ctx.amap)
    stats = _stats(rows, members, steps, ctx)
    stats["active_windows"] = {"window_s": ctx.cfg.window_s, "runs": active}
    label = max(steps, key=lambda s: (s.alerts, -s.rank)).rule.label if steps else None
    stage_of = [
        ctx.amap.stage(r) if r is not None and step else None
        for r, step in zip(rows["rule"], rows["step"], strict=True)
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


def _steps(rows: pl.DataFrame, amap: AttackMap) -> list[Step]:
    mapped = (
        rows.filter(pl.col("step") & pl.col("rule").is_not_null())
        .sort("t_first", "f_input", "f_line", nulls_last=True)
        .group_by("rule", maintain_order=True)
        .agg(
            pl.col("n").sum(),
            pl.col("t_first").first(),
            pl.col("a").first(),
            pl.col("b").first(),
            pl.col("f_destination_port").first(),
        )
    )
    steps = [
        Step(
            rule=amap.rules[row["rule"]],
            index=row["rule"],
            stage=amap.stage(row["rule"]),
            rank=amap.stage_ranks[row["rule"]],
            alerts=int(row["n"]),
            first_seen=row["t_first"],
            actor=row["a"],
            target=row["b"],
            port=row["f_destination_port"],
        )
        for row in mapped.iter_rows(named=True)
    ]
    return sorted(steps, key=lambda s: (s.rank, s.first_seen is None, s.first_seen, s.index))


def _stats(
    rows: pl.DataFrame, members: list[str], steps: list[Step], ctx: Context
) -> dict[str, Any]:
    levels = [int(rows[c].sum()) for c in LEVELS]
    highest, counts = _severity(levels)
    signatures = (
        rows.group_by("sig").agg(pl.col("n").sum()).sort(["n", "sig"], descending=[True, False])
    )
    first: datetime | None = rows.select(pl.col("t_first").min()).item()
    last: datetime | None = rows.select(pl.col("t_last").max()).item()
    stages = list(dict.fromkeys(s.stage for s in steps))
    stats: dict[str, Any] = {
        "alerts": int(rows["n"].sum()),
        "attack_steps": int(rows.filter(pl.col("step"))["n"].sum()),
        "flooded_alerts": int(rows.filter(pl.col("flood"))["n"].sum()),
        "distinct_signatures": signatures.height,
        "signatures": [[s, int(n)] for s, n in signatures.head(20).iter_rows()],
        "stages": stages,
        "stage_count": len(stages),
        "phases": list(dict.fromkeys(phase_of(s) for s in stages)),
        "max_stage_rank": max((s.rank for s in steps), default=0),
        "tactics": _tactics(steps, ctx.amap),
        "techniques": _techniques(steps, ctx.amap),
        "max_severity": highest,
        "severity_counts": counts,
        "sensors": sorted(rows["sensor"].drop_nulls().unique().to_list()),
        "intel_hits": [],
        "asset_criticality": _criticality(ctx.inventory, members),
        "flood": False,
        "duration_s": round((last - first).total_seconds(), 3) if first and last else 0.0,
        "windows": rows["slot"].n_unique(),
        **_roles(rows, ctx.amap),
        "member_entities": members,
        "narrative": narrative(steps) or _unmapped_story(rows, ctx.cfg),
        "population": ctx.population,
        "_first": first,
        "_last": last,
    }
    return stats


def _roles(rows: pl.DataFrame, amap: AttackMap) -> dict[str, list[str]]:
    ranks = pl.col("rule").replace_strict(
        list(range(len(amap.rules))), list(amap.stage_ranks), default=None, return_dtype=pl.Int32
    )
    steps = rows.filter(pl.col("step")).with_columns(ranks.alias("rank"))
    paired = steps.filter(pl.col("b").is_not_null())
    inbound = paired.filter(pl.col("rank").is_null() | (pl.col("rank") <= 2))
    outbound = paired.filter(pl.col("rank") >= 3)
    attackers = _ranked(inbound, "a")
    victims = _ranked(inbound, "b") or _ranked(steps.filter(pl.col("b").is_null()), "a")
    victims = victims or _ranked(outbound, "a")
    only_victims = [v for v in victims if v not in attackers]
    victims = only_victims or victims
    return {
        "attackers": attackers[:_LISTED],
        "victims": victims[:_LISTED],
        "peers": _ranked(outbound, "b")[:_LISTED],
    }


def _unmapped_story(rows: pl.DataFrame, cfg: IdsThresholds) -> str:
    """Narrative of a group whose attack steps no mapping rule explains (high severity)."""
    steps = rows.filter(pl.col("step"))
    names = steps.group_by("sig").agg(pl.col("n").sum())
    names = names.sort(["n", "sig"], descending=[True, False])
    listed = "; ".join(f"{sig} ({n})" for sig, n in names.head(3).iter_rows())
    return (
        f"{int(steps['n'].sum()):,} alerts of severity {cfg.link_min_severity}/4 or above that no "
        f"ATT&CK mapping rule explains: {listed}."
    )


def _ranked(frame: pl.DataFrame, column: str) -> list[str]:
    if frame.is_empty():
        return []
    counted = (
        frame.group_by(column).agg(pl.col("n").sum()).sort(["n", column], descending=[True, False])
    )
    return [str(v) for v in counted[column].to_list()]


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
