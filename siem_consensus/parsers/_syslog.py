"""Syslog and ISO 8601 timestamps, in Python and as polars expressions.

Every regex here is written in the common subset of Python ``re`` and Rust ``regex`` (the engine
behind polars ``str.extract_groups``): ASCII classes such as ``[0-9]`` instead of ``\\d``, no
look-around, no back-references. The vectorised ASA path and the per-line Python path therefore
agree on what a pattern matches, and the Python functions below agree with the polars expressions
on what a timestamp means.

Timestamps without a zone (BSD syslog, naive ISO 8601) are taken as UTC, or as the zone set
with :func:`._zone.naive_zone` (``--timezone``); BSD syslog timestamps
carry no year: the caller gives one, or a :class:`._year.SyslogYear` rule that infers it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

import polars as pl

from ._year import SyslogYear, year_for
from ._zone import local_expr, local_offset
from .base import LineError

__all__ = [
    "BSD_TS",
    "ISO_TS",
    "MONTHS",
    "bsd_expr",
    "current_year",
    "iso_expr",
    "parse_bsd",
    "parse_iso",
    "parse_syslog_time",
]

MONTHS: Final = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
"""English month abbreviations (syslog never localises them; ``%b`` would follow the locale)."""

BSD_TS: Final = (
    r"[A-Z][a-z]{2} +[0-9]{1,2} (?:[0-9]{4} )?[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?"
)
"""RFC 3164 timestamp, optionally with the year Cisco inserts (``Jan 18 2024 14:23:45``)."""

ISO_TS: Final = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?"
    r"(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)?"
)
"""ISO 8601 / RFC 3339 timestamp with an optional zone (``Z``, ``+01:00``, ``+0100``, ``+01``)."""

_BSD_PARTS: Final = re.compile(
    r"(?P<mon>[A-Z][a-z]{2}) +(?P<day>[0-9]{1,2}) (?:(?P<year>[0-9]{4}) )?"
    r"(?P<h>[0-9]{2}):(?P<m>[0-9]{2}):(?P<s>[0-9]{2})(?:\.(?P<frac>[0-9]{1,9}))?"
)
_ISO_PARTS: Final = re.compile(
    r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})[T ]"
    r"(?P<h>[0-9]{2}):(?P<m>[0-9]{2}):(?P<s>[0-9]{2})(?:\.(?P<frac>[0-9]{1,9}))?"
    r"(?P<tz>Z|(?P<sign>[+-])(?P<th>[0-9]{2})(?::?(?P<tm>[0-9]{2}))?)?"
)


def current_year() -> int:
    """The current UTC year (the default for year-less syslog timestamps)."""
    return datetime.now(UTC).year


def _build(parts: list[int], frac: str | None, offset: timedelta) -> datetime:
    """A UTC datetime from year..second; second 60 (a leap second) rolls over like polars."""
    year, month, day, hour, minute, second = parts
    micro = int((frac or "0")[:6].ljust(6, "0"))
    leap = second == 60
    value = datetime(year, month, day, hour, minute, 59 if leap else second, micro, UTC)
    return value + timedelta(seconds=1 if leap else 0) - offset


def parse_bsd(text: str, year: int | SyslogYear) -> datetime:
    """Parse a :data:`BSD_TS` timestamp; ``year`` (a year or the rule that infers it) fills in
    when the text has none.

    Raises:
        LineError: not a valid date or time.
    """
    match = _BSD_PARTS.fullmatch(text)
    month = MONTHS.get(match["mon"]) if match else None
    if match is None or month is None:
        raise LineError(f"invalid syslog timestamp {text!r}")
    try:
        clock = [int(match[key]) for key in ("day", "h", "m", "s")]
        written = int(match["year"]) if match["year"] else None
        parts = [written or year_for(year, month, *clock), month, *clock]
        wall = _build(parts, match["frac"], timedelta(0))
        return wall - local_offset(wall)
    except (ValueError, OverflowError):
        raise LineError(f"invalid syslog timestamp {text!r}") from None


def parse_iso(text: str) -> datetime:
    """Parse an :data:`ISO_TS` timestamp to UTC (no zone means UTC).

    Raises:
        LineError: not a valid date, time or offset.
    """
    match = _ISO_PARTS.fullmatch(text)
    if match is None:
        raise LineError(f"invalid ISO 8601 timestamp {text!r}")
    try:
        offset = timedelta(0)
        if match["sign"]:
            offset = timedelta(hours=int(match["th"]), minutes=int(match["tm"] or 0))
            offset = -offset if match["sign"] == "-" else offset
            timezone(offset)  # rejects offsets of 24 hours or more
        parts = [int(match[key]) for key in ("y", "mo", "d", "h", "m", "s")]
        result = _build(parts, match["frac"], offset)
        if not match["tz"]:
            result -= local_offset(result)
    except (ValueError, OverflowError):
        raise LineError(f"invalid ISO 8601 timestamp {text!r}") from None
    if not 1 <= result.year <= 9999:
        raise LineError(f"ISO 8601 timestamp {text!r} is out of range in UTC")
    return result


def parse_syslog_time(bsd: str | None, iso: str | None, year: int | SyslogYear) -> datetime | None:
    """Parse whichever of a BSD or ISO timestamp was captured; None when neither was.

    Raises:
        LineError: the captured timestamp is not valid.
    """
    if bsd:
        return parse_bsd(bsd, year)
    if iso:
        return parse_iso(iso)
    return None


def bsd_expr(column: pl.Expr, year: int | SyslogYear) -> pl.Expr:
    """Vectorised :func:`parse_bsd` (null where the text is not a valid date)."""
    text = column.str.replace_all(" +", " ")
    written = text.str.contains(r"^[A-Za-z]{3} [0-9]{1,2} [0-9]{4} ")
    fixed = year if isinstance(year, int) else year.fixed
    # an inferred year: parsed in a leap year (every month-day exists), then moved to its year
    insert = "2000" if fixed is None else str(fixed)
    with_year = (
        pl.when(written)
        .then(text)
        .otherwise(text.str.replace(r"^([A-Za-z]{3} [0-9]{1,2}) ", f"${{1}} {insert} "))
    )
    parsed = with_year.str.strptime(pl.Datetime("us"), "%b %d %Y %H:%M:%S%.f", strict=False)
    if isinstance(year, SyslogYear) and fixed is None:
        parsed = year.expr(parsed, written)
    return _in_range(local_expr(parsed.dt.replace_time_zone("UTC")))


def iso_expr(column: pl.Expr) -> pl.Expr:
    """Vectorised :func:`parse_iso` (null where the text is not valid or out of range)."""
    text = column.str.replace(" ", "T", literal=True)
    zoned = text.str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%.f%#z", time_unit="us", time_zone="UTC", strict=False
    )
    naive = text.str.strptime(pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S%.f", strict=False)
    has_zone = text.str.contains(r"(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)$")
    return _in_range(
        pl.when(has_zone).then(zoned).otherwise(local_expr(naive.dt.replace_time_zone("UTC")))
    )


def _in_range(value: pl.Expr) -> pl.Expr:
    """Null outside years 1-9999 (polars accepts year 0; Python datetimes cannot hold it)."""
    year = value.dt.year()
    return pl.when((year >= 1) & (year <= 9999)).then(value)
