"""Alert floods: one low-priority incident per signature and run of flood windows.

A signature's flood windows (see :mod:`._windows`) closer than ``flood_gap_s`` form one
*chain*; the quiet windows in between belong to it too, so a chain covers every alert of the
signature from the first flood window to the last. State is one open chain per signature plus
the totals of its quiet windows since the last flood (at most ``flood_gap_s`` of them), so it
is bounded by the number of distinct signatures.

At the end, alerts of a chain that are members of a campaign or single-stage incident (a flood
on an attacked host belongs to the attack) are taken out; a chain left with fewer than
``flood_min_alerts`` alerts is no incident.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from ...models import Entities, Incident, Severity
from ._config import IdsThresholds
from ._evidence import event_of, incident_id, is_ip, records, severity_stats
from ._incidents import Context, score
from ._text import human_duration
from ._windows import Closed, is_in

__all__ = ["FloodChain", "FloodTracker", "flood_incident"]

_LEVELS = ("lv0", "lv1", "lv2", "lv3", "lv4")
_TOP_PAIRS = 200
_FLOOD_KEYS = ("slot", "sig", "a", "b", "n")


@dataclass
class FloodChain:
    """Totals of one signature over one run of flood windows."""

    sig: str
    first_slot: int | None
    last_slot: int | None
    n: int = 0
    levels: list[int] = field(default_factory=lambda: [0] * 5)
    t_first: datetime | None = None
    t_last: datetime | None = None
    rule: int | None = None
    sensors: set[str] = field(default_factory=set)
    flood_windows: int = 0
    max_pairs: int = 0
    top: Counter[tuple[str | None, str | None]] = field(default_factory=Counter)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)

    def add(self, row: dict[str, Any]) -> None:
        """Add one (slot, sig) totals row."""
        self.n += row["n"]
        for k, name in enumerate(_LEVELS):
            self.levels[k] += row[name]
        self.t_first = _earliest(self.t_first, row["t_first"])
        self.t_last = _latest(self.t_last, row["t_last"])
        if row["rule"] is not None:
            self.rule = row["rule"] if self.rule is None else min(self.rule, row["rule"])
        self.sensors.update(row["sensors"] or ())
        self.max_pairs = max(self.max_pairs, row["pairs"])
        self.last_slot = row["slot"]

    def add_flood(
        self, row: dict[str, Any], evidence: list[dict[str, Any]], limit: int
    ) -> list[dict[str, Any]]:
        """Add a flood window (after the quiet windows pending before it); returns the items
        of ``evidence`` kept as this chain's evidence."""
        for quiet in self.pending:
            self.add(quiet)
        self.pending.clear()
        self.add(row)
        self.flood_windows += 1
        for item in evidence:
            self.top[(item["a"], item["b"])] += item["n"]
        kept = evidence[: max(limit - len(self.evidence), 0)]
        self.evidence += kept
        if len(self.top) > _TOP_PAIRS:
            self.top = Counter(dict(self.top.most_common(_TOP_PAIRS)))
        return kept

    def subtract(self, n: int, levels: list[int]) -> None:
        """Remove alerts that belong to another incident."""
        self.n -= n
        self.levels = [have - gone for have, gone in zip(self.levels, levels, strict=True)]


class FloodTracker:
    """Chains flood windows per signature across successive closed windows."""

    def __init__(self, cfg: IdsThresholds) -> None:
        self._cfg = cfg
        self._open: dict[str, FloodChain] = {}
        self.done: list[FloodChain] = []

    def add(self, closed: Closed) -> None:
        """Fold the totals of closed windows (given in slot order across calls)."""
        totals = closed.totals
        flooding = totals.filter(pl.col("flood"))["sig"].unique().to_list()
        wanted = sorted(set(flooding) | set(self._open))
        if not wanted:
            return
        relevant = totals.filter(is_in(pl.col("sig"), wanted, pl.String())).sort(
            "sig", "slot", nulls_last=True
        )
        # Flood rows are many and wide: only pairs and counts are read from each, and the rows
        # kept as evidence are filled in at the end.
        rows = closed.flood_rows
        evidence: dict[tuple[Any, str], list[dict[str, Any]]] = {}
        for index, (slot, sig, a, b, n) in enumerate(rows.select(_FLOOD_KEYS).iter_rows()):
            evidence.setdefault((slot, sig), []).append({"a": a, "b": b, "n": n, "_row": index})
        kept: list[dict[str, Any]] = []
        for row in relevant.iter_rows(named=True):
            kept += self._step(row, evidence.get((row["slot"], row["sig"]), []))
        if kept:
            picked = rows[pl.Series([item["_row"] for item in kept], dtype=pl.UInt32)]
            for item, full in zip(kept, records(picked), strict=True):
                item.clear()
                item.update(full)

    def _step(self, row: dict[str, Any], evidence: list[dict[str, Any]]) -> list[dict[str, Any]]:
        sig, slot, limit = row["sig"], row["slot"], self._cfg.evidence_limit
        if slot is None:
            if not row["flood"]:
                return []
            untimed = FloodChain(sig, None, None)
            self.done.append(untimed)
            return untimed.add_flood(row, evidence, limit)
        chain: FloodChain | None = self._open.get(sig)
        if chain is not None and slot - (chain.last_slot or 0) > self._cfg.flood_gap_windows:
            self.done.append(self._open.pop(sig))
            chain = None
        if row["flood"]:
            if chain is None:
                chain = self._open[sig] = FloodChain(sig, slot, slot)
            return chain.add_flood(row, evidence, limit)
        if chain is not None:
            chain.pending.append(row)
        return []

    def finish(self, absorbed: pl.DataFrame) -> list[FloodChain]:
        """Close every chain, take out ``absorbed`` alerts (rows ``slot, sig, n, lv0..lv4``
        of incident members) and return the chains still large enough to report."""
        for chain in self._open.values():
            chain.pending.clear()
            self.done.append(chain)
        self._open.clear()
        by_sig: dict[str, list[FloodChain]] = {}
        for chain in self.done:
            by_sig.setdefault(chain.sig, []).append(chain)
        if not absorbed.is_empty() and by_sig:
            mine = absorbed.filter(is_in(pl.col("sig"), sorted(by_sig), pl.String()))
            for row in mine.iter_rows(named=True):
                covering = _covering(by_sig[row["sig"]], row["slot"])
                if covering is not None:
                    covering.subtract(row["n"], [row[name] for name in _LEVELS])
        return [c for c in self.done if c.n >= self._cfg.flood_min_alerts]


