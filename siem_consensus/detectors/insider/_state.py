"""Columnar aggregation behind the insider detector: batches in, mergeable per-user-day rows out.

Each batch becomes four partial tables, all keyed by user and calendar day (UTC):

* ``days`` ``(user, day)``: events, bytes (of company data: everything sent, everything
  received except web content), downloads, uploads, removable-media events, admin-tool,
  spy-tool and job-site hits, sent mails, events and logons outside the absolute working
  hours (``off_abs``, ``logon_off``), the most recipients of one sent mail (``rcpt_max``,
  merged by maximum), an hour-of-day histogram (``h00`` .. ``h23``), first and last timestamp;
* ``resources`` ``(user, day, kind, resource)``: a file directory (``file``), a web domain
  (``web``), a mail recipient domain (``mail``) or a sender address (``sender``), with
  events, bytes, downloads, uploads, mails with attachments, first and last timestamp and the
  first event (for evidence);
* ``hosts`` ``(user, day, host)``: events, logons, removable-media events, sent mails and the
  first event;
* ``evidence``: the first ``evidence_per_tag`` events per user, day and tag (``download``,
  ``upload``, ``removable``, ``tool``, ``spy``, ``offhours``, ``attach``, ``logon``,
  ``bulkmail``: mails with at least ``mass_email_min`` recipients).

Every column merges associatively (sums, minimum, maximum, first by ``(timestamp, source,
line)``), so the result does not depend on how the input is cut into batches nor on the order
of the files. Memory is bounded by users x days x distinct resources and hosts a day, never by
the number of events. Rows without a user or a timestamp are counted by the detector and
ignored: an insider feature needs both.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import polars as pl

from ._config import InsiderThresholds

__all__ = [
    "EVIDENCE_COLS",
    "HOURS",
    "PartialStore",
    "batch_partials",
    "in_values",
    "normal_action",
]

HOURS = tuple(f"h{h:02d}" for h in range(24))
"""Hour-of-day histogram columns of the ``days`` table."""

EVIDENCE_COLS = (
    "source", "line", "timestamp", "event_category", "event_action", "user_name", "host_name",
    "file_path", "url_original", "source_bytes", "destination_bytes", "email_from", "email_to",
    "email_attachments",
)  # fmt: skip
"""Event columns kept for evidence samples."""

_FLAGS = ("dl", "up", "rm", "tool", "spy", "job", "off_abs", "logon_off")
_DAY_SUMS = ("n", "bytes", *_FLAGS, "mails", *HOURS)
_RES_SUMS = ("n", "bytes", "dl", "up", "attach")
_HOST_SUMS = ("n", "logons", "rm", "mails")
_FIRST = ("f_source", "f_line", "f_action", "f_value", "f_host")
_RECEIVED = ("view", "receive", "received", "read", "email_view")
_DOMAIN = r"^(?:[a-z][a-z0-9+.-]*://)?(?:[^@/]*@)?([^/:?#\s]+)"
_ORDER = ("t_first", "f_source", "f_line")


def in_values(column: pl.Expr, values: Sequence[str]) -> pl.Expr:
    """``column`` is one of ``values`` (string membership without a deprecated list argument)."""
    return column.is_in(pl.Series(list(values), dtype=pl.String).implode())


def normal_action(action: str) -> str:
    """Lower case with every run of other characters as ``_`` (``File Copy`` -> ``file_copy``)."""
    return re.sub(r"[^a-z0-9]+", "_", action.lower()).strip("_")


def _matching(batch: pl.DataFrame, wanted: frozenset[str]) -> list[str]:
    """The distinct ``event_action`` values of ``batch`` whose normal form is in ``wanted``.

    Testing the few distinct values is much cheaper than normalising every row.
    """
    values = batch.get_column("event_action").unique().drop_nulls().to_list()
    return sorted(v for v in values if normal_action(v) in wanted)


def _events(batch: pl.DataFrame, cfg: InsiderThresholds, jobs: str | None) -> pl.LazyFrame:
    """Usable events with the derived flag columns."""
    action = pl.col("event_action")
    category = pl.col("event_category").str.to_lowercase()
    ts = pl.col("timestamp")
    hour = ts.dt.hour()
    uploads = in_values(pl.col("http_method").str.to_uppercase(), ("POST", "PUT"))
    text = pl.concat_str(pl.col("url_original"), pl.col("file_path"), ignore_nulls=True)
    return (
        batch.lazy()
        .filter(pl.col("user_name").is_not_null() & ts.is_not_null())
        .with_columns(
            pl.col("user_name").alias("user"),
            ts.dt.date().alias("day"),
            ts.alias("t_first"),
            category.alias("cat"),
            _volume().alias("bytes"),
            in_values(action, _matching(batch, cfg.download_actions)).fill_null(False).alias("dl"),
            (in_values(action, _matching(batch, cfg.upload_actions)) | uploads)
            .fill_null(False)
            .alias("up"),
            (
                in_values(action, _matching(batch, cfg.removable_actions))
                | pl.col("message").str.contains("removable_media", literal=True)
            )
            .fill_null(False)
            .alias("rm"),
            text.str.contains(cfg.admin_tool_pattern).fill_null(False).alias("tool"),
            text.str.contains(cfg.spy_tool_pattern).fill_null(False).alias("spy"),
            _job(jobs).alias("job"),
            ((hour < cfg.work_start_hour) | (hour >= cfg.work_end_hour)).alias("off_abs"),
            hour.alias("hour"),
        )
        .with_columns(_logon_off().alias("logon_off"))
    )


def _logon_off() -> pl.Expr:
    """A logon (not a logoff) outside the absolute working hours."""
    logon = (pl.col("cat") == "logon") & ~pl.col("event_action").str.to_lowercase().str.contains(
        "off", literal=True
    )
    return (logon & pl.col("off_abs")).fill_null(False)


def _recipients() -> pl.Expr:
    """Recipients of a sent mail (``email_to`` joins to, cc and bcc with commas), else 0."""
    count = pl.col("email_to").str.count_matches(",") + 1
    return pl.when(_sent() & pl.col("email_to").is_not_null()).then(count).otherwise(0)


def _sent() -> pl.Expr:
    """The event is a mail the user sent (received or viewed mails are not the user's act)."""
    action = pl.col("event_action").str.to_lowercase().str.replace_all(r"[^a-z0-9]+", "_")
    received = in_values(action, _RECEIVED).fill_null(False)
    return ((pl.col("cat") == "email") & ~received).fill_null(False)


def _job(pattern: str | None) -> pl.Expr:
    if pattern is None:
        return pl.lit(False)
    return pl.col("url_original").str.to_lowercase().str.contains(pattern).fill_null(False)


def _volume() -> pl.Expr:
    """Bytes of company data an event moves: everything sent, and everything received except
    web content (pages and files from the internet are not the company's data)."""
    received = pl.col("destination_bytes").fill_null(0)
    web = pl.col("event_category").str.to_lowercase() == "web"
    inbound = pl.when(web.fill_null(False)).then(0).otherwise(received)
    return pl.col("source_bytes").fill_null(0) + inbound


def _days(events: pl.LazyFrame) -> pl.LazyFrame:
    return events.group_by("user", "day").agg(
        pl.len().cast(pl.Int64).alias("n"),
        pl.col("bytes").sum(),
        *(pl.col(c).cast(pl.Int64).sum() for c in _FLAGS),
        _sent().cast(pl.Int64).sum().alias("mails"),
        _recipients().cast(pl.Int64).max().alias("rcpt_max"),
        *((pl.col("hour") == h).cast(pl.Int64).sum().alias(HOURS[h]) for h in range(24)),
        pl.col("t_first").min(),
        pl.col("t_first").max().alias("t_last"),
    )


def _resource_rows(events: pl.LazyFrame, depth: int) -> pl.LazyFrame:
    """One row per event and resource it touches (mails: per recipient domain)."""
    directory = (
        pl.col("file_path").str.replace_all("\\", "/", literal=True).str.to_lowercase()
        .str.extract(rf"^(/*[^/]+(?:/[^/]+){{0,{depth - 1}}})/", 1)
    )  # fmt: skip
    domain = pl.col("url_original").str.to_lowercase().str.extract(_DOMAIN, 1)
    common = [pl.col(c) for c in ("user", "day", "t_first", "bytes", "dl", "up")]
    first = [
        pl.col("source").alias("f_source"),
        pl.col("line").alias("f_line"),
        pl.col("event_action").alias("f_action"),
        pl.col("host_name").alias("f_host"),
    ]
    files = events.filter(pl.col("file_path").is_not_null()).select(
        *common, *first, pl.lit("file").alias("kind"), directory.fill_null(".").alias("resource"),
        pl.col("file_path").alias("f_value"), pl.lit(0, pl.Int64).alias("attach"),
    )  # fmt: skip
    web = events.filter(pl.col("url_original").is_not_null()).select(
        *common, *first, pl.lit("web").alias("kind"),
        domain.str.strip_prefix("www.").fill_null("?").alias("resource"),
        pl.col("url_original").alias("f_value"), pl.lit(0, pl.Int64).alias("attach"),
    )  # fmt: skip
    mail = (
        events.filter(_sent() & pl.col("email_to").is_not_null())
        .with_columns(pl.col("email_to").str.split(",").alias("rcpt"))
        .explode("rcpt")
        .with_columns(pl.col("rcpt").str.strip_chars().str.to_lowercase())
        .select(
            *common, *first, pl.lit("mail").alias("kind"),
            pl.col("rcpt").str.extract(r"@([^@\s>]+)$", 1).fill_null("?").alias("resource"),
            pl.col("rcpt").alias("f_value"),
            (pl.col("email_attachments").fill_null(0) > 0).cast(pl.Int64).alias("attach"),
        )
    )  # fmt: skip
    sender = events.filter(_sent() & pl.col("email_from").is_not_null()).select(
        *common, *first, pl.lit("sender").alias("kind"),
        pl.col("email_from").str.strip_chars().str.to_lowercase().alias("resource"),
        pl.col("email_from").alias("f_value"), pl.lit(0, pl.Int64).alias("attach"),
    )  # fmt: skip
    return pl.concat([files, web, mail, sender], how="vertical")


def _first_of(columns: Sequence[str]) -> list[pl.Expr]:
    return [pl.col(c).sort_by(list(_ORDER)).first() for c in columns]


def _resources(rows: pl.LazyFrame) -> pl.LazyFrame:
    return rows.group_by("user", "day", "kind", "resource").agg(
        pl.len().cast(pl.Int64).alias("n"),
        *(pl.col(c).cast(pl.Int64).sum() for c in ("bytes", "dl", "up", "attach")),
        *_first_of(_FIRST),
        pl.col("t_first").min(),
        pl.col("t_first").max().alias("t_last"),
    )


def _hosts(events: pl.LazyFrame) -> pl.LazyFrame:
    return (
        events.filter(pl.col("host_name").is_not_null())
        .group_by("user", "day", pl.col("host_name").alias("host"))
        .agg(
            pl.len().cast(pl.Int64).alias("n"),
            (pl.col("cat") == "logon").fill_null(False).cast(pl.Int64).sum().alias("logons"),
            pl.col("rm").cast(pl.Int64).sum(),
            _sent().cast(pl.Int64).sum().alias("mails"),
            pl.col("t_first").min(),
        )
    )


def _evidence(events: pl.LazyFrame, cfg: InsiderThresholds) -> pl.LazyFrame:
    tags = {
        "download": pl.col("dl"),
        "upload": pl.col("up"),
        "removable": pl.col("rm"),
        "tool": pl.col("tool"),
        "spy": pl.col("spy"),
        "offhours": pl.col("off_abs"),
        "attach": _sent() & (pl.col("email_attachments").fill_null(0) > 0),
        "logon": pl.col("cat") == "logon",
        "bulkmail": _recipients() >= cfg.mass_email_min,
    }
    keep = ("user", "day", *EVIDENCE_COLS)
    parts = [
        events.filter(flag.fill_null(False)).select(*keep).with_columns(pl.lit(tag).alias("tag"))
        for tag, flag in tags.items()
    ]
    return top_evidence(pl.concat(parts, how="vertical"), cfg.evidence_per_tag)


def top_evidence(frame: pl.LazyFrame, per_tag: int) -> pl.LazyFrame:
    """The first ``per_tag`` rows per user, day and tag, by ``(timestamp, source, line)``."""
    return (
        frame.sort("timestamp", "source", "line")
        .group_by("user", "day", "tag", maintain_order=True)
        .head(per_tag)
    )


def batch_partials(
    batch: pl.DataFrame, cfg: InsiderThresholds, jobs: str | None
) -> dict[str, pl.DataFrame]:
    """Aggregate one event batch (EVENT_SCHEMA plus ``source``) into the four partial tables.

    ``jobs`` is the job-site URL pattern (:meth:`SiteLists.job_pattern`).
    """
    events = _events(batch, cfg, jobs)
    frames = pl.collect_all(
        [
            _days(events),
            _resources(_resource_rows(events, cfg.resource_depth)),
            _hosts(events),
            _evidence(events, cfg),
        ]
    )
    return dict(zip(("days", "resources", "hosts", "evidence"), frames, strict=True))


def _merge_days(frame: pl.LazyFrame) -> pl.LazyFrame:
    return frame.group_by("user", "day").agg(
        *(pl.col(c).sum() for c in _DAY_SUMS),
        pl.col("rcpt_max").max(),
        pl.col("t_first").min(),
        pl.col("t_last").max(),
    )


def _merge_resources(frame: pl.LazyFrame) -> pl.LazyFrame:
    return frame.group_by("user", "day", "kind", "resource").agg(
        *(pl.col(c).sum() for c in _RES_SUMS),
        *_first_of(_FIRST),
        pl.col("t_first").min(),
        pl.col("t_last").max(),
    )


def _merge_hosts(frame: pl.LazyFrame) -> pl.LazyFrame:
    return frame.group_by("user", "day", "host").agg(
        *(pl.col(c).sum() for c in _HOST_SUMS), pl.col("t_first").min()
    )


class PartialStore:
    """Pending partial tables, merged whenever ``compact_every`` batches have accumulated."""

    def __init__(self, per_tag: int, compact_every: int = 16) -> None:
        self._per_tag = per_tag
        self._every = compact_every
        self._parts: dict[str, list[pl.DataFrame]] = {
            "days": [], "resources": [], "hosts": [], "evidence": []
        }  # fmt: skip
        self._merge: dict[str, Callable[[pl.LazyFrame], pl.LazyFrame]] = {
            "days": _merge_days,
            "resources": _merge_resources,
            "hosts": _merge_hosts,
            "evidence": lambda f: top_evidence(f, self._per_tag),
        }

    def add(self, partials: dict[str, pl.DataFrame]) -> None:
        """Add one batch's partial tables; compact when enough are pending."""
        for name, frame in partials.items():
            self._parts[name].append(frame)
        if len(self._parts["days"]) >= self._every:
            self.compact()

    def compact(self) -> None:
        """Merge every table's pending partials into one frame each."""
        names = [n for n, parts in self._parts.items() if len(parts) > 1]
        merged = pl.collect_all(
            [self._merge[n](pl.concat(self._parts[n], how="diagonal").lazy()) for n in names]
        )
        for name, frame in zip(names, merged, strict=True):
            self._parts[name] = [frame]

    def tables(self) -> dict[str, pl.DataFrame] | None:
        """The merged tables, or None when nothing was added."""
        if not self._parts["days"]:
            return None
        self.compact()
        return {name: parts[0] for name, parts in self._parts.items()}

    def clear(self) -> None:
        """Drop all state."""
        for parts in self._parts.values():
            parts.clear()
