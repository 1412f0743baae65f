"""Documents in and out of the search-engine SIEMs (OpenSearch, Elasticsearch).

:class:`SearchEngineConnector` is what their connectors share: paging, mapping and bulk
accounting. A subclass adds only its client's calls and the translation of its errors.

* **Reading.** :func:`search_query` builds the query (query string or DSL, time bounds); the
  connector pages through the hits with a point in time and ``search_after`` (or a scroll);
  :func:`hits_to_events` turns each hit (nested or dotted ECS) into an
  :class:`~siem_consensus.models.Event` with id ``{index}:{_id}``, or a dead letter.
* **Writing.** :func:`decision_documents` makes one document per decision: the ECS document of
  ``siem-consensus export --format ecs`` (:func:`~siem_consensus.export.to_ecs_documents`,
  same deterministic ``_id``) plus the incident under ``siem_consensus.incident`` and the
  decision's threshold and recommended actions. :func:`bulk_lines` and :class:`BulkTally` turn
  them into bulk requests and count each response item as created, updated, refused or to be
  retried.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from pydantic import ValidationError

from ..errors import ConfigError
from ..export.ecs import to_ecs_documents
from ..models import DeadLetter, Event, WriteFailure, WriteResult
from ..report import Report
from .base import Connector, without_credentials

Hit = dict[str, Any]
Page = dict[str, Any]

MAX_PAGE = 10_000
"""Largest page: ``index.max_result_window``, above which the server refuses a search."""

NO_INDEX = "index_not_found_exception"
"""Error type of a search or PIT on an index (pattern) that does not exist."""

KEEP_ALIVE = "5m"
"""How long the server keeps a point in time or scroll between two pages."""

# Oldest first; documents without @timestamp (or indices without it mapped) still sort.
_TIME_SORT: list[dict[str, Any]] = [{"@timestamp": {"order": "asc", "unmapped_type": "date"}}]

_ECS_FIELDS = {
    (info.alias or name): name for name, info in Event.model_fields.items() if name != "event_id"
}
_INCIDENT_EXCLUDE = {"evidence", "stats", "enrichment"}  # sampled events and free-form dicts


# -- reading ----------------------------------------------------------------------------------


def search_query(
    query: Mapping[str, Any] | str | None, start: datetime | None, end: datetime | None
) -> dict[str, Any]:
    """Query DSL for a query string or DSL dict within ``[start, end)`` on ``@timestamp``."""
    filters: list[dict[str, Any]] = []
    if isinstance(query, str):
        filters.append({"query_string": {"query": query}})
    elif query is not None:
        filters.append(dict(query))
    if start is not None or end is not None:
        bounds = {"gte": start.isoformat() if start else None}
        bounds["lt"] = end.isoformat() if end else None
        filters.append({"range": {"@timestamp": {k: v for k, v in bounds.items() if v}}})
    return {"bool": {"filter": filters}} if filters else {"match_all": {}}


def _flatten(doc: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in doc.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and dotted not in _ECS_FIELDS:
            flat.update(_flatten(value, f"{dotted}."))
        else:
            flat[dotted] = value
    return flat


def hit_to_event(hit: Mapping[str, Any]) -> Event:
    """The Event of one search hit; raises ValidationError when it cannot be one."""
    ref = f"{hit['_index']}:{hit['_id']}"
    fields: dict[str, Any] = {"event_id": ref}
    for key, value in _flatten(hit.get("_source") or {}).items():
        if key not in _ECS_FIELDS or value is None:
            continue  # ECS fields the Event model does not carry
        if isinstance(value, list):
            # ECS allows arrays; recipients are joined, other fields keep their first value.
            value = ", ".join(map(str, value)) if key == "email.to.address" else value[0]
        fields[key] = value
    return Event.model_validate(fields)


def hits_to_events(
    hits: Iterator[Hit], dead_letters: list[DeadLetter], parser: str
) -> Iterator[Event]:
    """Events of the hits, in order; a hit that is no valid Event goes to ``dead_letters``."""
    for n, hit in enumerate(hits, 1):
        try:
            yield hit_to_event(hit)
        except ValidationError as exc:
            dead_letters.append(
                DeadLetter(
                    source=f"{hit['_index']}:{hit['_id']}",
                    line=n,
                    reason=f"not a valid event: {exc.errors()[0]['msg']}",
                    raw_excerpt=str(hit.get("_source"))[:200],
                    parser=parser,
                )
            )


# -- writing ----------------------------------------------------------------------------------


class DecisionDocument(NamedTuple):
    """One document to write: its id, the incident it describes, and its body."""

    doc_id: str
    incident_id: str
    source: dict[str, Any]


def orphan_failures(report: Report) -> list[WriteFailure]:
    """A failure for each decision whose incident is not in the report (nothing describes it)."""
    known = {incident.id for incident in report.incidents}
    return [
        WriteFailure(
            doc_id="",
            incident_id=decision.incident_id,
            error_type="incident_not_in_report",
            reason="the report has no incident with this id, so no document describes it",
        )
        for decision in report.decisions
        if decision.incident_id not in known
    ]


def decision_documents(report: Report) -> tuple[list[DecisionDocument], list[WriteFailure]]:
    """The documents of the report's decisions, and a failure for each that has none.

    Returns:
        The ECS export documents (``_id`` taken out of the body) with ``siem_consensus.incident``
        (without the sampled events), ``siem_consensus.threshold`` and
        ``siem_consensus.recommended_actions`` added; and one failure per decision whose
        incident is not in the report (nothing to describe, so nothing is written for it).
    """
    incidents = {incident.id: incident for incident in report.incidents}
    decisions = {decision.incident_id: decision for decision in report.decisions}
    docs: list[DecisionDocument] = []
    for doc in to_ecs_documents(report):
        doc_id: str = doc.pop("_id")
        ours: dict[str, Any] = doc["siem_consensus"]
        incident, decision = incidents[ours["incident_id"]], decisions[ours["incident_id"]]
        ours["threshold"] = decision.threshold
        ours["recommended_actions"] = list(decision.recommended_actions)
        ours["incident"] = incident.model_dump(
            mode="json", by_alias=True, exclude=_INCIDENT_EXCLUDE
        )
        docs.append(DecisionDocument(doc_id, incident.id, doc))
    return docs, orphan_failures(report)


def bulk_lines(docs: Sequence[DecisionDocument], index: str) -> list[dict[str, Any]]:
    """Bulk request lines: an ``index`` action (replace by id) and the body, per document."""
    lines: list[dict[str, Any]] = []
    for doc in docs:
        lines += [{"index": {"_index": index, "_id": doc.doc_id}}, doc.source]
    return lines


@dataclass
class BulkTally:
    """Running count of a write-back: created, updated and refused documents."""

    created: int = 0
    updated: int = 0
    failures: list[WriteFailure] = field(default_factory=list)

    def add(
        self,
        docs: Sequence[DecisionDocument],
        items: Sequence[Mapping[str, Any]],
        retry_statuses: Collection[int] = (),
    ) -> list[DecisionDocument]:
        """Count the response items of a bulk request (same order as ``docs``).

        Returns:
            The documents refused with a status in ``retry_statuses`` (e.g. 429 when the
            cluster's write queue is full): not counted, for the caller to send again.
        """
        retry: list[DecisionDocument] = []
        for doc, item in zip(docs, items, strict=True):
            result: Mapping[str, Any] = next(iter(item.values()))
            status = int(result.get("status", 0))
            if "error" not in result and 200 <= status < 300:
                if result.get("result") == "created":
                    self.created += 1
                else:
                    self.updated += 1
            elif status in retry_statuses:
                retry.append(doc)
            else:
                error = result.get("error") or {}
                if not isinstance(error, Mapping):
                    error = {"reason": error}
                self.failures.append(
                    WriteFailure(
                        doc_id=doc.doc_id,
                        incident_id=doc.incident_id,
                        status=status,
                        error_type=str(error.get("type", "")),
                        reason=str(error.get("reason", "")),
                    )
                )
        return retry

    def result(self, connector: str, target: str, attempted: int) -> WriteResult:
        """The :class:`WriteResult` of everything counted."""
        return WriteResult(
            connector=connector,
            target=target,
            attempted=attempted,
            created=self.created,
            updated=self.updated,
            failures=tuple(self.failures),
        )


# -- the shared connector ---------------------------------------------------------------------


def check_paging(connector: str, paging: str, refresh: bool | str, page_size: int) -> None:
    """ConfigError for a paging mode, refresh policy or page size the server cannot take."""
    if paging not in ("pit", "scroll"):
        raise ConfigError.unknown("paging mode", str(paging), ("pit", "scroll"))
    if refresh not in (True, False, "wait_for"):
        raise ConfigError(f'{connector}: refresh is true, false or "wait_for", not {refresh!r}')
    if not 1 <= page_size <= MAX_PAGE:
        raise ConfigError(f"{connector}: page_size must be 1 to {MAX_PAGE}, not {page_size}")


class SearchEngineConnector(Connector):
    """Base of the OpenSearch and Elasticsearch connectors: reading and writing documents.

    A subclass sets the attributes below in ``__init__`` and implements the one-call methods
    ``_open_pit``, ``_search``, ``_close_pit``, ``_scroll_first``, ``_scroll_next``,
    ``_clear_scroll`` and ``_bulk`` with its client, raising ConnectorError for failures.
    """

    hosts: list[str]
    index: str
    target_index: str
    page_size: int
    paging: str
    dead_letters: list[DeadLetter]
    client: Any

    @property
    def url(self) -> str:
        """The configured host URL(s), for messages (without credentials in them)."""
        return ", ".join(without_credentials(host) for host in self.hosts)

    def close(self) -> None:
        """Close the HTTP connections."""
        self.client.close()

    # -- reading ------------------------------------------------------------------------------

    def iter_events(
        self,
        query: Mapping[str, Any] | str | None = None,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> Iterator[Event]:
        """Stream matching events oldest first; see :meth:`Connector.iter_events`.

        A string query is a ``query_string`` query (Lucene syntax); a dict is query DSL.
        """
        body_query = search_query(query, start, end)
        pit_id = None if self.paging == "scroll" else self._open_pit()
        hits = (
            self._scroll_hits(body_query) if pit_id is None else self._pit_hits(pit_id, body_query)
        )
        yield from hits_to_events(hits, self.dead_letters, self.name)

    def _pit_hits(self, pit_id: str, query: dict[str, Any]) -> Iterator[Hit]:
        """Hits of a point in time, page by page with ``search_after``; closes it at the end."""
        body: dict[str, Any] = {
            "size": self.page_size,
            "query": query,
            "sort": [*_TIME_SORT, {"_shard_doc": "asc"}],
            "track_total_hits": False,
        }
        try:
            while True:
                page = self._search({**body, "pit": {"id": pit_id, "keep_alive": KEEP_ALIVE}})
                pit_id = page.get("pit_id") or pit_id  # the server may hand out a new id
                hits: list[Hit] = page["hits"]["hits"]
                yield from hits
                if len(hits) < self.page_size:
                    return
                body["search_after"] = hits[-1]["sort"]
        finally:
            self._close_pit(pit_id)

    def _scroll_hits(self, query: dict[str, Any]) -> Iterator[Hit]:
        """Hits of a scroll until an empty page; clears the scroll at the end."""
        body = {"size": self.page_size, "query": query, "sort": [*_TIME_SORT, "_doc"]}
        page = self._scroll_first(body)
        scroll_id = page.get("_scroll_id")
        try:
            while True:
                hits: list[Hit] = page["hits"]["hits"]
                yield from hits
                if not hits or not scroll_id:
                    return
                page = self._scroll_next(scroll_id)
                scroll_id = page.get("_scroll_id") or scroll_id
        finally:
            if scroll_id:
                self._clear_scroll(scroll_id)

    @abstractmethod
    def _open_pit(self) -> str | None:
        """Open a point in time on ``index``; None when the server has no PIT API."""

    @abstractmethod
    def _search(self, body: dict[str, Any]) -> Page:
        """One search of a point in time (``body`` holds ``pit``, sort, ``search_after``)."""

    @abstractmethod
    def _close_pit(self, pit_id: str) -> None:
        """Close a point in time, quietly (the server expires it anyway)."""

    @abstractmethod
    def _scroll_first(self, body: dict[str, Any]) -> Page:
        """First page of a scroll over ``index`` with ``body`` (keep-alive ``KEEP_ALIVE``)."""

    @abstractmethod
    def _scroll_next(self, scroll_id: str) -> Page:
        """Next page of a scroll."""

    @abstractmethod
    def _clear_scroll(self, scroll_id: str) -> None:
        """Clear a scroll, quietly (the server expires it anyway)."""

    # -- writing ------------------------------------------------------------------------------

    def write_decisions(self, report: Report) -> WriteResult:
        """Index one document per decision: the ECS export document, with its incident.

        The ``_id`` is the export's deterministic id and the ``index`` operation replaces an
        earlier document with the same id, so a re-run updates instead of duplicating.
        Refused documents are listed in the result, the rest of each bulk is kept.
        """
        docs, orphans = decision_documents(report)
        tally = BulkTally(failures=orphans)
        for first in range(0, len(docs), self.page_size):
            self._bulk(docs[first : first + self.page_size], tally)
        return tally.result(self.name, self.target_index, len(report.decisions))

    @abstractmethod
    def _bulk(self, docs: list[DecisionDocument], tally: BulkTally) -> None:
        """Send the documents in one bulk request (and retries) and count them in ``tally``."""
