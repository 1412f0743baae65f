"""Stage evidence after a foothold: a compromised host's later steps belong to its campaign.

A host that was the *target* of a foothold step (an attack step of one of
``foothold_stages``, by default initial access, execution and persistence, from a mapping
rule that is not a ``follow_up`` rule) stays "compromised" for ``foothold_horizon_s``
(rounded down to whole windows). The target is the alert's second endpoint when it has two
(attacker -> victim), else its only one (host-based sensors). Within that horizon:

1. **Follow-up steps** (:meth:`Footholds.mark`, when windows close): alerts of ``follow_up``
   mapping rules (signals too common to be evidence alone, such as a high-entropy web
   request) are attack steps when one of their endpoints is such a host and the foothold is
   in the same window or an earlier one. Elsewhere they stay ordinary alerts. Footholds seen
   in closed windows are remembered (latest window per host, forgotten once older than the
   horizon), so memory grows with the compromised hosts, not with the input. A follow-up
   alert never makes a foothold itself, so the horizon is not renewed by the signal it
   unlocks.
2. **Stage links** (:func:`foothold_edges`, when groups are formed): a later
   post-exploitation step (stage rank 2 or more: execution, persistence, privilege
   escalation, command and control, exfiltration, impact, ...) on the compromised host links
   its node to the foothold's node, however long the gap between them (``campaign_gap_s``
   otherwise splits them). Reconnaissance and credential access after a gap still start a
   new group: they are what any exposed host sees, not a consequence of the foothold.

3. **Scans that lead to a foothold** (:func:`~._groups.components`): two hosts reporting a
   reconnaissance step in one window on single-address alerts are not yet a sweep
   (``sweep_min_hosts`` is 3), unless one of them becomes a foothold target in that window or
   within the horizon after it: the scan was the campaign's reconnaissance, and the other
   host's scan alert (a lone "insecure connection attempt (scan)") belongs to it.

The order within one window is not known to the rule (a window is the unit of time), so a
foothold and a follow-up alert in the same window count in either order.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from ._windows import is_in

__all__ = ["Footholds", "foothold_edges", "footholds_in"]

_INT = pl.Int64()


def _target() -> pl.Expr:
    return pl.coalesce("b", "a")


def footholds_in(rows: pl.DataFrame, foothold_rules: Sequence[int]) -> pl.DataFrame:
    """``e, f``: targets of foothold steps and their windows (timed rows only)."""
    return (
        rows.filter(
            pl.col("step")
            & pl.col("slot").is_not_null()
            & is_in(pl.col("rule").cast(pl.Int64), foothold_rules, _INT).fill_null(False)
        )
        .select(_target().alias("e"), pl.col("slot").alias("f"))
        .drop_nulls()
        .unique()
    )


class Footholds:
    """Hosts compromised in closed windows, and the follow-up steps they unlock.

    Args:
        foothold_rules: Indexes of the mapping rules whose steps make a foothold.
        follow_rules: Indexes of the ``follow_up`` mapping rules.
        horizon: ``foothold_windows`` of the thresholds (-1: off).
    """

    def __init__(
        self, foothold_rules: Sequence[int], follow_rules: Sequence[int], horizon: int
    ) -> None:
        self.foothold_rules = sorted(foothold_rules)
        self.follow_rules = sorted(follow_rules)
        self.horizon = horizon
        self.last: dict[str, int] = {}
        """Latest foothold window per compromised host, within the horizon."""

    def mark(self, flagged: pl.DataFrame) -> pl.DataFrame:
        """``flagged`` (rows of closed windows with ``flood`` and ``step``) with the
        follow-up alerts on compromised hosts made attack steps; remembers the footholds."""
        if self.horizon < 0:
            return flagged
        holds = footholds_in(flagged, self.foothold_rules)
        if self.follow_rules:
            flagged = self._unlock(flagged, holds)
        self._remember(holds, flagged["slot"].max())
        return flagged

    def _unlock(self, flagged: pl.DataFrame, holds: pl.DataFrame) -> pl.DataFrame:
        prior = pl.DataFrame(
            {"e": list(self.last), "f": list(self.last.values())},
            schema={"e": pl.String, "f": holds.schema["f"]},
        )
        known = pl.concat([holds, prior]).unique()
        indexed = flagged.with_row_index("_i")
        follow = is_in(pl.col("rule").cast(pl.Int64), self.follow_rules, _INT).fill_null(False)
        candidates = indexed.filter(
            follow & ~pl.col("step") & ~pl.col("flood") & pl.col("slot").is_not_null()
        )
        if candidates.is_empty() or known.is_empty():
            return flagged
        ends = pl.concat(
            [candidates.select("_i", "slot", e="a"), candidates.select("_i", "slot", e="b")]
        ).drop_nulls("e")
        within = (pl.col("f") <= pl.col("slot")) & (pl.col("slot") - pl.col("f") <= self.horizon)
        hit = ends.join(known, on="e").filter(within)["_i"].unique()
        step = pl.col("step") | is_in(pl.col("_i"), hit.to_list(), pl.UInt32())
        return indexed.with_columns(step.alias("step")).drop("_i")

    def _remember(self, holds: pl.DataFrame, newest: object) -> None:
        for e, f in holds.group_by("e").agg(pl.col("f").max()).iter_rows():
            self.last[e] = max(f, self.last.get(e, f))
        if isinstance(newest, int):
            self.last = {e: f for e, f in self.last.items() if newest - f <= self.horizon}


def foothold_edges(
    rows: pl.DataFrame, foothold_rules: Sequence[int], post_rules: Sequence[int], horizon: int
) -> list[tuple[int, int]]:
    """Edges joining a compromised host's foothold nodes to the nodes of its later
    post-exploitation steps within ``horizon`` windows (rows with ``node_a``/``node_b``)."""
    if horizon < 0 or not foothold_rules or not post_rules:
        return []
    holds = (
        rows.filter(
            pl.col("step")
            & pl.col("slot").is_not_null()
            & is_in(pl.col("rule").cast(pl.Int64), sorted(foothold_rules), _INT).fill_null(False)
        )
        .select(
            _target().alias("e"),
            pl.col("slot").alias("f"),
            pl.when(pl.col("b").is_not_null())
            .then(pl.col("node_b"))
            .otherwise(pl.col("node_a"))
            .alias("fnode"),
        )
        .drop_nulls()
        .unique()
    )
    post = rows.filter(
        pl.col("step")
        & pl.col("slot").is_not_null()
        & is_in(pl.col("rule").cast(pl.Int64), sorted(post_rules), _INT).fill_null(False)
    )
    later = (
        pl.concat(
            [
                post.select("slot", e="a", node="node_a"),
                post.select("slot", e="b", node="node_b"),
            ]
        )
        .drop_nulls()
        .unique()
    )
    within = (
        (pl.col("f") <= pl.col("slot"))
        & (pl.col("slot") - pl.col("f") <= horizon)
        & (pl.col("fnode") != pl.col("node"))
    )
    pairs = later.join(holds, on="e").filter(within).select("fnode", "node").unique()
    return [(int(a), int(b)) for a, b in pairs.sort("fnode", "node").iter_rows()]
