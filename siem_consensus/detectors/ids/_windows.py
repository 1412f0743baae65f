"""Evaluate closed windows of the IDS correlator: floods, attack steps, what is kept.

For every closed window (rows merged per :data:`~._ids_state.KEY`):

1. **Floods.** Per signature: with no alert above ``flood_max_severity``, a signature is a flood
   in this window when no mapping rule explains it and it fired at least ``flood_min_alerts``
   times (volume), or when it is mapped to a stage and at least ``flood_min_sources`` distinct
   sources fired it (spread: background scanning, not one attacker). Only alerts with two
   endpoints name a source: an alert that carries just the reporting host's address (host-based
   sensors, AIT-ADS) says where a scan was seen, not who scanned, and many hosts reporting the
   same step at once is one sweep of the network (:mod:`._groups`), not background noise.
   Its per-window totals go to the flood tracker (:mod:`._floods`), whatever entity they
   involve.
2. **Attack steps.** A row is an attack step ("significant") when it is not a flood and it is
   mapped to a kill-chain stage (by a rule that is not ``follow_up``), or its severity
   reaches ``link_min_severity``, or one of its endpoints is on a threat-intel list; a
   ``follow_up`` rule's row is one when its host was compromised shortly before
   (:mod:`._footholds`).
3. **Active entities** are the endpoints of attack steps in the window. Rows with at least one
   active endpoint are *kept* (flood rows included: a flood on an attacked host belongs to the
   attack); the others are dropped after feeding the population baseline. The state carried
   forward therefore grows with attack activity, not with the input.
4. **Population**: per (window, a, b) group, alerts, distinct signatures and distinct stages
   feed running means and standard deviations (every group of the input counts).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from ._config import IdsThresholds

__all__ = ["Closed", "Population", "evaluate", "is_in", "row_severity", "stage_expr"]

_POP = ("alerts", "signatures", "stages")
_FLOOD_EVIDENCE_ROWS = 5


def is_in(expr: pl.Expr, values: Sequence[Any], dtype: pl.DataType) -> pl.Expr:
    """``expr`` is one of ``values`` (without polars' ambiguous-collection deprecation)."""
    return expr.is_in(pl.Series(list(values), dtype=dtype).implode())


def row_severity() -> pl.Expr:
    """Highest normalised severity among a partial row's alerts, null when all unknown."""
    level = pl.lit(None, pl.Int8)
    for k in range(1, 5):
        level = pl.when(pl.col(f"lv{k}") > 0).then(pl.lit(k, pl.Int8)).otherwise(level)
    return level.alias("max_sev")


def stage_expr(stages: Sequence[str]) -> pl.Expr:
    """Kill-chain stage name of the ``rule`` index column (null when unmapped)."""
    index = list(range(len(stages)))
    return (
        pl.col("rule")
        .replace_strict(index, list(stages), default=None, return_dtype=pl.String)
        .alias("stage")
    )


@dataclass
class Population:
    """Running mean/std of alerts, signatures and stages per (window, a, b) group."""

    keys: int = 0
    sums: dict[str, float] = field(default_factory=lambda: dict.fromkeys(_POP, 0.0))
    squares: dict[str, float] = field(default_factory=lambda: dict.fromkeys(_POP, 0.0))

    def add(self, rows: pl.DataFrame, stages: Sequence[str]) -> None:
        """Fold the groups of closed-window rows in."""
        groups = rows.group_by("slot", "a", "b").agg(
            pl.col("n").sum().alias("alerts"),
            pl.col("sig").n_unique().alias("signatures"),
            stage_expr(stages).drop_nulls().n_unique().alias("stages"),
        )
        self.keys += groups.height
        totals = groups.select(
            *(pl.col(c).cast(pl.Float64).sum().alias(c) for c in _POP),
            *((pl.col(c).cast(pl.Float64) ** 2).sum().alias(f"{c}_sq") for c in _POP),
        ).row(0, named=True)
        for name in _POP:
            self.sums[name] += totals[name] or 0.0
            self.squares[name] += totals[f"{name}_sq"] or 0.0

    def summary(self) -> dict[str, Any]:
        """``keys`` and ``<stat>_mean``/``<stat>_std`` (population std) for each statistic."""
        out: dict[str, Any] = {"keys": self.keys}
        for name in _POP:
            mean = self.sums[name] / self.keys if self.keys else 0.0
            var = self.squares[name] / self.keys - mean**2 if self.keys else 0.0
            out[f"{name}_mean"] = round(mean, 4)
            out[f"{name}_std"] = round(math.sqrt(max(var, 0.0)), 4)
        return out


@dataclass
class Closed:
    """What closed windows leave behind."""

    kept: pl.DataFrame
    """Rows touching an active entity, with boolean ``flood`` and ``step`` columns."""
    totals: pl.DataFrame
    """Per (slot, sig): counts, severity, stage rule, spread, times, sensors and ``flood``."""
    flood_rows: pl.DataFrame
    """Evidence for flood windows: the largest not-kept rows of each flooding signature."""


def evaluate(
    rows: pl.DataFrame,
    cfg: IdsThresholds,
    stages: Sequence[str],
    listed: Callable[[list[str]], list[str]] | None,
    population: Population,
    follow_rules: Sequence[int] = (),
    mark: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
) -> Closed:
    """Judge closed-window rows (see the module docstring).

    Args:
        rows: Merged partial rows of closed windows.
        cfg: Thresholds.
        stages: Stage name of each mapping rule, by index.
        listed: Given the distinct endpoint values, those on a threat-intel list.
        population: Baseline to update.
        follow_rules: Indexes of ``follow_up`` mapping rules: not attack steps by themselves.
        mark: Makes follow-up rows attack steps where a foothold allows it
            (:meth:`~._footholds.Footholds.mark`).
    """
    population.add(rows, stages)
    totals = _totals(rows, cfg)
    flagged = rows.join(
        totals.select("slot", "sig", "flood"), on=["slot", "sig"], how="left", nulls_equal=True
    )
    mapped = pl.col("rule").is_not_null()
    if follow_rules:
        mapped = mapped & ~is_in(pl.col("rule").cast(pl.Int64), follow_rules, pl.Int64())
    step = ~pl.col("flood") & (mapped | (row_severity() >= cfg.link_min_severity).fill_null(False))
    if listed is not None:
        values = pl.concat([rows["a"], rows["b"]]).drop_nulls().unique().to_list()
        bad = listed(values)
        if bad:
            hit = is_in(pl.col("a"), bad, pl.String()) | is_in(pl.col("b"), bad, pl.String())
            step = step | hit.fill_null(False)
    flagged = flagged.with_columns(step.alias("step"))
    if mark is not None:
        flagged = mark(flagged)
    kept = _kept(flagged)
    return Closed(kept=kept, totals=totals, flood_rows=_flood_rows(flagged, kept))


def _totals(rows: pl.DataFrame, cfg: IdsThresholds) -> pl.DataFrame:
    totals = (
        rows.with_columns(row_severity())
        .group_by("slot", "sig")
        .agg(
            *(pl.col(c).sum() for c in ("n", "lv0", "lv1", "lv2", "lv3", "lv4")),
            pl.col("max_sev").max(),
            pl.col("rule").min(),
            pl.struct("a", "b").n_unique().alias("pairs"),
            pl.col("a").filter(pl.col("b").is_not_null()).n_unique().alias("sources"),
            pl.col("t_first").min(),
            pl.col("t_last").max(),
            pl.col("sensor").drop_nulls().unique().sort().head(20).alias("sensors"),
        )
    )
    low = pl.col("max_sev").fill_null(1) <= cfg.flood_max_severity
    volume = pl.col("rule").is_null() & (pl.col("n") >= cfg.flood_min_alerts)
    spread = pl.col("rule").is_not_null() & (pl.col("sources") >= cfg.flood_min_sources)
    flood = low & (volume | spread)
    return totals.with_columns(flood.alias("flood"))


def _kept(flagged: pl.DataFrame) -> pl.DataFrame:
    steps = flagged.filter(pl.col("step"))
    active = (
        pl.concat([steps.select("slot", e="a"), steps.select("slot", e="b")])
        .drop_nulls("e")
        .unique()
    )
    on_a = active.with_columns(pl.lit(True).alias("_on_a"))
    on_b = active.with_columns(pl.lit(True).alias("_on_b"))
    return (
        flagged.join(
            on_a, left_on=["slot", "a"], right_on=["slot", "e"], how="left", nulls_equal=True
        )
        .join(on_b, left_on=["slot", "b"], right_on=["slot", "e"], how="left", nulls_equal=True)
        .filter(pl.col("_on_a").fill_null(False) | pl.col("_on_b").fill_null(False))
        .drop("_on_a", "_on_b")
    )


def _flood_rows(flagged: pl.DataFrame, kept: pl.DataFrame) -> pl.DataFrame:
    keys = ["slot", "a", "b", "sensor", "sig", "rule"]
    floods = flagged.filter(pl.col("flood")).join(
        kept.select(keys), on=keys, how="anti", nulls_equal=True
    )
    # The first alert (input, line) breaks ties: rows come out of hash aggregations in no
    # fixed order, and the evidence must not depend on it.
    return (
        floods.sort(
            "n",
            "t_first",
            "f_input",
            "f_line",
            descending=[True, False, False, False],
            nulls_last=True,
        )
        .group_by("slot", "sig", maintain_order=True)
        .head(_FLOOD_EVIDENCE_ROWS)
    )
