"""Bounded state of the authentication detector: one aggregated row per
``(window, source_ip, user_name, target)``.

``target`` is the server the attempt was made on: ``host_name`` (the syslog host, the Windows
computer) or else ``destination_ip`` (Zeek's responder). A row keeps what the rules need, never
the events themselves:

* ``n`` events, ``fails`` failed attempts, ``succ`` successful ones, ``inv`` events saying the
  account does not exist; ``fb`` the failures before the row's first success (all of them
  when it has none), exact when each key's events arrive in time order;
* ``t_first``/``t_last`` over the row's events; ``t_ff``/``t_lf`` first and last failure;
  ``t_fs``/``t_ls`` first and last success; with the event ids ``e_ff``, ``e_lf``, ``e_fs``
  and ``e_inv`` (first invalid-user event) for the evidence sample.

Counting: an event with a failure outcome counts ``max(auth_attempts, 1)`` failures (sshd's
``message repeated N times``, a Zeek connection with N attempts); a success counts one success
and ``auth_attempts - 1`` failures before it (Zeek counts the successful attempt too). Events
with neither outcome count only when they say the account is invalid.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from ._config import AuthThresholds

__all__ = ["KEY", "StateStore", "batch_rows", "merge_rows"]

KEY = ("window", "source_ip", "user_name", "target")

_TIMES = ("t_first", "t_last", "t_ff", "t_lf", "t_fs", "t_ls")


def _relevant(batch: pl.DataFrame, cfg: AuthThresholds) -> pl.DataFrame:
    """Rows that are attempts or invalid-user notices, with outcome and action lower-cased."""
    outcome = pl.col("event_outcome").str.to_lowercase()
    action = pl.col("event_action").str.to_lowercase()
    category = pl.col("event_category").str.to_lowercase()
    failed = outcome.is_in(sorted(cfg.failure_outcomes)).fill_null(False)
    succeeded = outcome.is_in(sorted(cfg.success_outcomes)).fill_null(False)
    invalid = action.is_in(sorted(cfg.invalid_user_actions)).fill_null(False)
    about_auth = category.is_null() | category.str.contains("authentication", literal=True)
    tries = pl.col("auth_attempts").fill_null(1).cast(pl.Int64)
    return (
        batch.lazy()
        .with_columns(
            failed.alias("_failed"), succeeded.alias("_succeeded"), invalid.alias("_invalid")
        )
        .filter(about_auth & (pl.col("_failed") | pl.col("_succeeded") | pl.col("_invalid")))
        .with_columns(
            pl.when(pl.col("_failed"))
            .then(tries.clip(lower_bound=1))
            .when(pl.col("_succeeded"))
            .then((tries - 1).clip(lower_bound=0))
            .otherwise(0)
            .alias("fails"),
            pl.col("_succeeded").cast(pl.Int64).alias("succ"),
            pl.col("_invalid").cast(pl.Int64).alias("inv"),
        )
        .collect(engine="in-memory")
    )


def batch_rows(batch: pl.DataFrame, cfg: AuthThresholds) -> tuple[pl.DataFrame, int]:
    """Aggregate one event batch into state rows; also the number of relevant events.

    Rows without a source address are part of the result too (``source_ip`` null): the caller
    counts and drops them.
    """
    rows = _relevant(batch, cfg)
    if rows.is_empty():
        return _empty(), 0
    ts = pl.col("timestamp")
    eid = pl.format("{}:{}", "source", "line")
    fail_t = pl.when(pl.col("fails") > 0).then(ts)
    fail_e = pl.when(pl.col("fails") > 0).then(eid)
    succ_t = pl.when(pl.col("succ") > 0).then(ts)
    succ_e = pl.when(pl.col("succ") > 0).then(eid)
    prepared = rows.select(
        (ts.dt.epoch("us") // cfg.window_us).alias("window"),
        "source_ip",
        "user_name",
        pl.coalesce("host_name", "destination_ip").alias("target"),
        pl.lit(1, pl.Int64).alias("n"),
        "fails",
        "succ",
        "inv",
        pl.col("fails").alias("fb"),
        ts.alias("t_first"),
        ts.alias("t_last"),
        fail_t.alias("t_ff"),
        fail_t.alias("t_lf"),
        succ_t.alias("t_fs"),
        succ_t.alias("t_ls"),
        fail_e.alias("e_ff"),
        fail_e.alias("e_lf"),
        succ_e.alias("e_fs"),
        pl.when(pl.col("inv") > 0).then(eid).alias("e_inv"),
    )
    return merge_rows(prepared), rows.height


def _first(value: str, by: str, *, last: bool = False) -> pl.Expr:
    """The ``value`` of the earliest (or latest) ``by``; without any ``by`` (untimed events),
    the first value there is. ``value`` is set wherever ``by`` is."""
    at = pl.col(by).arg_max() if last else pl.col(by).arg_min()
    return pl.coalesce(pl.col(value).get(at), pl.col(value).drop_nulls().first()).alias(value)


def merge_rows(rows: pl.DataFrame, key: Sequence[str] = KEY) -> pl.DataFrame:
    """Re-aggregate state rows that share a key (several batches of one key).

    A key on one row alone is its own aggregate (every aggregation of :func:`_grouped` gives
    that row back), so only the keys on several rows are grouped: most keys of an auth log
    (one source trying one account on one host in a window) have a single event.
    """
    single = rows.select(pl.struct(list(key)).is_unique()).to_series()
    grouped = _grouped(rows.filter(~single), key)
    alone = rows.filter(single).select(grouped.columns).cast(grouped.schema)
    return pl.concat([alone, grouped])


def _grouped(rows: pl.DataFrame, key: Sequence[str]) -> pl.DataFrame:
    first_success = pl.col("t_fs").min()
    before = pl.col("t_fs").eq_missing(first_success) | (
        pl.col("t_fs").is_null() & (pl.col("t_lf") <= first_success).fill_null(True)
    )
    return rows.group_by(list(key)).agg(
        pl.col("n").sum(),
        pl.col("fails").sum(),
        pl.col("succ").sum(),
        pl.col("inv").sum(),
        pl.col("fb").filter(before).sum(),
        pl.col("t_first").min(),
        pl.col("t_last").max(),
        pl.col("t_ff").min(),
        pl.col("t_lf").max(),
        pl.col("t_fs").min(),
        pl.col("t_ls").max(),
        _first("e_ff", "t_ff"),
        _first("e_lf", "t_lf", last=True),
        _first("e_fs", "t_fs"),
        pl.col("e_inv").sort_by("t_first", nulls_last=True).drop_nulls().first(),
    )


_SCHEMA: dict[str, pl.DataType] = {
    "window": pl.Int64(),
    "source_ip": pl.String(),
    "user_name": pl.String(),
    "target": pl.String(),
    "n": pl.Int64(),
    "fails": pl.Int64(),
    "succ": pl.Int64(),
    "inv": pl.Int64(),
    "fb": pl.Int64(),
    **{name: pl.Datetime("us", "UTC") for name in _TIMES},
    **{name: pl.String() for name in ("e_ff", "e_lf", "e_fs", "e_inv")},
}


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=_SCHEMA)


class StateStore:
    """The open rows, compacted (re-aggregated) whenever they double since the last compaction."""

    def __init__(self) -> None:
        self._parts: list[pl.DataFrame] = []
        self._rows = 0
        self._compacted = 0

    @property
    def rows(self) -> int:
        """Rows held (an upper bound on distinct keys until the next compaction)."""
        return self._rows

    def add(self, rows: pl.DataFrame) -> None:
        """Add aggregated rows; compact when the held rows doubled."""
        if rows.is_empty():
            return
        self._parts.append(rows.select(list(_SCHEMA)))
        self._rows += rows.height
        if self._rows > max(2 * self._compacted, 10_000):
            self._compact()

    def _compact(self) -> None:
        merged = merge_rows(pl.concat(self._parts)).select(list(_SCHEMA))
        self._parts = [merged]
        self._rows = self._compacted = merged.height

    def take(self, upto: int | None) -> pl.DataFrame:
        """Remove and return the merged rows of windows ``<= upto`` (every row when None;
        untimed rows only then)."""
        if not self._parts:
            return _empty()
        self._compact()
        merged = self._parts[0]
        if upto is None:
            taken, kept = merged, merged.clear()
        else:
            window = pl.col("window")
            taken = merged.filter(window <= upto)
            kept = merged.filter((window > upto) | window.is_null())
        self._parts = [kept] if not kept.is_empty() else []
        self._rows = self._compacted = kept.height
        return taken
