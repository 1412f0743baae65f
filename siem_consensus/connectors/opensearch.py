"""OpenSearch connector (opensearch-py): point-in-time reads, idempotent bulk write-back.

Reading opens a point in time (PIT) and pages with ``search_after`` sorted on ``@timestamp``
then ``_shard_doc``, so there is no 10,000-hit ceiling and pages stay consistent while the
index changes. Servers without PIT fall back to the scroll API (``paging="scroll"`` forces it).
Documents may be nested (``{"source": {"ip": ...}}``) or dotted (``{"source.ip": ...}``);
each becomes an :class:`~siem_consensus.models.Event` with id ``{index}:{_id}``. Documents
that cannot become an Event are kept in :attr:`OpenSearchConnector.dead_letters`.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError

from ..errors import ConnectorError, MissingDependencyError
from ..models import DeadLetter, Decision, Event, Incident
from ..report import Report
from .base import Connector, WriteFailure, WriteResult

if TYPE_CHECKING:
    from opensearchpy import OpenSearch

__all__ = ["OpenSearchConnector"]

_ECS_FIELDS = {
    (info.alias or name): name for name, info in Event.model_fields.items() if name != "event_id"
}
_NO_INDEX = "index_not_found_exception"
_SORT = [{"@timestamp": {"order": "asc", "unmapped_type": "date"}}]


def _import_opensearch() -> Any:
    try:
        import opensearchpy
    except ImportError:
        raise MissingDependencyError("opensearch-py", "opensearch") from None
    return opensearchpy


def _flatten(doc: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in doc.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and dotted not in _ECS_FIELDS:
            flat.update(_flatten(value, f"{dotted}."))
        else:
            flat[dotted] = value
    return flat


def _to_event(hit: Mapping[str, Any]) -> Event:
    fields: dict[str, Any] = {"event_id": f"{hit['_index']}:{hit['_id']}"}
    for key, value in _flatten(hit.get("_source") or {}).items():
        if key not in _ECS_FIELDS or value is None:
            continue  # ECS fields the Event model does not carry
        if isinstance(value, list):
            # ECS allows arrays; recipients are joined, other fields keep their first value.
            value = ", ".join(map(str, value)) if key == "email.to.address" else value[0]
        fields[key] = value
    return Event.model_validate(fields)


def _doc_id(incident_id: str, detector: str) -> str:
    return hashlib.sha256(f"{detector}\x00{incident_id}".encode()).hexdigest()[:40]


def _decision_doc(report: Report, decision: Decision, incident: Incident | None) -> dict[str, Any]:
    decided: dict[str, Any] = decision.model_dump(mode="json", exclude={"verdicts"})
    decided["analysts"] = [v.analyst for v in decision.verdicts]
    doc: dict[str, Any] = {
        "@timestamp": (report.generated_at or datetime.now(UTC)).isoformat(),
        "event": {"kind": "alert", "dataset": "siem_consensus.decision"},
        "siem_consensus": {"decision": decided},
    }
    if incident is not None:
        doc["event"]["severity"] = incident.severity.rank
        doc["source"] = {"ip": list(incident.entities.source_ips)}
        doc["destination"] = {"ip": list(incident.entities.destination_ips)}
        doc["threat"] = {"technique": {"id": [a.technique_id for a in incident.attack]}}
        doc["siem_consensus"]["incident"] = incident.model_dump(
            mode="json", by_alias=True, exclude={"evidence", "stats", "enrichment"}
        )
    return doc


class OpenSearchConnector(Connector):
    """Read ECS events from an OpenSearch index and write decisions back to another.

    Args:
        hosts: URL or URLs of the cluster, e.g. ``"https://siem.example:9200"``.
        index: Index, alias or pattern to read events from.
        target_index: Index that receives one document per decision (with its incident).
        auth: ``(user, password)`` for HTTP basic authentication.
        verify_certs: Verify TLS certificates (keep it on; pass ``ca_certs`` for private CAs).
        ca_certs: Path of a CA bundle for TLS verification.
        page_size: Hits per page when reading, documents per bulk request when writing.
        paging: ``"pit"`` (point in time, scroll if the server lacks it) or ``"scroll"``.
        refresh: Refresh policy of bulk writes (``True``, ``False`` or ``"wait_for"``).
        timeout: Seconds per HTTP request.
        max_retries: Retries of a failed connection before giving up.
    """

    name = "opensearch"

    def __init__(
        self,
        hosts: str | Sequence[str],
        index: str,
        target_index: str = "security-enriched-decisions",
        *,
        auth: tuple[str, str] | None = None,
        verify_certs: bool = True,
        ca_certs: str | None = None,
        page_size: int = 1000,
        paging: Literal["pit", "scroll"] = "pit",
        refresh: bool | Literal["wait_for"] = False,
        timeout: float = 30.0,
        max_retries: int = 3,
    ) -> None:
        opensearchpy = _import_opensearch()
        self.hosts = [hosts] if isinstance(hosts, str) else list(hosts)
        self.index = index
        self.target_index = target_index
        self.page_size = page_size
        self.paging = paging
        self.refresh = refresh
        self.dead_letters: list[DeadLetter] = []
        self._errors = opensearchpy.exceptions
        self.client: OpenSearch = opensearchpy.OpenSearch(
            hosts=self.hosts,
            http_auth=auth,
            verify_certs=verify_certs,
            ca_certs=ca_certs,
            timeout=timeout,
            max_retries=max_retries,
            retry_on_timeout=True,
        )

    @property
    def url(self) -> str:
        """The configured host URL(s), for messages."""
        return ", ".join(self.hosts)

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

        A string query is a ``query_string`` query; a dict is OpenSearch query DSL.
        """
        body_query = self._query(query, start, end)
        hits = (
            self._scroll_hits(body_query) if self.paging == "scroll" else self._pit_hits(body_query)
        )
        for n, hit in enumerate(hits, 1):
            try:
                yield _to_event(hit)
            except ValidationError as exc:
                self.dead_letters.append(
                    DeadLetter(
                        source=f"{hit['_index']}:{hit['_id']}",
                        line=n,
                        reason=f"not a valid event: {exc.errors()[0]['msg']}",
                        raw_excerpt=str(hit.get("_source"))[:200],
                        parser="opensearch",
                    )
                )

    @staticmethod
    def _query(
        query: Mapping[str, Any] | str | None, start: datetime | None, end: datetime | None
    ) -> dict[str, Any]:
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

    def _pit_hits(self, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
        try:
            pit = self.client.create_pit(index=self.index, params={"keep_alive": "5m"})
        except self._errors.TransportError as exc:
            lacks_pit = exc.status_code in (400, 404, 405) and exc.error != _NO_INDEX
            if not lacks_pit:
                raise self._translate(exc, "open a point in time on", self.index) from exc
            yield from self._scroll_hits(query)
            return
        pit_id: str = pit["pit_id"]
        sort = [*_SORT, {"_shard_doc": "asc"}]
        after: list[Any] | None = None
        try:
            while True:
                body: dict[str, Any] = {
                    "size": self.page_size,
                    "query": query,
                    "sort": sort,
                    "pit": {"id": pit_id, "keep_alive": "5m"},
                }
                if after is not None:
                    body["search_after"] = after
                page = self._call("search", self.client.search, body=body)
                pit_id = page.get("pit_id", pit_id)
                hits: list[dict[str, Any]] = page["hits"]["hits"]
                yield from hits
                if len(hits) < self.page_size:
                    return
                after = hits[-1]["sort"]
        finally:
            self._quietly(self.client.delete_pit, body={"pit_id": [pit_id]})

    def _scroll_hits(self, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
        body = {"size": self.page_size, "query": query, "sort": [*_SORT, "_doc"]}
        page = self._call("search", self.client.search, index=self.index, body=body, scroll="5m")
        scroll_id = page.get("_scroll_id")
        try:
            while page["hits"]["hits"]:
                yield from page["hits"]["hits"]
                page = self._call("scroll", self.client.scroll, scroll_id=scroll_id, scroll="5m")
                scroll_id = page.get("_scroll_id", scroll_id)
        finally:
            if scroll_id:
                self._quietly(self.client.clear_scroll, scroll_id=scroll_id)

    # -- writing ------------------------------------------------------------------------------

    def write_decisions(self, report: Report) -> WriteResult:
        """Index one document per decision, ``_id`` = hash of detector and incident id.

        The ``index`` operation replaces an earlier document with the same id, so a re-run
        updates instead of duplicating. Refused documents are listed in the result.
        """
        incidents = {incident.id: incident for incident in report.incidents}
        docs: list[tuple[str, str, dict[str, Any]]] = []
        for decision in report.decisions:
            incident = incidents.get(decision.incident_id)
            detector = incident.detector if incident else report.detector
            doc_id = _doc_id(decision.incident_id, detector)
            docs.append((doc_id, decision.incident_id, _decision_doc(report, decision, incident)))
        created = updated = 0
        failures: list[WriteFailure] = []
        for first in range(0, len(docs), self.page_size):
            chunk = docs[first : first + self.page_size]
            c, u, f = self._bulk(chunk)
            created, updated = created + c, updated + u
            failures.extend(f)
        return WriteResult(
            target=self.target_index,
            attempted=len(docs),
            created=created,
            updated=updated,
            failures=tuple(failures),
        )

    def _bulk(
        self, chunk: list[tuple[str, str, dict[str, Any]]]
    ) -> tuple[int, int, list[WriteFailure]]:
        actions: list[dict[str, Any]] = []
        for doc_id, _, doc in chunk:
            actions += [{"index": {"_index": self.target_index, "_id": doc_id}}, doc]
        refresh = "wait_for" if self.refresh == "wait_for" else str(self.refresh).lower()
        response = self._call("bulk write to", self.client.bulk, body=actions, refresh=refresh)
        created = updated = 0
        failures: list[WriteFailure] = []
        for (doc_id, incident_id, _), item in zip(chunk, response["items"], strict=True):
            result = item["index"]
            if "error" in result or result.get("status", 500) >= 300:
                error = result.get("error") or {}
                failures.append(
                    WriteFailure(
                        doc_id=doc_id,
                        incident_id=incident_id,
                        status=int(result.get("status", 0)),
                        error_type=str(error.get("type", "")),
                        reason=str(error.get("reason", error)),
                    )
                )
            elif result.get("result") == "created":
                created += 1
            else:
                updated += 1
        return created, updated, failures

    # -- errors -------------------------------------------------------------------------------

    def _call(self, action: str, method: Any, **kwargs: Any) -> dict[str, Any]:
        where = kwargs.get("index", self.target_index if "bulk" in action else self.index)
        try:
            result: dict[str, Any] = method(**kwargs)
        except self._errors.TransportError as exc:
            raise self._translate(exc, action, str(where)) from exc
        return result

    def _translate(self, exc: Any, action: str, where: str) -> ConnectorError:
        """Turn an opensearch-py error into a ConnectorError that says what to do."""
        errors = self._errors
        if isinstance(exc, errors.AuthenticationException):
            return ConnectorError(
                f"OpenSearch at {self.url} rejected the credentials (HTTP 401) during {action} "
                f"{where!r}: check auth=(user, password)"
            )
        if isinstance(exc, errors.AuthorizationException):
            return ConnectorError(
                f"OpenSearch at {self.url} denied {action} {where!r} (HTTP 403): grant the user "
                "read on the source index and write on the target index"
            )
        if isinstance(exc, errors.NotFoundError) and exc.error == _NO_INDEX:
            return ConnectorError(
                f"index {where!r} not found on OpenSearch at {self.url}: check the index "
                "name or pattern (GET _cat/indices lists them)"
            )
        if isinstance(exc, errors.SSLError):
            return ConnectorError(
                f"TLS failed with OpenSearch at {self.url}: pass ca_certs= for a private CA "
                f"({exc.info})"
            )
        if isinstance(exc, errors.ConnectionError):
            return ConnectorError(
                f"cannot reach OpenSearch at {self.url}: is the server running and the URL "
                f"(scheme, host, port) right? ({exc.info})"
            )
        return ConnectorError(
            f"OpenSearch at {self.url}: {action} {where!r} failed with HTTP "
            f"{exc.status_code}: {exc.error}"
        )

    def _quietly(self, method: Any, **kwargs: Any) -> None:
        """Best-effort cleanup (the server expires PITs and scrolls on its own)."""
        with contextlib.suppress(self._errors.OpenSearchException):
            method(**kwargs)
