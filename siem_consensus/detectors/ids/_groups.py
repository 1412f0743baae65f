"""Entity-centric grouping of the kept rows into candidate incidents.

1. **Entity chains.** Each entity (address or host name) is *active* in the windows where it is
   an endpoint of an attack step. Its active windows split into chains wherever two are more
   than ``campaign_gap_s`` apart: a node of the graph is one (entity, chain).
2. **Links.** Every attack step joining two endpoints links their nodes (union-find). So
   alerts from different sensors about the same pair meet in one node pair; an attacker's
   steps against a victim and the victim's later outbound steps (post-exploitation: a
   connection to a C2 port, a large transfer) meet at the victim's node; two attackers
   against two other victims, or the same entities far apart in time, stay apart.
   **Sweeps.** Alerts that carry only the reporting host's address (host-based sensors,
   AIT-ADS) name no attacker, so nothing links two scanned hosts. When at least
   ``sweep_min_hosts`` such hosts report a reconnaissance step in the same window, that is one
   scan of the network: their nodes are linked; two such hosts are one when one of them
   becomes a foothold target (:mod:`._footholds`) in that window or within
   ``foothold_horizon_s`` after it. Alerts with two endpoints never need this (the
   scanner's address links its targets), so background scanning of exposed hosts, which
   arrives with a source address, is judged by the flood rule instead.
   **Footholds.** A host's later post-exploitation steps within ``foothold_horizon_s`` of a
   foothold on it (:mod:`._footholds`) link to the foothold's node, across any gap.
3. **Members.** A connected component's entities are its *members*, and the windows where they
   were active its *active windows*. A kept row belongs to the component when one of its
   endpoints is active in the row's window within the component and every endpoint is a
   member (so a noise alert between a member and an outsider does not join, and neither do an
   entity's alerts in windows where it showed no attack step). Rows of one entity alone
   (host-based alerts) belong to its node.
4. **Kinds.** A component with at least ``min_alerts`` attack-step alerts, or with an attack
   step in one of the ``standalone_stages`` (impact by default), is an incident: ``campaign``
   with at least ``campaign_min_stages`` distinct kill-chain stages, else ``single_stage``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain
from typing import Any

import polars as pl

from ._config import IdsThresholds
from ._footholds import foothold_edges, footholds_in
from ._windows import is_in, stage_expr

__all__ = ["components", "qualify"]

_INT = pl.Int64()


def components(
    kept: pl.DataFrame,
    cfg: IdsThresholds,
    sweep_rules: Sequence[int] = (),
    foothold_rules: Sequence[int] = (),
    post_rules: Sequence[int] = (),
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows with their component (``group``), and the active windows ``group, e, slot`` of
    each component's members.

    Args:
        kept: Kept partial rows (``step``, ``flood`` flagged).
        cfg: Thresholds.
        sweep_rules: Indexes of the mapping rules whose steps are reconnaissance (sweeps).
        foothold_rules: Indexes of the mapping rules whose steps make a foothold.
        post_rules: Indexes of the mapping rules of post-exploitation stages (rank >= 2).

    Rows whose endpoints are not all members of one component are left out.
    """
    active = _active(kept, cfg.gap_windows)
    nodes = active.select("e", "chain").unique().sort("e", "chain").with_row_index("node")
    active = active.join(nodes, on=["e", "chain"])
    rows = _with_nodes(kept, active.select("slot", "e", "node"))
    edges = (
        rows.filter(
            pl.col("step") & pl.col("node_a").is_not_null() & pl.col("node_b").is_not_null()
        )
        .select("node_a", "node_b")
        .unique()
    )
    holds = footholds_in(rows, foothold_rules) if cfg.foothold_windows >= 0 else None
    sweeps = _sweep_edges(rows, sweep_rules, cfg.sweep_min_hosts, holds, cfg.foothold_windows)
    later = foothold_edges(rows, foothold_rules, post_rules, cfg.foothold_windows)
    roots = _union_find(nodes.height, chain(edges.iter_rows(), sweeps, later))
    group_of = pl.DataFrame(
        {"node": range(nodes.height), "group": roots},
        schema={"node": pl.UInt32, "group": pl.Int64},
    )
    windows = active.join(group_of, on="node").select("group", "e", "slot")
    members = windows.select("group", "e").unique()
    rows = rows.with_columns(pl.coalesce("node_a", "node_b").alias("node")).join(
        group_of, on="node"
    )
    owned = rows.join(members, left_on=["group", "a"], right_on=["group", "e"], how="semi")
    alone = owned.filter(pl.col("b").is_null())
    pair = owned.filter(pl.col("b").is_not_null()).join(
        members, left_on=["group", "b"], right_on=["group", "e"], how="semi"
    )
    return pl.concat([alone, pair]).drop("node", "node_a", "node_b"), windows


