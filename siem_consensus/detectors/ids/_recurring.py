"""Recurring single-stage groups: one incident per host and finding, not one per episode.

A host-based sensor that reports the same kind of step on the same host every few hours or
days (a novelty detector's "new service_stop combination" at each service restart, a DNS
server's high-entropy lookups) gives a chain of small single-stage components: each window
of activity is its own group, because ``campaign_gap_s`` keeps far-apart activity apart. For
a reviewer they are one finding about one host. So single-stage components that

* have exactly one member (alerts carrying only that host's address, no second endpoint),
* and whose attack steps come from the same set of mapping rules,

are merged, in time order, while each episode starts at most ``recurrence_gap_s`` after the
previous one ends. The merged incident keeps every alert and every active window (membership
is unchanged), and ``stats["episodes"]`` describes each episode so that a reader can still
judge them one by one (e.g. which of several service stops happened during a software update).
Campaigns, pairs (attacker and victim known) and groups of several hosts are never merged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ._config import IdsThresholds

__all__ = ["Part", "episode_stats", "merge_recurring"]

Row = dict[str, Any]
_SIGNATURES = 20


@dataclass
class Part:
    """One future incident: its kind, its episodes' rows and its members' active runs."""

    kind: str
    episodes: list[list[Row]]
    runs: list[list[Any]]

    @property
    def rows(self) -> list[Row]:
        """Every row of every episode."""
        return [row for episode in self.episodes for row in episode]


def merge_recurring(
    parts: dict[tuple[int, str], list[Row]], active: dict[int, list[list[Any]]], cfg: IdsThresholds
) -> list[Part]:
    """Parts of the incidents: recurring single-stage components merged (module docstring)."""
    out: list[Part] = []
    lone: dict[tuple[Any, ...], list[Part]] = {}
    for (group, kind), rows in parts.items():
        part = Part(kind, [rows], list(active[group]))
        key = _key(part) if kind == "single_stage" and cfg.recurrence_gap_s > 0 else None
        if key is None:
            out.append(part)
        else:
            lone.setdefault(key, []).append(part)
    for same in lone.values():
        same.sort(key=lambda p: _span(p.rows)[0])
        merged = same[0]
        for part in same[1:]:
            gap = (_span(part.rows)[0] - _span(merged.rows)[1]).total_seconds()
            if gap <= cfg.recurrence_gap_s:
                merged.episodes += part.episodes
                merged.runs += part.runs
            else:
                out.append(merged)
                merged = part
        out.append(merged)
    return out


def _key(part: Part) -> tuple[Any, ...] | None:
    """(host, mapping rules) of a one-host component with only timed rows, else None."""
    members = {run[0] for run in part.runs}
    rows = part.rows
    if len(members) != 1 or any(row["b"] is not None or row["t_first"] is None for row in rows):
        return None
    rules = sorted({row["rule"] for row in rows if row["step"] and row["rule"] is not None})
    return (members.pop(), tuple(rules)) if rules else None


def _span(rows: Sequence[Row]) -> tuple[datetime, datetime]:
    return min(row["t_first"] for row in rows), max(row["t_last"] for row in rows)


def episode_stats(episodes: Sequence[Sequence[Row]]) -> list[dict[str, Any]]:
    """Per episode: ``first``/``last`` (ISO), ``alerts``, ``attack_steps``, ``windows`` and its
    ``signatures`` (most frequent first, at most 20)."""
    out = []
    for rows in episodes:
        timed = [row for row in rows if row["t_first"] is not None]
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["sig"]] = counts.get(row["sig"], 0) + int(row["n"])
        names = sorted(counts, key=lambda s: (-counts[s], s))[:_SIGNATURES]
        out.append(
            {
                "first": min(r["t_first"] for r in timed).isoformat() if timed else None,
                "last": max(r["t_last"] for r in timed).isoformat() if timed else None,
                "alerts": int(sum(row["n"] for row in rows)),
                "attack_steps": int(sum(row["n"] for row in rows if row["step"])),
                "windows": len({row["slot"] for row in rows}),
                "signatures": names,
            }
        )
    return out
