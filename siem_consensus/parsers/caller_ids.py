"""Ids the caller gave its events, kept beside the ``{source}:{line}`` ids detectors compute.

Detectors name an event by where it was read (``{source}:{line}``). When the event came with
an id of its own (``Event.event_id``, an ECS record's ``event.id``, a SIEM document's
``{index}:{_id}``, a Kafka ``{topic}:{partition}:{offset}``), that id is what a SOC engineer
pivots on, so it replaces the computed one in evidence, ``--members``, exports and
write-back. Files without ids keep ``{file}:{line}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

    from ..models import Incident

__all__ = ["CallerIds", "record_id"]


@dataclass
class CallerIds:
    """``{source}:{line}`` -> the caller's id, for the events that brought one.

    Memory grows with the events that carry an id (one string each), not with the others.
    """

    by_source: dict[str, dict[int, str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.by_source)

    def add(self, source: str, line: int, caller_id: str) -> None:
        """Remember that line ``line`` of ``source`` is the caller's ``caller_id``."""
        self.by_source.setdefault(source, {})[line] = caller_id

    def get(self, event_id: str) -> str:
        """The caller's id of ``event_id`` (``{source}:{line}``), or ``event_id`` itself."""
        source, _, line = event_id.rpartition(":")
        lines = self.by_source.get(source)
        if lines is None or not line.isdigit():
            return event_id
        return lines.get(int(line), event_id)

    def incident(self, incident: Incident) -> Incident:
        """``incident`` with the caller's ids in its evidence."""
        if not self:
            return incident
        evidence = tuple(
            e.model_copy(update={"event_id": self.get(e.event_id)}) for e in incident.evidence
        )
        ids = tuple(self.get(i) for i in incident.evidence_event_ids)
        return incident.model_copy(update={"evidence": evidence, "evidence_event_ids": ids})

    def incidents(self, incidents: Iterable[Incident]) -> list[Incident]:
        """Every incident with the caller's ids in its evidence."""
        return [self.incident(i) for i in incidents]

    def column(self, frame: pl.DataFrame, name: str = "event_id") -> pl.DataFrame:
        """``frame`` with the caller's ids in column ``name`` (``{source}:{line}`` values)."""
        if not self or frame.is_empty():
            return frame
        import polars as pl

        values = [self.get(v) for v in frame[name].to_list()]
        return frame.with_columns(pl.Series(name, values, pl.String()))


def record_id(obj: Mapping[str, Any]) -> str | None:
    """An ECS record's own id: ``event.id`` (dotted or nested), else a document ``_id``."""
    value = obj.get("event.id")
    if value is None:
        event = obj.get("event")
        value = event.get("id") if isinstance(event, Mapping) else None
    if value is None:
        value = obj.get("_id")
    return None if value is None or isinstance(value, Mapping | list) else str(value)


def line_id(line: str) -> str | None:
    """The ``event.id`` of one ECS JSON line, when it has one (cheap test first)."""
    if '"id"' not in line and '"event.id"' not in line:
        return None
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    return record_id(obj) if isinstance(obj, Mapping) else None