def qualify(rows: pl.DataFrame, cfg: IdsThresholds, stages: list[str]) -> pl.DataFrame:
    """``group, kind`` of the components that are incidents (see the module docstring)."""
    summary = (
        rows.filter(pl.col("step"))
        .with_columns(stage_expr(stages))
        .group_by("group")
        .agg(
            pl.col("n").sum().alias("steps"),
            pl.col("stage").drop_nulls().n_unique().alias("k"),
            is_in(pl.col("stage"), sorted(cfg.standalone_stages), pl.String()).any().alias("lone"),
        )
    )
    kind = (
        pl.when(pl.col("k") >= cfg.campaign_min_stages)
        .then(pl.lit("campaign"))
        .otherwise(pl.lit("single_stage"))
    )
    enough = (pl.col("steps") >= cfg.min_alerts) | pl.col("lone").fill_null(False)
    return summary.filter(enough).select("group", kind.alias("kind"))


def _sweep_edges(
    rows: pl.DataFrame,
    sweep_rules: Sequence[int],
    min_hosts: int,
    holds: pl.DataFrame | None = None,
    horizon: int = -1,
) -> list[tuple[int, int]]:
    """Edges joining the nodes of hosts that report a reconnaissance step, with no second
    endpoint, in the same window, when there are at least ``min_hosts`` of them, or at least
    two of which one is a foothold target (``holds``: ``e, f``) within ``horizon`` windows
    after it."""
    if not sweep_rules:
        return []
    recon = rows.filter(
        pl.col("step")
        & pl.col("b").is_null()
        & pl.col("slot").is_not_null()
        & pl.col("node_a").is_not_null()
        & is_in(pl.col("rule").cast(pl.Int64), sorted(sweep_rules), pl.Int64())
    )
    swept = recon.group_by("slot").agg(
        pl.col("a").n_unique().alias("hosts"), pl.col("node_a").unique().sort()
    )
    enough = pl.col("hosts") >= min_hosts
    if holds is not None and horizon >= 0 and not holds.is_empty():
        after = (pl.col("f") >= pl.col("slot")) & (pl.col("f") - pl.col("slot") <= horizon)
        led = recon.select("slot", e="a").unique().join(holds, on="e").filter(after)["slot"]
        enough = enough | (
            (pl.col("hosts") >= 2) & is_in(pl.col("slot"), led.unique().to_list(), _INT)
        )
    edges: list[tuple[int, int]] = []
    for nodes in swept.filter(enough)["node_a"].to_list():
        edges += zip(nodes[:-1], nodes[1:], strict=True)
    return edges


def _active(kept: pl.DataFrame, gap: int) -> pl.DataFrame:
    """``slot, e, chain``: where each entity is active, and which of its chains that is."""
    steps = kept.filter(pl.col("step"))
    active = (
        pl.concat([steps.select("slot", e="a"), steps.select("slot", e="b")])
        .drop_nulls("e")
        .unique()
    )
    timed = active.filter(pl.col("slot").is_not_null()).sort("e", "slot")
    new_chain = (pl.col("slot").diff().over("e") > gap).fill_null(False).cast(pl.Int64)
    timed = timed.with_columns(new_chain.cum_sum().over("e").alias("chain"))
    untimed = active.filter(pl.col("slot").is_null()).with_columns(
        pl.lit(-1, pl.Int64).alias("chain")
    )
    return pl.concat([timed, untimed])


def _with_nodes(kept: pl.DataFrame, active: pl.DataFrame) -> pl.DataFrame:
    at_a = active.rename({"e": "a", "node": "node_a"})
    at_b = active.rename({"e": "b", "node": "node_b"})
    return kept.join(at_a, on=["slot", "a"], how="left", nulls_equal=True).join(
        at_b, on=["slot", "b"], how="left", nulls_equal=True
    )


def _union_find(size: int, edges: Iterable[tuple[Any, ...]]) -> list[int]:
    """Component of each node, named by its smallest node (deterministic)."""
    parent = list(range(size))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return [find(x) for x in range(size)]
