"""The parser contract: lines in, a columnar batch of events plus dead letters out.

How to write a parser:

1. Subclass :class:`LineParser` (one record per text line) or :class:`JsonParser` (one JSON
   object per line or per element of a JSON array file).
2. Set the class variables ``name`` (registry key, used by ``--input-format``) and
   ``description``.
3. Implement ``sniff(lines)`` returning the fraction (0-1) of the sample lines it recognises,
   and ``parse_line(line)`` (or ``parse_record(obj)``) returning a dict whose keys are columns of
   :data:`EVENT_SCHEMA`. Raise :class:`LineError` with a specific reason for a bad record;
   return :data:`SKIP` for header/comment lines that carry no event.
4. Decorate the class with :func:`register`.

Parsers are instantiated once per input file, so they may keep header state (CSV headers, Zeek
``#fields``). A parser that needs speed overrides :meth:`Parser.parse_chunk` and works on the
whole chunk at once (see ``asa.py``); it must still account for every line.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final, TypeVar

import polars as pl

from ..errors import ConfigError
from ..models import DeadLetter, Event

__all__ = [
    "EVENT_SCHEMA",
    "MAX_LINE_CHARS",
    "PARSERS",
    "SKIP",
    "JsonParser",
    "LineError",
    "LineParser",
    "ParsedChunk",
    "Parser",
    "empty_frame",
    "excerpt",
    "frame_to_events",
    "get_parser",
    "register",
    "rows_to_frame",
]

MAX_LINE_CHARS: Final = 1_048_576
"""Longer records become dead letters without being parsed (a 10 MB line is not a log line)."""

EVENT_SCHEMA: Final[dict[str, pl.DataType]] = {
    "line": pl.Int64(),
    "timestamp": pl.Datetime("us", "UTC"),
    "dataset": pl.String(),
    "event_action": pl.String(),
    "event_outcome": pl.String(),
    "event_code": pl.String(),
    "source_ip": pl.String(),
    "source_port": pl.Int32(),
    "destination_ip": pl.String(),
    "destination_port": pl.Int32(),
    "network_transport": pl.String(),
    "source_bytes": pl.Int64(),
    "destination_bytes": pl.Int64(),
    "rule_name": pl.String(),
    "user_name": pl.String(),
    "host_name": pl.String(),
    "message": pl.String(),
    "rule_id": pl.String(),
    "rule_category": pl.String(),
    "event_severity": pl.Int32(),
    "observer_name": pl.String(),
    "url_original": pl.String(),
    "http_method": pl.String(),
    "http_status": pl.Int32(),
    "user_agent": pl.String(),
    "dns_question": pl.String(),
    "tls_sni": pl.String(),
    "file_path": pl.String(),
    "event_category": pl.String(),
    "email_from": pl.String(),
    "email_to": pl.String(),
    "email_attachments": pl.Int32(),
    "auth_attempts": pl.Int32(),
}
"""Columns of an event batch: the :class:`~siem_consensus.models.Event` fields, with ``line``
(1-based) instead of ``event_id`` (the id is ``{source}:{line}``)."""

_COLUMNS: Final = tuple(EVENT_SCHEMA)


class _Skip:
    def __repr__(self) -> str:
        return "SKIP"


SKIP: Final = _Skip()
"""Returned by ``parse_line`` for header/comment lines: counted as skipped, not as events."""


class LineError(ValueError):
    """Raised by ``parse_line``/``parse_record`` with the reason a record is rejected."""


@dataclass
class ParsedChunk:
    """What one chunk of lines turned into. ``len(events) + len(dead_letters) + skipped`` equals
    the number of lines in the chunk."""

    events: pl.DataFrame
    dead_letters: list[DeadLetter] = field(default_factory=list)
    skipped: int = 0


def excerpt(raw: str, limit: int = 200) -> str:
    """The first ``limit`` characters of a raw record, for dead letters and error messages."""
    return raw if len(raw) <= limit else raw[:limit] + "..."


def empty_frame() -> pl.DataFrame:
    """An event batch with no rows and the full schema."""
    return pl.DataFrame(schema=EVENT_SCHEMA)


def rows_to_frame(rows: Sequence[dict[str, Any]], dataset: str) -> pl.DataFrame:
    """Build an event batch from per-record dicts (missing columns become null)."""
    if not rows:
        return empty_frame()
    data = {name: [row.get(name) for row in rows] for name in _COLUMNS}
    data["dataset"] = [dataset] * len(rows)
    try:
        return pl.DataFrame(data, schema=EVENT_SCHEMA)
    except UnicodeEncodeError:  # lone surrogates (e.g. JSON "\ud800"): not valid UTF-8
        clean = {k: [_utf8(v) for v in values] for k, values in data.items()}
        return pl.DataFrame(clean, schema=EVENT_SCHEMA)


def _utf8(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return value


class Parser(ABC):
    """Base of every parser. Subclass :class:`LineParser` or :class:`JsonParser` instead."""

    name: ClassVar[str]
    description: ClassVar[str]

    @classmethod
    @abstractmethod
    def sniff(cls, lines: Sequence[str]) -> float:
        """Fraction (0-1) of these sample lines (blank lines removed) this format recognises."""

    @abstractmethod
    def parse_chunk(self, lines: Sequence[str], first_line: int, source: str) -> ParsedChunk:
        """Parse consecutive lines; ``first_line`` is the 1-based number of ``lines[0]``."""

    def dead(self, source: str, line: int, reason: str, raw: str) -> DeadLetter:
        """Build a dead letter for this parser."""
        return DeadLetter(
            source=source, line=line, reason=reason, raw_excerpt=excerpt(raw), parser=self.name
        )


class LineParser(Parser):
    """One record per text line; implement :meth:`parse_line`."""

    @abstractmethod
    def parse_line(self, line: str) -> dict[str, Any] | _Skip:
        """Columns of one event, or :data:`SKIP`; raise :class:`LineError` if malformed."""

    def parse_chunk(self, lines: Sequence[str], first_line: int, source: str) -> ParsedChunk:
        """Per-line loop: every line ends as an event row, a dead letter or a skip."""
        numbered = ((first_line + offset, line) for offset, line in enumerate(lines))
        rows, dead, skipped = self.parse_numbered(numbered, source)
        return ParsedChunk(rows_to_frame(rows, self.name), dead, skipped)

    def parse_numbered(
        self, numbered: Iterable[tuple[int, str]], source: str
    ) -> tuple[list[dict[str, Any]], list[DeadLetter], int]:
        """The per-line loop over ``(line number, line)`` pairs: rows, dead letters, skips.

        Vectorised parsers use it for the lines their fast path leaves over.
        """
        rows: list[dict[str, Any]] = []
        dead: list[DeadLetter] = []
        skipped = 0
        for number, line in numbered:
            problem = _precheck(line)
            if problem == "blank":
                skipped += 1
                continue
            if problem:
                dead.append(self.dead(source, number, problem, line))
                continue
            try:
                row = self.parse_line(line)
            except (LineError, ValueError, KeyError, IndexError, TypeError) as exc:
                dead.append(self.dead(source, number, _reason(exc), line))
                continue
            if isinstance(row, _Skip):
                skipped += 1
                continue
            row["line"] = number
            rows.append(row)
        return rows, dead, skipped


class JsonParser(LineParser):
    """One JSON object per line, or per element of a JSON array file; implement
    :meth:`parse_record`."""

    def parse_line(self, line: str) -> dict[str, Any] | _Skip:
        """Decode one JSON line and hand the object to :meth:`parse_record`."""
        import json

        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LineError(f"invalid JSON at column {exc.colno}: {exc.msg}") from None
        if not isinstance(obj, dict):
            raise LineError(f"expected a JSON object, got {type(obj).__name__}")
        return self.parse_record(obj)

    @abstractmethod
    def parse_record(self, obj: dict[str, Any]) -> dict[str, Any] | _Skip:
        """Columns of one event from a decoded JSON object."""


def _precheck(line: str) -> str | None:
    if len(line) > MAX_LINE_CHARS:
        return f"line is {len(line):,} characters, over the {MAX_LINE_CHARS:,} limit"
    if not line.strip():
        return "blank"
    if "\x00" in line:
        return "binary data (NUL byte) in a text log line"
    return None


def _reason(exc: Exception) -> str:
    if isinstance(exc, LineError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


PARSERS: dict[str, type[Parser]] = {}
"""Registry of parser classes by name (``--input-format`` choices)."""

_P = TypeVar("_P", bound=type[Parser])


def register(cls: _P) -> _P:
    """Class decorator adding a parser to :data:`PARSERS`."""
    PARSERS[cls.name] = cls
    return cls


def get_parser(name: str) -> type[Parser]:
    """Look a parser up by name; unknown names raise a ConfigError listing the valid ones."""
    try:
        return PARSERS[name]
    except KeyError:
        raise ConfigError.unknown("input format", name, PARSERS) from None


def frame_to_events(frame: pl.DataFrame, source: str) -> list[Event]:
    """Materialise event rows as :class:`Event` objects (for evidence samples, not bulk)."""
    events = []
    for row in frame.iter_rows(named=True):
        line = row.pop("line")
        events.append(Event(event_id=f"{source}:{line}", **row))
    return events
