"""An in-memory connector: a SIEM double for tests of code that embeds siem_consensus.

It serves events from a list and keeps written decisions in a dict keyed by document id, with
the same semantics as the real connectors (time bounds, each event once in time order, the
same decision documents under the same deterministic ids, re-runs update)::

    siem = MemoryConnector(events)
    report = analyze_firewall(siem.search(start=t0), sinks=[siem])
    assert siem.documents  # the decision documents, as a SIEM would store them
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from ..connectors._documents import decision_documents
from ..connectors.base import Connector
from ..models import Event, WriteFailure, WriteResult
from ..report import Report

__all__ = ["MemoryConnector"]


class MemoryConnector(Connector):
    """Events in from a list, decision documents out into :attr:`documents`.

    Args:
        events: The events to serve (sorted by timestamp on read; untimed ones first).
        target: Name reported as the write target.
        refuse: Incident ids whose documents are refused on write (to test failure paths).

    Attributes:
        documents: Written documents by ``_id``: what every connector writes (the ECS export
            document plus the incident, threshold and recommended actions).
        writes: Number of ``write_decisions`` calls.
    """

    name = "memory"

    def __init__(
        self,
        events: Iterable[Event] = (),
        target: str = "memory",
        refuse: Iterable[str] = (),
    ) -> None:
        self.events = list(events)
        self.target = target
        self.refuse = frozenset(refuse)
        self.documents: dict[str, dict[str, Any]] = {}
        self.writes = 0

    def iter_events(
        self,
        query: Mapping[str, Any] | str | None = None,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> Iterator[Event]:
        """The events within ``[start, end)``; ``query`` is a substring of the message."""

        def wanted(event: Event) -> bool:
            ts = event.timestamp
            if ts is not None and ((start and ts < start) or (end and ts >= end)):
                return False
            if (start or end) and ts is None:
                return False
            return not isinstance(query, str) or query in (event.message or "")

        ordered = sorted(self.events, key=lambda e: (e.timestamp is not None, e.timestamp))
        yield from (event for event in ordered if wanted(event))

    def write_decisions(self, report: Report) -> WriteResult:
        """Store the document of each decision under its deterministic ``_id``; a decision
        whose incident is not in the report is a failure, as with the real connectors."""
        self.writes += 1
        created = updated = 0
        docs, failures = decision_documents(report)
        for doc_id, incident_id, doc in docs:
            if incident_id in self.refuse:
                failures.append(
                    WriteFailure(doc_id=doc_id, incident_id=incident_id, reason="refused")
                )
                continue
            updated += doc_id in self.documents
            created += doc_id not in self.documents
            self.documents[doc_id] = doc
        return WriteResult(
            connector=self.name,
            target=self.target,
            attempted=len(report.decisions),
            created=created,
            updated=updated,
            failures=tuple(failures),
        )

    def close(self) -> None:
        """Nothing to release."""
