"""The long horizon: slow port scans and sweeps over a day, in bounded memory.

The detector's windows (an hour by default) find fast activity. Scanners on the internet mostly
probe one exposed host on 10-100 ports spread over many hours, each hour far below the window
rules. A second, coarser state catches them: one compact row per ``(bucket, source,
destination, port, transport)``, a bucket being ``long_horizon_s`` of log time (a day by
default), with the counts, the first and last timestamps and the first event (for evidence).
Only targets that count towards fan-out are kept (allowed outbound connections never
make a scan or a sweep, see :mod:`._rules`), and rows are merged with a hash aggregation, not
the windows' ordered merge: the long horizon needs counts and sets, not inter-arrival times.
When the newest timestamp is ``allowed_lateness_s`` past a bucket's end, the bucket is
evaluated with the same scan and sweep rules as a window, at the long horizon's thresholds
(``slow_scan_ports``, ``slow_sweep_hosts``, ``slow_min_events``), and dropped. Brute force
and beaconing stay with the windows: their rules are about rates.

Memory is bounded by ``long_horizon_max_rows`` rows (about 150 bytes each). When the state
grows past it, whole sources are forgotten, those with the fewest targets in the oldest open
bucket first, until a quarter of the budget is free; each forgotten (bucket, source) is counted
in ``counters["horizon_evicted"]``. A source with one or two targets (the bulk of background
noise) goes long before one that has probed ten ports, so a slow scanner is lost only when more
than ``long_horizon_max_rows`` rows belong to sources with more targets than it has.
"""

from __future__ import annotations

import polars as pl

from ...models import Incident
from ._config import FirewallThresholds
from ._incidents import build_incidents
from ._rules import Population, candidates, tag_fanout
from ._state import EVENT_COLS, KEY, summarize

__all__ = ["FAN_OUT_KINDS", "LongHorizon", "horizon_thresholds", "smallest_sources"]

FAN_OUT_KINDS = ("port_scan", "network_sweep")
"""The kinds the long horizon looks for."""

_BUCKET_KEY = ("bucket", *KEY)
_FIRST = tuple(f"f_{c}" for c in EVENT_COLS)
_SUMS = ("n", "deny", "silent")
_COLUMNS = (*_BUCKET_KEY, *_SUMS, "t_first", "t_last", *_FIRST)
_MERGE = (
    *(pl.col(c).sum() for c in _SUMS),
    pl.col("t_first").min(),
    pl.col("t_last").max(),
    *(pl.col(c).first() for c in _FIRST),  # arrival order: the first event of the target
)


def horizon_thresholds(cfg: FirewallThresholds) -> FirewallThresholds:
    """The thresholds a long-horizon bucket is judged with: one window of the horizon."""
    assert cfg.long_horizon_s is not None
    return cfg.model_copy(
        update={
            "window_s": cfg.long_horizon_s,
            "hops_per_window": 1,
            "min_events": cfg.slow_min_events,
            "port_scan_ports": cfg.slow_scan_ports,
            "sweep_hosts": cfg.slow_sweep_hosts,
        }
    )


