"""Elasticsearch 8 connector (elasticsearch-py 8): point-in-time reads, idempotent bulk writes.

Reading opens a point in time (PIT) and pages with ``search_after`` sorted on ``@timestamp``
then ``_shard_doc``, so there is no 10,000-hit ceiling and pages stay consistent while the
index changes. Servers without PIT fall back to the scroll API (``paging="scroll"`` forces it).
Documents may be nested or dotted ECS; each becomes an :class:`~siem_consensus.models.Event`
with id ``{index}:{_id}``, or a dead letter in :attr:`ElasticsearchConnector.dead_letters`.

Writing sends the documents of ``siem-consensus export --format ecs`` (with the incident) in
bulk ``index`` requests under their deterministic ids, so a re-run updates them.

Failed calls are retried with exponential backoff (connection errors, timeouts and the
``retry_on_status`` statuses, 429/502/503/504 by default), and so are bulk items the cluster
rejected with such a status. The client's own retries are turned off: it retries at once,
without waiting, which does not help an overloaded cluster.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from ..errors import ConfigError, ConnectorError, MissingDependencyError
from ..models import DeadLetter
from ._documents import (
    KEEP_ALIVE,
    NO_INDEX,
    BulkTally,
    DecisionDocument,
    Page,
    SearchEngineConnector,
    bulk_lines,
    check_paging,
)
from .base import without_credentials

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

__all__ = ["ElasticsearchConnector"]


def _import_elasticsearch() -> Any:
    try:
        import elasticsearch
    except ImportError:
        raise MissingDependencyError("elasticsearch", "elasticsearch") from None
    return elasticsearch


def _credentials(
    api_key: str | Sequence[str] | None, username: str | None, password: str | None
) -> dict[str, Any]:
    """Client keyword arguments for the one authentication method given (ConfigError if two)."""
    if (username is None) != (password is None):
        raise ConfigError("elasticsearch: username= and password= go together")
    if api_key is not None and username is not None:
        raise ConfigError("elasticsearch: give api_key= or username=/password=, not both")
    if isinstance(api_key, str):
        return {"api_key": api_key}
    if api_key is not None:
        if len(api_key) != 2:
            raise ConfigError('elasticsearch: api_key is "<base64 id:key>" or ["<id>", "<key>"]')
        return {"api_key": (api_key[0], api_key[1])}
    return {"basic_auth": (username, password)} if username is not None else {}


def _error_of(exc: Any) -> tuple[str, str]:
    """(type, reason) of an ApiError's body (Elasticsearch's ``{"error": {...}}`` shape)."""
    body = exc.body if isinstance(exc.body, Mapping) else {}
    error = body.get("error")
    if isinstance(error, Mapping):
        return str(error.get("type", exc.message)), str(error.get("reason", ""))
    return str(exc.message), str(error or exc.body or "")[:300]


class ElasticsearchConnector(SearchEngineConnector):
    """Read ECS events from an Elasticsearch 8 index and write decisions back to another.

    Every argument is a plain value, so :meth:`Connector.from_settings` builds the connector
    from a TOML table.

    Args:
        hosts: URL or URLs of the cluster, e.g. ``"https://siem.example:9200"``.
        index: Index, alias, data stream or pattern to read events from.
        target_index: Index that receives one document per decision (with its incident).
        api_key: API key: the base64 ``encoded`` value, or ``[id, api_key]``.
        username: User for HTTP basic authentication (with ``password``).
        password: Password of ``username``.
        verify_certs: Verify TLS certificates (keep it on; pass ``ca_certs`` for private CAs).
        ca_certs: Path of a CA bundle, e.g. the cluster's ``config/certs/http_ca.crt``.
        client_cert: Path of a client certificate (PEM), for clusters that require one.
        client_key: Path of the client certificate's private key (PEM).
        ssl_assert_fingerprint: SHA-256 fingerprint (hex) of the cluster's certificate, instead
            of a CA bundle; Elasticsearch prints it at first start.
        page_size: Hits per page when reading, documents per bulk request when writing
            (at most 10,000).
        paging: ``"pit"`` (point in time, scroll if the server lacks it) or ``"scroll"``.
        refresh: Refresh policy of bulk writes (``True``, ``False`` or ``"wait_for"``).
        timeout: Seconds per HTTP request.
        max_retries: Retries of a failed call (and of rejected bulk items) before giving up.
        retry_on_status: HTTP statuses that are retried.
        backoff: Seconds before the first retry; doubled for each further one.
        max_backoff: Longest wait between two tries, in seconds.
    """

    name = "elasticsearch"

    def __init__(
        self,
        hosts: str | Sequence[str],
        index: str,
        target_index: str = "security-enriched-decisions",
        *,
        api_key: str | Sequence[str] | None = None,
        username: str | None = None,
        password: str | None = None,
        verify_certs: bool = True,
        ca_certs: str | None = None,
        client_cert: str | None = None,
        client_key: str | None = None,
        ssl_assert_fingerprint: str | None = None,
        page_size: int = 1000,
        paging: Literal["pit", "scroll"] = "pit",
        refresh: bool | Literal["wait_for"] = False,
        timeout: float = 30.0,
        max_retries: int = 3,
        retry_on_status: Sequence[int] = (429, 502, 503, 504),
        backoff: float = 0.5,
        max_backoff: float = 30.0,
    ) -> None:
        es = _import_elasticsearch()
        check_paging(self.name, paging, refresh, page_size)
        self.hosts = [hosts] if isinstance(hosts, str) else list(hosts)
        self.index = index
        self.target_index = target_index
        self.page_size = page_size
        self.paging = paging
        self.refresh = refresh
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry_on_status = frozenset(retry_on_status)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.dead_letters: list[DeadLetter] = []
        self._es = es
        tls = {
            "ca_certs": ca_certs,
            "client_cert": client_cert,
            "client_key": client_key,
            "ssl_assert_fingerprint": ssl_assert_fingerprint,
        }
        try:
            self.client: Elasticsearch = es.Elasticsearch(
                hosts=self.hosts,
                **_credentials(api_key, username, password),
                verify_certs=verify_certs,
                **{k: v for k, v in tls.items() if v is not None},
                request_timeout=timeout,
                max_retries=0,  # retried here, with backoff
            )
        except ValueError as exc:
            problem = str(exc)
            for host in self.hosts:  # the client quotes the URL, password and all
                problem = problem.replace(host, without_credentials(host))
            raise ConfigError(
                f"elasticsearch: invalid connection settings ({problem}); hosts are URLs like "
                "https://host:9200"
            ) from None

    # -- reading ------------------------------------------------------------------------------

    def _open_pit(self) -> str | None:
        try:
            pit = self._retrying(
                self.client.open_point_in_time, index=self.index, keep_alive=KEEP_ALIVE
            )
        except self._es.ApiError as exc:
            if exc.meta.status in (400, 404, 405) and _error_of(exc)[0] != NO_INDEX:
                return None  # a server without PIT: scroll instead
            raise self._translate(exc, "open a point in time on", self.index) from exc
        except self._es.TransportError as exc:
            raise self._translate(exc, "open a point in time on", self.index) from exc
        return str(pit["id"])

    def _search(self, body: dict[str, Any]) -> Page:
        return self._call("search", self.index, self.client.search, **body)

    def _close_pit(self, pit_id: str) -> None:
        self._quietly(self.client.close_point_in_time, id=pit_id)

    def _scroll_first(self, body: dict[str, Any]) -> Page:
        search = self.client.search
        return self._call("search", self.index, search, index=self.index, scroll=KEEP_ALIVE, **body)

    def _scroll_next(self, scroll_id: str) -> Page:
        # Not resent after a lost connection: the server may already have moved on a page.
        scroll = self.client.scroll
        return self._call(
            "scroll", self.index, scroll, scroll_id=scroll_id, scroll=KEEP_ALIVE, idempotent=False
        )

    def _clear_scroll(self, scroll_id: str) -> None:
        self._quietly(self.client.clear_scroll, scroll_id=scroll_id)

    # -- writing ------------------------------------------------------------------------------

    def _bulk(self, docs: list[DecisionDocument], tally: BulkTally) -> None:
        for attempt in range(self.max_retries + 1):
            response = self._call(
                "bulk write to",
                self.target_index,
                self.client.bulk,
                operations=bulk_lines(docs, self.target_index),
                refresh=self.refresh,
            )
            last = attempt == self.max_retries
            docs = tally.add(docs, response["items"], () if last else self.retry_on_status)
            if not docs:
                return
            time.sleep(self._backoff(attempt))

    # -- calls, retries and errors ------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        return float(min(self.max_backoff, self.backoff * 2**attempt))

    def _retrying(
        self, method: Callable[..., Any], *, idempotent: bool = True, **kwargs: Any
    ) -> dict[str, Any]:
        """The response body of ``method(**kwargs)``, retried with backoff; raises SDK errors."""
        errors = self._es
        for attempt in range(self.max_retries):
            try:
                return dict(method(**kwargs).body)
            except errors.ApiError as exc:
                if exc.meta.status not in self.retry_on_status:
                    raise
            except (errors.ConnectionError, errors.ConnectionTimeout) as exc:
                if isinstance(exc, errors.SSLError) or not idempotent:
                    raise
            time.sleep(self._backoff(attempt))
        return dict(method(**kwargs).body)

    def _call(
        self, action: str, where: str, method: Callable[..., Any], **kwargs: Any
    ) -> dict[str, Any]:
        """:meth:`_retrying`, with SDK errors turned into :class:`ConnectorError`."""
        try:
            return self._retrying(method, **kwargs)
        except (self._es.ApiError, self._es.TransportError) as exc:
            retried = kwargs.get("idempotent", True)
            raise self._translate(exc, action, where, retried=retried) from exc

    def _translate(
        self, exc: Any, action: str, where: str, *, retried: bool = True
    ) -> ConnectorError:
        """Turn an elasticsearch-py error into a ConnectorError that says what to do."""
        es, at = self._es, f"Elasticsearch at {self.url}"
        tries = f" after {self.max_retries + 1} tries" if retried and self.max_retries else ""
        if isinstance(exc, es.ApiError):
            kind, reason = _error_of(exc)
            if isinstance(exc, es.UnsupportedProductError):
                return ConnectorError(
                    f"the server at {self.url} is not Elasticsearch (no X-Elastic-Product "
                    "header): use the opensearch connector for OpenSearch"
                )
            if exc.meta.status == 401:
                return ConnectorError(
                    f"{at} rejected the credentials (HTTP 401) during {action} {where!r}: "
                    f"check api_key= or username=/password= ({reason})"
                )
            if exc.meta.status == 403:
                need = "the write and create_index" if "bulk" in action else "the read"
                return ConnectorError(
                    f"{at} denied {action} {where!r} (HTTP 403): grant the user {need} index "
                    f"privileges on {where!r} ({reason})"
                )
            if kind == NO_INDEX:
                return ConnectorError(
                    f"index {where!r} not found on {at}: check the index name or pattern "
                    "(GET _cat/indices lists them)"
                )
            if exc.meta.status in self.retry_on_status:
                return ConnectorError(
                    f"{at} was still busy{tries} ({action} {where!r}: HTTP {exc.meta.status} "
                    f"{kind}): try again later, or raise max_retries= or max_backoff= ({reason})"
                )
            return ConnectorError(
                f"{at}: {action} {where!r} failed with HTTP {exc.meta.status} {kind}: {reason}"
            )
        if isinstance(exc, es.SSLError):
            return ConnectorError(
                f"TLS failed with {at}: pass ca_certs= (the cluster's CA, e.g. "
                "config/certs/http_ca.crt) or ssl_assert_fingerprint=, and use https:// only "
                f"if the cluster serves TLS ({exc.message})"
            )
        if isinstance(exc, es.ConnectionTimeout):
            return ConnectorError(
                f"{at} did not answer {action} {where!r} within {self.timeout:g} s{tries}: "
                "check the cluster's health or raise timeout="
            )
        if isinstance(exc, es.ConnectionError):
            return ConnectorError(
                f"cannot reach {at}{tries}: is the server running and the URL (scheme, host, "
                f"port) right? ({exc.message})"
            )
        return ConnectorError(f"{at}: {action} {where!r} failed: {exc}")

    def _quietly(self, method: Callable[..., Any], **kwargs: Any) -> None:
        """Best-effort cleanup (the server expires PITs and scrolls on its own)."""
        with contextlib.suppress(self._es.ApiError, self._es.TransportError):
            method(**kwargs)
