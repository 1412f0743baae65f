"""Helper of :class:`~siem_consensus.sources.EventStream`: a connector search as parsed chunks."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any

import polars as pl

from ..parsers._zone import naive_zone
from ..parsers.base import ParsedChunk, rows_to_frame
from ..parsers.caller_ids import CallerIds

if TYPE_CHECKING:
    from ..connectors.base import ConnectorQuery

__all__ = ["connector_chunks"]


def connector_chunks(
    query: ConnectorQuery, chunk_lines: int, timezone: str | None, ids: CallerIds
) -> Iterator[tuple[int, ParsedChunk]]:
    """``(records read, parsed chunk)`` for a connector search, ``chunk_lines`` events at a time,
    with the dead letters and skipped records the connector counted since the last chunk.

    Events are numbered ``{connector}:{k}`` in read order; a document's own id is recorded in
    ``ids`` and becomes the event's id in the report.
    """
    name = query.name
    letters = query.dead_letters
    seen, skipped_before = len(letters), query.skipped
    iterator = iter(query)
    number = 0
    while True:
        # connectors parse as they read (Kafka messages, Splunk results): in the zone too
        with naive_zone(timezone):
            chunk = list(islice(iterator, chunk_lines))
        dead, seen = list(letters[seen:]), len(letters)
        skipped, skipped_before = query.skipped - skipped_before, query.skipped
        if not chunk and not dead and not skipped:
            return
        rows: list[dict[str, Any]] = []
        for event in chunk:
            number += 1
            if event.event_id:
                ids.add(name, number, event.event_id)
            row = event.model_dump(exclude={"event_id"})
            row["line"] = number
            rows.append(row)
        frame = rows_to_frame(rows, name).with_columns(
            pl.Series("dataset", [row.get("dataset") or name for row in rows], pl.String())
        )
        yield (
            len(chunk) + len(dead) + skipped,
            ParsedChunk(frame, dead_letters=dead, skipped=skipped),
        )
