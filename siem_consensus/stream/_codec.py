"""Raw messages to event rows and back to detector batches.

A raw message is one record (a log line or an ECS JSON document), parsed by the project's
parsers exactly as the Kafka connector does. An event row travels between stages as a JSON
object holding only its non-null EVENT_SCHEMA columns (timestamps as epoch microseconds),
plus ``source`` (``{topic}:{partition}``) and ``line`` (the offset): the event's id is
``{topic}:{partition}:{offset}``, the id the Kafka connector gives it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl

from ..errors import SiemConsensusError
from ..models import DeadLetter
from ..parsers.base import EVENT_SCHEMA, LineParser, get_parser
from ..sources import detect_format

__all__ = ["Parsed", "RowParser", "event_time_ms", "session_frame"]

_MAX_MESSAGE_BYTES = 1_048_576
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Parsed:
    """What one message became: an event row or a dead letter (never both)."""

    __slots__ = ("dead", "row")

    def __init__(self, row: dict[str, Any] | None, dead: DeadLetter | None) -> None:
        self.row = row
        self.dead = dead


class RowParser:
    """Parse messages one at a time with a named parser, or detect each message's format.

    Args:
        input_format: Parser name; None detects the format of every message.
    """

    def __init__(self, input_format: str | None) -> None:
        self.input_format = input_format
        self._parsers: dict[str, LineParser] = {}

    def _parser(self, fmt: str) -> LineParser:
        if fmt not in self._parsers:
            parser = get_parser(fmt)()
            if not isinstance(parser, LineParser):
                raise TypeError(f"{fmt} reads whole files, not one record per message")
            self._parsers[fmt] = parser
        return self._parsers[fmt]

    def parse(self, value: bytes | None, source: str, offset: int) -> Parsed:
        """Parse one message value; any problem becomes a dead letter saying why."""
        if value is None:
            return Parsed(None, _dead(source, offset, "empty message (null value)", ""))
        if len(value) > _MAX_MESSAGE_BYTES:
            reason = f"message is {len(value):,} bytes, over the {_MAX_MESSAGE_BYTES:,} limit"
            return Parsed(None, _dead(source, offset, reason, value[:200].decode(errors="replace")))
        try:
            text = value.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            reason = f"not UTF-8 text (byte {exc.start})"
            return Parsed(None, _dead(source, offset, reason, value[:200].decode(errors="replace")))
        try:
            fmt = self.input_format or detect_format([text], source)
            parser = self._parser(fmt)
        except (SiemConsensusError, TypeError) as exc:  # an unknown format: this message only
            return Parsed(None, _dead(source, offset, str(exc), text))
        rows, dead, _skipped = parser.parse_numbered([(offset, text)], source)
        if dead:
            return Parsed(None, dead[0])
        if not rows:
            return Parsed(None, None)  # a header or comment: no event
        return Parsed(_encode(rows[0], source), None)


def _dead(source: str, offset: int, reason: str, raw: str) -> DeadLetter:
    return DeadLetter(source=source, line=offset, reason=reason, raw_excerpt=raw[:200])


def _encode(row: Mapping[str, Any], source: str) -> dict[str, Any]:
    out: dict[str, Any] = {"source": source}
    for key, value in row.items():
        if value is None:
            continue
        if isinstance(value, datetime):
            out[key] = (value - _EPOCH) // _MICROSECOND
        else:
            out[key] = value
    return out


def event_time_ms(row: Mapping[str, Any]) -> int | None:
    """Log time of an encoded row in milliseconds, None when it has none."""
    value = row.get("timestamp")
    return None if value is None else int(value) // 1000


def session_frame(rows: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """A detector batch (EVENT_SCHEMA columns plus ``source``) from encoded rows."""
    data: dict[str, list[Any]] = {name: [r.get(name) for r in rows] for name in EVENT_SCHEMA}
    frame = pl.DataFrame(
        {**data, "timestamp": [r.get("timestamp") for r in rows]},
        schema={**EVENT_SCHEMA, "timestamp": pl.Int64()},
    )
    return frame.with_columns(
        pl.col("timestamp").cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
        pl.Series("source", [r.get("source") for r in rows], pl.String),
    )


_MICROSECOND = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC) - _EPOCH
