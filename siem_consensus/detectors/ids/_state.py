"""Columnar state of the IDS correlator: alerts in, mergeable per-window partial rows out.

An alert is a row with a ``rule_name`` or ``rule_id`` (other records, such as Suricata flow or
DNS events, are not alerts and are skipped). Each alert gets:

* its endpoints ``a``/``b``: ``source_ip``/``destination_ip``; when only one address is known
  it is ``a`` and ``b`` is the host the alert happened on (``host_name``, e.g. the Wazuh agent
  an SSH attacker targeted), if any; without addresses, ``a`` is the host name;
* ``sig``, its signature (``rule_name``, else ``rule <rule_id>``), ``sensor``
  (``observer_name``, else the parser name), ``rule`` (index of the first
  :class:`~siem_consensus.enrich.attack_map.AttackMap` rule matching it, or null) and ``sev``
  (normalised severity, see :mod:`._config`).

A *partial* is one row per :data:`KEY` ``(slot, a, b, sensor, sig, rule)``, a slot being one
window: the alert count, counts per normalised level, the first and last timestamps, and the
first and last alerts themselves (``f_*``/``l_*``, for evidence). Partials merge exactly: sums
add, and first/last are the smallest/largest ``(timestamp, source, line)``, so the result does
not depend on how the input was chunked.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from ...enrich.attack_map import AttackMap
from ._config import normalised_severity

__all__ = [
    "EV_COLS",
    "F_COLS",
    "KEY",
    "L_COLS",
    "LEVELS",
    "RULE_INPUTS",
    "SlotStore",
    "alerts_of",
    "batch_partial",
    "endpoints",
    "is_alert",
    "merge_partials",
    "signature",
]

KEY = ("slot", "a", "b", "sensor", "sig", "rule")
"""Key of a partial row."""

RULE_INPUTS = ("_unnamed", "_category", "_row_rule")
"""What decides an alert's ``rule`` besides ``sig``: whether the signature is a rule id (no
name), the category, and the first per-alert rule matching (payload, URL, port, bytes)."""

LEVELS = ("lv0", "lv1", "lv2", "lv3", "lv4")
"""Alert counts per normalised severity; ``lv0`` counts unknown severities."""

EV_COLS = (
    "input", "line", "ts", "source_ip", "destination_ip", "source_port", "destination_port",
    "network_transport", "rule_id", "rule_category", "event_severity", "event_action",
    "url_original", "http_method", "http_status", "user_agent", "dns_question", "tls_sni",
    "message", "source_bytes", "destination_bytes", "user_name", "host_name", "dataset",
    "event_code", "file_path",
)  # fmt: skip
"""Columns of an alert kept for evidence (``ts`` is the timestamp, ``input`` the source)."""

ROW_INPUTS = (
    "message", "url_original", "user_agent", "dns_question", "tls_sni", "file_path",
    "destination_port", "source_bytes",
)  # fmt: skip
"""Per-alert columns mapping rules may read; rules on columns a batch lacks are skipped."""

F_COLS = tuple(f"f_{c}" for c in EV_COLS)
L_COLS = tuple(f"l_{c}" for c in EV_COLS)


def is_alert() -> pl.Expr:
    """True for rows that are IDS alerts (they carry a rule name or id)."""
    return pl.col("rule_name").is_not_null() | pl.col("rule_id").is_not_null()


def signature() -> pl.Expr:
    """The signature text of an alert: its rule name, else ``rule <id>``."""
    return pl.coalesce(pl.col("rule_name"), pl.lit("rule ") + pl.col("rule_id")).alias("sig")


def endpoints() -> tuple[pl.Expr, pl.Expr]:
    """Expressions of the two endpoints ``a`` and ``b`` (see the module docstring)."""
    src, dst, host = pl.col("source_ip"), pl.col("destination_ip"), pl.col("host_name")
    one = pl.coalesce(src, dst)
    a = pl.coalesce(one, host)
    other = pl.when(src.is_not_null() & dst.is_not_null()).then(dst)
    b = pl.coalesce(other, pl.when(one.is_not_null() & (host != one)).then(host))
    return a.alias("a"), b.alias("b")


def alerts_of(batch: pl.DataFrame, amap: AttackMap, window_us: int) -> pl.DataFrame:
    """The alerts of a batch: the :data:`KEY` columns but ``rule``, what decides ``rule``
    (:data:`RULE_INPUTS`), ``sev``, ``ts``, ``input``, ``line``, and ``_row`` (the alert's
    position in ``batch``, to fetch its evidence columns later), sorted by ``(timestamp,
    source, line)`` (null timestamps last).

    The signature part of the rule is looked up per partial row (:func:`batch_partial`), not
    per alert: a batch has a few hundred distinct signatures and many thousand alerts."""
    alerts = batch.with_row_index("_row")
    if alerts["rule_name"].null_count():  # else every row is an alert
        alerts = alerts.filter(is_alert())
    if alerts.is_empty():
        return alerts
    present = {c for c in ROW_INPUTS if alerts[c].null_count() < alerts.height}
    row = amap.row_expr(present)
    a, b = endpoints()
    frame = alerts.select(
        (pl.col("timestamp").dt.epoch("us") // window_us).alias("slot"),
        a,
        b,
        pl.coalesce("observer_name", "dataset").alias("sensor"),
        signature(),
        pl.col("rule_name").is_null().alias("_unnamed"),
        pl.col("rule_category").alias("_category"),
        (pl.lit(None) if row is None else row).cast(pl.Int32).alias("_row_rule"),
        normalised_severity().alias("sev"),
        pl.col("timestamp").alias("ts"),
        pl.col("source").alias("input"),
        "line",
        "_row",
    )
    return frame if _in_order(frame) else frame.sort("ts", "input", "line", nulls_last=True)


def _in_order(frame: pl.DataFrame) -> bool:
    """Whether rows are already by ``(ts, input, line)``: one input, no null timestamp, and
    timestamps and lines both ascending (the usual batch of a time-ordered file)."""
    ts, source = frame["ts"], frame["input"]
    return (
        ts.null_count() == 0
        and source.null_count() == 0
        and bool((source == source[0]).all())
        and ts.is_sorted()
        and frame["line"].is_sorted()
    )


def batch_partial(alerts: pl.DataFrame, batch: pl.DataFrame, amap: AttackMap) -> pl.DataFrame:
    """Aggregate sorted alerts (from :func:`alerts_of` on ``batch``) into partial rows, by
    slot (the untimed last); the evidence columns of each group's first and last alert are
    fetched from ``batch``."""
    keys = [*KEY[:-1], *RULE_INPUTS]
    # Key columns with one value throughout (no destination, no rule id, no payload) are put
    # back after grouping: hashing them for every alert would change nothing.
    same = {c: alerts[c].head(1) for c in keys if _constant(alerts[c])}
    agg = (
        alerts.group_by([c for c in keys if c not in same] or ["slot"])
        .agg(
            pl.len().cast(pl.Int64).alias("n"),
            *_level_counts(alerts["sev"]),
            pl.col("ts").min().alias("t_first"),
            pl.col("ts").max().alias("t_last"),
            pl.col("_row").first().alias("_f"),
            pl.col("_row").last().alias("_l"),
        )
        .with_columns(pl.lit(v[0], dtype=v.dtype).alias(c) for c, v in same.items())
        .sort("slot", nulls_last=True)
    )
    if "lv0" not in agg.columns:
        agg = agg.with_columns(
            pl.col("n").alias("lv0"), *(pl.lit(0, pl.Int64).alias(c) for c in LEVELS[1:])
        )
    evidence = batch.select(
        pl.col("source").alias("input"),
        pl.col("timestamp").alias("ts"),
        *(c for c in EV_COLS if c not in ("input", "ts")),
    )
    first = evidence[agg["_f"]].rename(dict(zip(EV_COLS, F_COLS, strict=True)))
    last = evidence[agg["_l"]].rename(dict(zip(EV_COLS, L_COLS, strict=True)))
    part = pl.concat([_with_rule(agg, amap), first, last], how="horizontal")
    if part.select(KEY).is_duplicated().any():  # one rule for signatures of several categories
        part = merge_partials(part).sort("slot", nulls_last=True)
    return _detached(part)


def _constant(column: pl.Series) -> bool:
    """Whether ``column`` holds one value only (all null, or a boolean always the same)."""
    if column.null_count() == column.len():
        return True
    return column.dtype == pl.Boolean and not column.null_count() and column.n_unique() == 1


def _level_counts(sev: pl.Series) -> list[pl.Expr]:
    """Alerts per normalised severity (``lv0`` unknown); none when every severity is unknown
    (then ``lv0`` is the count, filled in by the caller)."""
    if sev.null_count() == sev.len():
        return []
    level = pl.col("sev")
    return [
        level.is_null().sum().cast(pl.Int64).alias("lv0"),
        *((level == k).sum().cast(pl.Int64).alias(f"lv{k}") for k in range(1, 5)),
    ]


def _with_rule(agg: pl.DataFrame, amap: AttackMap) -> pl.DataFrame:
    """Aggregated rows with ``rule`` in place of :data:`RULE_INPUTS`: the first mapping rule
    matching the signature (name and category) or the alerts' own fields."""
    pairs = agg.select(
        pl.when(~pl.col("_unnamed")).then(pl.col("sig")).alias("rule_name"),
        pl.col("_category").alias("rule_category"),
    )
    keys = ["rule_name", "rule_category"]
    table = amap.signature_table(pairs)
    matched = pairs.join(table, on=keys, how="left", nulls_equal=True, maintain_order="left")
    rule = pl.min_horizontal(matched["sig_rule"], pl.col("_row_rule")).cast(pl.Int32)
    columns = [*KEY, "n", *LEVELS, "t_first", "t_last"]
    return agg.with_columns(rule.alias("rule")).select(columns)