class LongHorizon:
    """Per-bucket partial rows, evaluated bucket by bucket for slow scans and sweeps.

    Args:
        cfg: The detector's thresholds (``long_horizon_s`` must be set).
        counters: The detector's counters; ``horizon_evicted`` and ``horizon_late`` are added.
    """

    def __init__(self, cfg: FirewallThresholds, counters: dict[str, int]) -> None:
        self.cfg = horizon_thresholds(cfg)
        self.counters = counters
        counters.setdefault("horizon_evicted", 0)
        counters.setdefault("horizon_late", 0)
        self._span_us = self.cfg.window_s * 1_000_000
        self._lateness_us = cfg.lateness_us
        self._state: pl.DataFrame | None = None
        self._pending: list[pl.DataFrame] = []
        self._pending_rows = 0
        self._closed: int | None = None
        self._findings: list[pl.DataFrame] = []

    @property
    def rows(self) -> int:
        """Rows held, merged or not."""
        return self._pending_rows + (0 if self._state is None else self._state.height)

    def add(self, part: pl.DataFrame) -> None:
        """Fold one batch partial in (untimed rows have no horizon and are left out)."""
        timed = part.filter(pl.col("slot").is_not_null())
        if timed.is_empty():
            return
        rows = (
            tag_fanout(timed, self.cfg)
            .filter(pl.col("fanout"))
            .with_columns((pl.col("t_first").dt.epoch("us") // self._span_us).alias("bucket"))
            .select(_COLUMNS)
        )
        if self._closed is not None:
            late = pl.col("bucket") <= self._closed
            self.counters["horizon_late"] += int(rows.filter(late)["n"].sum())
            rows = rows.filter(~late)
        if rows.is_empty():
            return
        self._pending.append(rows)
        self._pending_rows += rows.height
        if self._pending_rows > max(self.cfg.long_horizon_max_rows // 4, self._merged_rows()):
            self._merge()
        if self.rows > self.cfg.long_horizon_max_rows:
            self._merge()
            self._evict()

    def _merged_rows(self) -> int:
        return 0 if self._state is None else self._state.height

    def _merge(self) -> pl.DataFrame:
        if self._pending:
            self._state = _fold(self._state, pl.concat(self._pending))
            self._pending, self._pending_rows = [], 0
        if self._state is None:
            self._state = pl.DataFrame()
        return self._state

    def _evict(self) -> None:
        state = self._merge()
        excess = state.height - self.cfg.long_horizon_max_rows * 3 // 4
        if excess <= 0:
            return
        doomed = smallest_sources(state.group_by("bucket", "source_ip").len(), excess)
        self.counters["horizon_evicted"] += doomed.height
        self._state = state.join(doomed, on=["bucket", "source_ip"], how="anti")

    def close(self, watermark_us: int) -> None:
        """Evaluate and drop every bucket that ended ``allowed_lateness_s`` before the watermark."""
        last = (watermark_us - self._lateness_us) // self._span_us - 1
        if self._closed is not None and last <= self._closed:
            return
        state = self._merge()
        if state.is_empty():
            self._closed = last
            return
        done = pl.col("bucket") <= last
        self._evaluate(state.filter(done))
        self._state = state.filter(~done)
        self._closed = last

    def finish(self, population: Population) -> list[Incident]:
        """Evaluate the open buckets; the slow scan and sweep incidents of the whole input."""
        state = self._merge()
        if not state.is_empty():
            self._evaluate(state)
        self._state = None
        findings = pl.concat(self._findings, how="diagonal") if self._findings else pl.DataFrame()
        self._findings = []
        return build_incidents(findings, self.cfg, population)

    def _evaluate(self, rows: pl.DataFrame) -> None:
        cfg = self.cfg
        # no inter-arrival statistics here: beaconing (a window rule) cannot fire
        gaps = (pl.lit(0, pl.Int64).alias(c) for c in ("g_n", "g_sum", "g_sq"))
        # every row counts towards fan-out: :meth:`add` keeps only such partial rows, and a
        # sum of partial rows each with more than half denied has more than half denied
        fanout = pl.lit(True).alias("fanout")
        targets = rows.rename({"bucket": "window"}).with_columns(*gaps, fanout)
        summary = summarize(targets, ("window", "source_ip"))
        maybe = summary.filter(
            (pl.col("events") >= cfg.min_events)
            & ((pl.col("ports") > cfg.port_scan_ports) | (pl.col("hosts") > cfg.sweep_hosts))
        )
        if maybe.is_empty():
            return
        found = candidates(maybe, targets.drop("fanout"), cfg).filter(
            pl.col("kind").is_in(FAN_OUT_KINDS)
        )
        if found.is_empty():
            return
        kept = found.join(targets.drop("fanout"), on=["window", "source_ip"])
        # the columns of a windows' partial (:mod:`._state`): no gaps, first event as last event
        self._findings.append(
            kept.with_columns(
                pl.col("window").alias("slot"),
                *(pl.col(f"f_{c}").alias(f"l_{c}") for c in EVENT_COLS),
            )
        )


def _fold(state: pl.DataFrame | None, pending: pl.DataFrame) -> pl.DataFrame:
    """``state`` (one row per key) with ``pending`` rows merged in, ``state`` rows first.

    Only the state rows whose target hash is among the pending rows' are regrouped (a
    superset of the rows sharing a key with them: equal keys hash equally); the others are
    kept as they are, so a merge costs the pending rows plus a hash of the state, not a
    grouping of the whole state.
    """
    if state is None or state.is_empty():
        return pending.group_by(_BUCKET_KEY).agg(*_MERGE)
    target = pl.struct(KEY).hash()
    hit = state.select(target.is_in(pending.select(target).to_series().implode())).to_series()
    merged = pl.concat([state.filter(hit), pending]).group_by(_BUCKET_KEY).agg(*_MERGE)
    return pl.concat([state.filter(~hit), merged])


def smallest_sources(sizes: pl.DataFrame, excess: int) -> pl.DataFrame:
    """``bucket, source_ip`` of the sources to forget: in ``(bucket, len, source_ip)`` order,
    every source whose predecessors hold fewer than ``excess`` rows.

    ``sizes`` has one row per ``(bucket, source_ip)`` with its row count ``len``. Only the last
    ``(bucket, len)`` level reached can be cut inside; its sources are the smallest addresses
    (``bottom_k``), so no sort of every source is needed.
    """
    levels = (
        sizes.group_by("bucket", "len")
        .agg(pl.len().alias("sources"))
        .sort("bucket", "len")
        .with_columns((pl.col("len") * pl.col("sources")).cum_sum().alias("upto"))
        .with_columns((pl.col("upto") - pl.col("len") * pl.col("sources")).alias("before"))
        .filter(pl.col("before") < excess)
    )
    # the sources of a level needed to cover what its predecessors left of ``excess``
    levels = levels.with_columns(
        pl.min_horizontal(
            "sources", (excess - pl.col("before") + pl.col("len") - 1) // pl.col("len")
        ).alias("take")
    )
    whole = levels.filter(pl.col("take") == pl.col("sources"))
    parts = [sizes.join(whole.select("bucket", "len"), on=["bucket", "len"], how="semi")]
    for bucket, length, take in (
        levels.filter(pl.col("take") < pl.col("sources"))
        .select("bucket", "len", "take")
        .iter_rows()
    ):
        level = sizes.filter((pl.col("bucket") == bucket) & (pl.col("len") == length))
        parts.append(
            level.select(pl.col("source_ip").bottom_k(take)).with_columns(
                pl.lit(bucket, pl.Int64).alias("bucket")
            )
        )
    return pl.concat([p.select("bucket", "source_ip") for p in parts])
