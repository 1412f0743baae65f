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
from collections.abc import Sequence
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

if TYPE_CHECKING:
    from opensearchpy import OpenSearch

__all__ = ["OpenSearchConnector"]


def _import_opensearch() -> Any:
    try:
        import opensearchpy
    except ImportError:
        raise MissingDependencyError("opensearch-py", "opensearch") from None
    return opensearchpy


def _basic_auth(
    auth: Sequence[str] | None, username: str | None, password: str | None
) -> tuple[str, str] | None:
    """``(user, password)`` from ``auth`` or from ``username`` and ``password``, if given."""
    if auth is not None and (username is not None or password is not None):
        raise ConfigError("opensearch: give auth=(user, password) or username=/password=, not both")
    if auth is not None:
        if len(auth) != 2:
            raise ConfigError("opensearch: auth must be (user, password)")
        return (auth[0], auth[1])
    if (username is None) != (password is None):
        raise ConfigError("opensearch: username= and password= go together")
    return (username, password) if username is not None and password is not None else None


class OpenSearchConnector(SearchEngineConnector):
    """Read ECS events from an OpenSearch index and write decisions back to another.

    Every argument is a plain value, so :meth:`Connector.from_settings` builds the connector
    from a TOML table.

    Args:
        hosts: URL or URLs of the cluster, e.g. ``"https://siem.example:9200"``.
        index: Index, alias or pattern to read events from.
        target_index: Index that receives one document per decision (with its incident).
        username: User for HTTP basic authentication (with ``password``).
        password: Password of ``username``.
        auth: ``(user, password)``, the same as ``username`` and ``password``.
        verify_certs: Verify TLS certificates (keep it on; pass ``ca_certs`` for private CAs).
        ca_certs: Path of a CA bundle for TLS verification.
        page_size: Hits per page when reading, documents per bulk request when writing
            (1 to 10,000).
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
        username: str | None = None,
        password: str | None = None,
        auth: Sequence[str] | None = None,
        verify_certs: bool = True,
        ca_certs: str | None = None,
        page_size: int = 1000,
        paging: Literal["pit", "scroll"] = "pit",
        refresh: bool | Literal["wait_for"] = False,
        timeout: float = 30.0,
        max_retries: int = 3,
    ) -> None:
        opensearchpy = _import_opensearch()
        check_paging(self.name, paging, refresh, page_size)
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
            http_auth=_basic_auth(auth, username, password),
            verify_certs=verify_certs,
            ca_certs=ca_certs,
            timeout=timeout,
            max_retries=max_retries,
            retry_on_timeout=True,
        )

    # -- reading ------------------------------------------------------------------------------

    def _open_pit(self) -> str | None:
        try:
            pit = self.client.create_pit(index=self.index, params={"keep_alive": KEEP_ALIVE})
        except self._errors.TransportError as exc:
            if exc.status_code in (400, 404, 405) and exc.error != NO_INDEX:
                return None  # a server without PIT: scroll instead
            raise self._translate(exc, "open a point in time on", self.index) from exc
        return str(pit["pit_id"])

    def _search(self, body: dict[str, Any]) -> Page:
        return self._call("search", self.client.search, body=body)

    def _close_pit(self, pit_id: str) -> None:
        self._quietly(self.client.delete_pit, body={"pit_id": [pit_id]})

    def _scroll_first(self, body: dict[str, Any]) -> Page:
        search = self.client.search
        return self._call("search", search, index=self.index, body=body, scroll=KEEP_ALIVE)

    def _scroll_next(self, scroll_id: str) -> Page:
        return self._call("scroll", self.client.scroll, scroll_id=scroll_id, scroll=KEEP_ALIVE)

    def _clear_scroll(self, scroll_id: str) -> None:
        self._quietly(self.client.clear_scroll, scroll_id=scroll_id)

    # -- writing ------------------------------------------------------------------------------

    def _bulk(self, docs: list[DecisionDocument], tally: BulkTally) -> None:
        refresh = "wait_for" if self.refresh == "wait_for" else str(self.refresh).lower()
        lines = bulk_lines(docs, self.target_index)
        response = self._call("bulk write to", self.client.bulk, body=lines, refresh=refresh)
        tally.add(docs, response["items"])

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
                f"{where!r}: check username=/password= or auth=(user, password)"
            )
        if isinstance(exc, errors.AuthorizationException):
            return ConnectorError(
                f"OpenSearch at {self.url} denied {action} {where!r} (HTTP 403): grant the user "
                "read on the source index and write on the target index"
            )
        if isinstance(exc, errors.NotFoundError) and exc.error == NO_INDEX:
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