def _detached(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with its own copy of every string.

    Gathered strings are views into the buffers of the whole batch: kept in the state, a few
    rows would keep every batch's text alive and memory would grow with the input.
    """
    text = [c for c, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(pl.concat_str(c, pl.lit("")).alias(c) for c in text)


def merge_partials(frame: pl.DataFrame) -> pl.DataFrame:
    """Merge partial rows sharing a :data:`KEY` into one row each (exact, order-independent)."""
    sums = [pl.col(c).sum() for c in ("n", *LEVELS)]
    heads = (
        frame.lazy()
        .sort("t_first", "f_input", "f_line", nulls_last=True)
        .group_by(KEY, maintain_order=True)
        .agg(*sums, pl.col("t_first").first(), *(pl.col(c).first() for c in F_COLS))
    )
    tails = (
        frame.lazy()
        .sort("t_last", "l_input", "l_line", nulls_last=False)
        .group_by(KEY)
        .agg(pl.col("t_last").last(), *(pl.col(c).last() for c in L_COLS))
    )
    joined = heads.join(tails, on=list(KEY), how="left", nulls_equal=True)
    return joined.select(frame.columns).collect()


class SlotStore:
    """Partial rows per slot: appended per batch, merged when they pile up or are read.

    A slot's list is merged when the rows appended since its last merge outnumber both the
    merged rows and ``consolidate_rows``. The key ``None`` holds the untimed slot.
    """

    def __init__(
        self,
        merge: Callable[[pl.DataFrame], pl.DataFrame] = merge_partials,
        consolidate_rows: int = 100_000,
    ) -> None:
        self._slots: dict[int | None, list[pl.DataFrame]] = {}
        self._merge = merge
        self._limit = consolidate_rows
        self.rows = 0
        """Rows held, merged or not."""

    def add(self, part: pl.DataFrame) -> None:
        """Append one batch partial (ordered by slot, see :func:`batch_partial`), split by
        slot."""
        start = 0
        for slot, length in part["slot"].rle().struct.unnest().select("value", "len").iter_rows():
            frame = part.slice(start, length)
            start += length
            key = slot if isinstance(slot, int) else None
            frames = self._slots.setdefault(key, [])
            frames.append(frame)
            self.rows += frame.height
            if sum(f.height for f in frames[1:]) > max(self._limit, frames[0].height):
                self._merged(key)

    def _merged(self, slot: int | None) -> pl.DataFrame:
        frames = self._slots[slot]
        if len(frames) > 1:
            before = sum(f.height for f in frames)
            frames[:] = [self._merge(pl.concat(frames, how="vertical"))]
            self.rows += frames[0].height - before
        return frames[0]

    def take(self, last: int | None, *, untimed: bool) -> pl.DataFrame | None:
        """Remove and return the merged rows of timed slots up to ``last`` (all when None),
        plus the untimed slot when ``untimed``."""
        timed = sorted(s for s in self._slots if s is not None and (last is None or s <= last))
        chosen: list[int | None] = [*timed, *([None] if untimed and None in self._slots else [])]
        merged: list[pl.DataFrame] = []
        unmerged: list[pl.DataFrame] = []
        for slot in chosen:
            frames = self._slots.pop(slot)
            self.rows -= sum(f.height for f in frames)
            (merged if len(frames) == 1 else unmerged).extend(frames)
        if unmerged:
            # one merge over every such slot (the key includes the slot) beats one per slot
            merged.append(self._merge(pl.concat(unmerged, how="vertical")))
        return pl.concat(merged, how="vertical") if merged else None
