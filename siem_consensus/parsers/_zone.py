"""The zone of time stamps written without one (``--timezone``; UTC unless told).

Syslog (BSD) time stamps and ISO 8601 times without an offset say nothing about their zone.
:class:`~siem_consensus.sources.EventStream` sets the zone for the parsing of its inputs
(:func:`naive_zone`); the shared time parsers of :mod:`._syslog` read it here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl

__all__ = ["local_expr", "local_offset", "naive_zone"]

_ZONE: ContextVar[str | None] = ContextVar("siem_consensus_naive_zone", default=None)


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
