"""Vectorised fast path of the OpenSSH parser for the sshd messages that make up most of an
auth log: ``Accepted``/``Failed ... from <IPv4> port <n>``, ``Invalid user ... from <IPv4>``,
``Connection closed by <IPv4> port <n>`` and ``Received disconnect from <IPv4>``.

The regexes are written in the common subset of Python ``re`` and Rust ``regex`` (see
:mod:`._syslog`). A line takes the fast path only when the fast patterns leave nothing to
judge: a header with a valid timestamp, an sshd message of one of those shapes, a canonical
IPv4 address (no leading zeros, so it is already what ``ipaddress`` would print), a port in
range and a user name that cannot hide an earlier ``" from "`` match. Every other line
(other programs, IPv6, ``message repeated``, PAM, anything malformed) goes through the
per-line parser, which is the reference: the fast path must give the same rows, and a
Hypothesis test checks it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

import polars as pl

from ...models import DeadLetter
from .._syslog import BSD_TS, ISO_TS, bsd_expr, iso_expr
from .._year import SyslogYear
from ..base import EVENT_SCHEMA, MAX_LINE_CHARS

__all__ = ["COLUMNS", "fast_rows"]

COLUMNS: Final = (
    *("line", "timestamp", "event_action", "event_outcome", "event_code", "event_category"),
    *("source_ip", "source_port", "user_name", "host_name", "message", "auth_attempts"),
)
"""The event columns this format fills (the others are null)."""

_OCTET: Final = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_V4: Final = rf"(?P<ip>{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET})"
_PORT: Final = r"(?P<port>[0-9]{1,5})"
_HEADER: Final = (
    rf"^(?:<[0-9]{{1,3}}>(?:1 )?)?(?:(?P<bsd>{BSD_TS})|(?P<iso>{ISO_TS})) +"
    r"(?P<host>[^ :\[]+) +(?P<prog>sshd|sshd-session)(?:\[[0-9]+\])?: ?(?P<msg>.*)$"
)
_SHAPES: Final = (
    (
        "attempt",
        rf"^(?P<verb>Accepted|Failed) (?P<method>[^ ]+) for (?P<invalid>invalid user )?"
        rf"(?P<user>.*?) from {_V4} port {_PORT}(?: ssh2)?(?:: .*)?$",
    ),
    ("invalid", rf"^Invalid user (?P<user>.*?) from {_V4}(?: port {_PORT})?$"),
    ("closed", rf"^Connection closed by {_V4} port {_PORT} \[preauth\]$"),
    # Without a port, ": " right after the address: the per-line pattern's address class
    # ([0-9A-Fa-f:.]+) would otherwise run on through a colon.
    ("received", rf"^Received disconnect from {_V4}(?: port {_PORT}:|: )"),
)


def _extract(column: str, pattern: str, prefix: str) -> list[pl.Expr]:
    groups = pl.col(column).str.extract_groups(pattern)
    fields = ("verb", "method", "invalid", "user", "ip", "port")
    names = [name for name in fields if f"<{name}>" in pattern]
    return [groups.struct.field(name).alias(f"{prefix}_{name}") for name in names]


def _pick(field: str) -> pl.Expr:
    """The field from whichever shape matched (nulls elsewhere)."""
    parts = [pl.col(f"{shape}_{field}") for shape, pattern in _SHAPES if f"<{field}>" in pattern]
    return pl.coalesce(parts)


def _timestamps(frame: pl.DataFrame, year: int | SyslogYear) -> pl.DataFrame:
    """``_ts`` parsed once per distinct timestamp text (a log repeats each second many times)."""
    stamps = frame.select(pl.col("bsd"), pl.col("iso")).unique()
    stamps = stamps.with_columns(
        pl.coalesce(bsd_expr(pl.col("bsd"), year), iso_expr(pl.col("iso"))).alias("_ts")
    )
    return frame.join(stamps, on=["bsd", "iso"], how="left", nulls_equal=True)


def _columns() -> tuple[pl.Expr, list[pl.Expr]]:
    """(fast-path condition, event columns)."""
    matched = [pl.col(f"{shape}_ip").is_not_null() for shape, _ in _SHAPES]
    port = _pick("port").cast(pl.Int64, strict=False)
    user = pl.coalesce(pl.col("attempt_user"), pl.col("invalid_user"))
    ts = pl.col("_ts")
    ok = (
        pl.col("raw").str.len_chars().le(MAX_LINE_CHARS)
        & ~pl.col("raw").str.contains("\x00", literal=True)
        & pl.col("msg").is_not_null()
        & ts.is_not_null()
        & pl.any_horizontal(matched)
        & (port.is_null() | port.le(65_535))
        & ~user.fill_null("").str.contains(" from ", literal=True)
        & ~pl.col("msg").str.contains(r"[\s\x1c-\x1f]$")
    )
    attempt = pl.col("attempt_ip").is_not_null()
    action = (
        pl.when(attempt & pl.col("attempt_invalid").is_not_null())
        .then(pl.lit("invalid_user"))
        .when(attempt)
        .then(pl.lit("logon"))
        .when(pl.col("invalid_ip").is_not_null())
        .then(pl.lit("invalid_user"))
        .otherwise(pl.lit("disconnect"))
    )
    outcome = (
        pl.when(pl.col("attempt_verb") == "Accepted")
        .then(pl.lit("success"))
        .when(attempt)
        .then(pl.lit("failure"))
    )
    columns = [
        (pl.col("idx").cast(pl.Int64)).alias("line"),
        ts.alias("timestamp"),
        action.alias("event_action"),
        outcome.alias("event_outcome"),
        pl.col("attempt_method").alias("event_code"),
        pl.lit("authentication").alias("event_category"),
        _pick("ip").alias("source_ip"),
        port.cast(pl.Int32).alias("source_port"),
        pl.when(user != "").then(user).alias("user_name"),
        pl.col("host").alias("host_name"),
        pl.col("msg").alias("message"),
        pl.lit(None, pl.Int32).alias("auth_attempts"),
    ]
    return ok, columns


def fast_rows(
    lines: Sequence[str],
    first_line: int,
    year: int | SyslogYear,
    slow: Callable[[list[tuple[int, str]]], tuple[list[dict[str, Any]], list[DeadLetter], int]],
) -> tuple[pl.DataFrame, list[dict[str, Any]], list[DeadLetter], int]:
    """Fast-path rows as a frame (``COLUMNS``), and what ``slow`` made of the other lines."""
    frame = pl.DataFrame({"raw": pl.Series(list(lines), dtype=pl.String)}).with_row_index("idx")
    header = pl.col("raw").str.extract_groups(_HEADER)
    frame = frame.with_columns(
        *(header.struct.field(n).alias(n) for n in ("bsd", "iso", "host", "prog", "msg"))
    )
    frame = frame.with_columns(
        *(expr for shape, pattern in _SHAPES for expr in _extract("msg", pattern, shape))
    )
    frame = _timestamps(frame, year)
    ok, columns = _columns()
    frame = frame.with_columns(ok.fill_null(False).alias("_fast"))
    fast = frame.filter("_fast").select(columns).with_columns(pl.col("line") + first_line)
    rest = frame.filter(~pl.col("_fast"))["idx"].to_list()
    rows, dead, skipped = slow([(first_line + i, lines[i]) for i in rest])
    schema = {name: EVENT_SCHEMA[name] for name in COLUMNS}
    return fast.cast(schema), rows, dead, skipped  # type: ignore[arg-type]
