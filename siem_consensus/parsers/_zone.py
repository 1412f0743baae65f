"""The zone of time stamps written without one (``--timezone``; UTC unless told).

Syslog (BSD) time stamps, ISO 8601 times without an offset, and the local times of fast.log,
PAN-OS, CERT and CICFlowMeter say nothing about their zone.
:class:`~siem_consensus.sources.EventStream` sets the zone for the parsing of its inputs
(:func:`naive_zone`); every parser that reads such a time converts it here, per value with
:func:`wall_to_utc` (or :func:`local_offset`) and per column with :func:`local_expr`.

Across a DST change both agree: an ambiguous wall time (the hour repeated when DST ends) is
the earlier instant; a wall time that does not exist (skipped when DST starts) is read with
the offset in force before the change in Python and is null in polars, so vectorised parsers
leave such rows to their per-line path.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from ..errors import ConfigError

__all__ = [
    "check_zone",
    "local_expr",
    "local_offset",
    "naive_zone",
    "utc_to_wall",
    "wall_to_utc",
    "zone_name",
]

_ZONE: ContextVar[str | None] = ContextVar("siem_consensus_naive_zone", default=None)


def check_zone(name: str | None, label: str = "timezone") -> None:
    """Fail early on a zone name this system does not know.

    Raises:
        ConfigError: not an IANA zone name known to the system's zone database (or ``tzdata``).
    """
    if name is None:
        return
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ConfigError(
            f"{label} {name!r}: not a known time zone; give an IANA name such as UTC, "
            "Europe/Vienna or America/New_York"
        ) from None


@contextlib.contextmanager
def naive_zone(name: str | None) -> Iterator[None]:
    """Within the block, zone-less time stamps are wall-clock time in ``name`` (IANA)."""
    token = _ZONE.set(None if name in (None, "UTC") else name)
    try:
        yield
    finally:
        _ZONE.reset(token)


def local_offset(naive_utc: datetime) -> timedelta:
    """The UTC offset of the zone in force at the wall-clock time ``naive_utc`` (as read,
    labelled UTC); zero when no zone is set. An ambiguous time (DST ends) is the earlier."""
    name = _ZONE.get()
    if name is None:
        return timedelta(0)
    local = naive_utc.replace(tzinfo=ZoneInfo(name), fold=0)
    return local.utcoffset() or timedelta(0)


def zone_name() -> str | None:
    """The IANA name of the zone in force; None for UTC."""
    return _ZONE.get()


def utc_to_wall(instant: datetime) -> datetime:
    """The wall-clock time of ``instant`` (aware; naive means UTC) in the zone in force,
    labelled UTC as parsers read zone-less times (the inverse of :func:`wall_to_utc`)."""
    aware = instant if instant.tzinfo else instant.replace(tzinfo=UTC)
    name = _ZONE.get()
    if name is None:
        return aware.astimezone(UTC)
    return aware.astimezone(ZoneInfo(name)).replace(tzinfo=UTC)


def wall_to_utc(wall: datetime) -> datetime:
    """A zone-less wall-clock time (naive, or labelled UTC as read) as the UTC instant it
    names in the zone in force (unchanged when none is set).

    Raises:
        ValueError: the instant falls outside the years 1-9999 in UTC.
    """
    labelled = wall.replace(tzinfo=UTC) if wall.tzinfo is None else wall
    try:
        return labelled - local_offset(labelled)
    except OverflowError:
        raise ValueError(f"{wall:%Y-%m-%d %H:%M:%S} is out of range in UTC") from None


def local_expr(value: pl.Expr) -> pl.Expr:
    """Vectorised: UTC-labelled wall-clock times read as the zone in force, then in UTC."""
    name = _ZONE.get()
    if name is None:
        return value
    return (
        value.dt.replace_time_zone(None)
        .dt.replace_time_zone(name, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
    )
