"""Helpers of :class:`~siem_consensus.sources.EventStream`: decoded records and source checks."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..errors import UsageError
from ..models import DeadLetter
from ..parsers.base import JsonParser, LineError, ParsedChunk, _Skip, rows_to_frame
from ..parsers.inputs import looks_like_path

__all__ = ["chain", "not_paths", "records_chunk"]


def records_chunk(parser: JsonParser, records: Sequence[Any], first: int, name: str) -> ParsedChunk:
    """Parse decoded JSON records numbered from ``first``: events, dead letters, skips."""
    rows: list[dict[str, Any]] = []
    dead: list[DeadLetter] = []
    skipped = 0
    for offset, obj in enumerate(records):
        number = first + offset
        try:
            if not isinstance(obj, Mapping):
                raise LineError(f"expected a JSON object, got {type(obj).__name__}")
            row = parser.parse_record(dict(obj))
        except (LineError, ValueError, KeyError, TypeError) as exc:
            dead.append(parser.dead(name, number, str(exc), json.dumps(obj, default=str)))
            continue
        if isinstance(row, _Skip):
            skipped += 1
            continue
        row["line"] = number
        rows.append(row)
    return ParsedChunk(rows_to_frame(rows, parser.name), dead, skipped)


def not_paths(source: Any) -> None:
    """A short list of ``str`` that all name files is glob output, not log lines.

    Raises:
        UsageError: every item looks like a file path (``analyze_firewall(["a.log"])``).
    """
    if not isinstance(source, list | tuple) or not 0 < len(source) <= 1000:
        return
    if all(isinstance(item, str) and looks_like_path(item) for item in source):
        raise UsageError(
            f"the source is a list of {len(source)} str that look like file paths "
            f"({source[0]!r}, ...), but str items are read as log lines; pass Path objects "
            "(e.g. [Path(p) for p in glob.glob(...)]) or one path"
        )


def chain(first: list[Any], rest: Iterator[Any]) -> Iterator[Any]:
    """``first``, then ``rest``."""
    yield from first
    yield from rest