def _covering(chains: list[FloodChain], slot: int | None) -> FloodChain | None:
    for chain in chains:
        if slot is None and chain.first_slot is None:
            return chain
        first, last = chain.first_slot, chain.last_slot
        if slot is not None and first is not None and last is not None and first <= slot <= last:
            return chain
    return None


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def flood_incident(chain: FloodChain, ctx: Context) -> Incident:
    """The ``alert_flood`` incident of one chain."""
    cfg = ctx.cfg
    stats = _flood_stats(chain, ctx)
    value = score("alert_flood", stats, cfg)
    evidence = sorted(
        (event_of(row, "f_") for row in chain.evidence[: cfg.evidence_limit]),
        key=lambda e: (e.timestamp is None, e.timestamp, e.event_id),
    )
    top = chain.top.most_common()
    sources = [a for (a, _), _ in top if a and is_ip(a)]
    targets = [b for (_, b), _ in top if b and is_ip(b)]
    limit = cfg.max_listed_entities
    return Incident(
        id=incident_id("alert_flood", [chain.sig], chain.t_first),
        detector="ids",
        kind="alert_flood",
        title=f"Alert flood: {chain.sig} ({chain.n:,} alerts)",
        severity=Severity.from_score(value),
        score=value,
        entities=Entities(
            source_ips=tuple(dict.fromkeys(sources))[:limit],
            destination_ips=tuple(dict.fromkeys(targets))[:limit],
        ),
        first_seen=chain.t_first,
        last_seen=chain.t_last,
        event_count=chain.n,
        evidence_event_ids=tuple(e.event_id for e in evidence),
        evidence=tuple(evidence),
        stats=stats,
        attack=ctx.amap.refs(chain.rule) if chain.rule is not None else (),
        reasons=_flood_reasons(chain, cfg),
    )


def _flood_stats(chain: FloodChain, ctx: Context) -> dict[str, Any]:
    refs = ctx.amap.refs(chain.rule) if chain.rule is not None else ()
    stage = ctx.amap.stage(chain.rule) if chain.rule is not None else None
    highest, counts = severity_stats(chain.levels)
    duration = 0.0
    if chain.t_first and chain.t_last:
        duration = (chain.t_last - chain.t_first).total_seconds()
    return {
        "alerts": chain.n,
        "attack_steps": 0,
        "distinct_signatures": 1,
        "signatures": [[chain.sig, chain.n]],
        "stages": [stage] if stage else [],
        "stage_count": 1 if stage else 0,
        "tactics": list(dict.fromkeys(ref.tactic for ref in refs)),
        "max_severity": highest,
        "severity_counts": counts,
        "sensors": sorted(chain.sensors),
        "intel_hits": [],
        "asset_criticality": None,
        "flood": True,
        "duration_s": round(duration, 3),
        "flood_windows": chain.flood_windows,
        "max_pairs_per_window": chain.max_pairs,
        "top_pairs": [[a, b, n] for (a, b), n in chain.top.most_common(10)],
        "narrative": _flood_story(chain, duration),
        "population": ctx.population,
    }


def _flood_story(chain: FloodChain, duration: float) -> str:
    return (
        f"{chain.sig} fired {chain.n:,} times over {human_duration(duration)} "
        f"({chain.flood_windows:,} flood window{'s' if chain.flood_windows != 1 else ''}), "
        f"from up to {chain.max_pairs:,} entity pairs per window; treated as noise, not as "
        "attack steps."
    )


def _flood_reasons(chain: FloodChain, cfg: IdsThresholds) -> tuple[str, ...]:
    window = human_duration(cfg.window_s)
    rule = (
        f"no kill-chain stage and at least {cfg.flood_min_alerts} alerts"
        if chain.rule is None
        else f"at least {cfg.flood_min_sources} distinct sources"
    )
    return (
        f"One signature, {chain.n:,} alerts outside any attack group (rule: {rule} in a "
        f"{window} window, no severity above {cfg.flood_max_severity}/4).",
        f"Flood windows closer than {human_duration(cfg.flood_gap_s)} are merged; "
        f"{chain.flood_windows:,} window(s) flooded, up to {chain.max_pairs:,} entity pairs each.",
    )
