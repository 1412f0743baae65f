"""Splunk connector (splunk-sdk): export searches in, HEC events and ES notables out.

Reading runs one ``search/jobs/export`` search (``search/v2/jobs/export`` on Splunk 9.0.2+, as
splunk-sdk picks) with ``output_mode=json`` and ``earliest_time``/``latest_time`` from
``start``/``end``, and parses the JSON lines as they arrive: results are never held in
memory and there is no result cap. Each result's ``_raw`` goes through
:meth:`SplunkParser.parse_result <siem_consensus.parsers.splunk.SplunkParser.parse_result>`
(Suricata EVE, ASA, Snort, Zeek, ...); results that cannot become an Event land in
:attr:`SplunkConnector.dead_letters`.

Writing sends the decision documents every connector writes (the ECS document of
``siem-consensus export --format ecs`` plus the incident, threshold and recommended actions;
one per decision) to the HTTP Event Collector in batches, each with the deterministic document
id in the indexed field ``siem_consensus_id``. HEC cannot upsert: a re-run adds events with
the same id. With ``notable=True`` every alert also becomes a Splunk ES notable event through
``| sendalert notable`` (once per id). See docs/connectors/splunk.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import partial
from http.client import HTTPException
from typing import Any
from urllib.parse import urlsplit

from ...errors import ConfigError
from ...models import DeadLetter, Event
from ...parsers.splunk import SplunkParser
from ...report import Report
from .._documents import decision_documents
from ..base import Connector, WriteResult, without_credentials
from ._hec import HecSender, hec_item
from ._notable import write_notables
from ._rest import SplunkRest, import_splunklib, tls_context
from ._search import (
    check_indexes,
    export_results,
    lost_connection,
    run_search,
    search_spl,
    time_range,
    to_event,
)

__all__ = ["SplunkConnector"]


class SplunkConnector(Connector):
    """Search Splunk for events; send decisions back through the HTTP Event Collector.

    Every argument is a plain value, so ``[connectors.splunk]`` TOML tables map onto it.

    Args:
        host: splunkd host name, or its management URL (``https://splunk.example:8089``).
        port: Management port (8089 by default; ignored when ``host`` is a URL with a port).
        scheme: ``https`` (default) or ``http``.
        username: Splunk user for searches (with ``password``).
        password: That user's password (logs in at ``/services/auth/login``).
        token: Splunk authentication token (sent as ``Authorization: Bearer``), instead of a
            user name and password.
        app: App namespace of searches (``servicesNS/{owner}/{app}``); default ``/services``.
        owner: Owner namespace of searches.
        verify: Verify TLS certificates (REST and HEC). Keep it on; pass ``ca_certs``.
        ca_certs: CA bundle (PEM) to verify Splunk's certificates with.
        hec_url: HEC base URL; default ``{scheme}://{host}:8088``.
        hec_token: HEC token (``Authorization: Splunk {hec_token}``); needed to write.
        index: Index for decision events (default: the HEC token's default index).
        sourcetype: Source type of decision events.
        source: ``source`` of decision events.
        batch_size: Events per HEC request (also capped at 512 KiB per request).
        notable: Also create a Splunk ES notable event for every alert decision.
        sort_by_time: Append ``| sort 0 _time`` so events arrive oldest first (the order
            the detectors assume); Splunk returns newest first otherwise.
        timeout: Seconds to wait for each answer or read; a sorted search sends nothing
            until Splunk has finished it, so keep this generous.
        max_retries: Retries of a refused connection or a 503 (busy) answer.
        retry_backoff: First retry delay in seconds, doubled at each retry.
    """

    name = "splunk"

    def __init__(
        self,
        host: str = "localhost",
        port: int = 8089,
        *,
        scheme: str = "https",
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        app: str | None = None,
        owner: str | None = None,
        verify: bool = True,
        ca_certs: str | None = None,
        hec_url: str | None = None,
        hec_token: str | None = None,
        index: str | None = None,
        sourcetype: str = "siem_consensus:decision",
        source: str = "siem_consensus",
        batch_size: int = 100,
        notable: bool = False,
        sort_by_time: bool = True,
        timeout: float = 300.0,
        max_retries: int = 3,
        retry_backoff: float = 0.5,
    ) -> None:
        client, binding = import_splunklib()
        self.scheme, self.host, self.port = _endpoint(host, port, scheme)
        self.url = f"{self.scheme}://{self.host}:{self.port}"
        _check_auth(username, password, token, notable)
        if batch_size < 1 or max_retries < 0 or timeout <= 0 or retry_backoff < 0:
            raise ConfigError(
                "splunk: batch_size must be >= 1, max_retries >= 0, timeout > 0, retry_backoff >= 0"
            )
        if ca_certs and not verify:
            raise ConfigError("splunk: ca_certs is ignored with verify=false; drop one of them")
        self.hec_url = _hec_base(hec_url or f"{self.scheme}://{self.host}:8088")
        self.index = index
        self.sourcetype = sourcetype
        self.source = source
        self.batch_size = batch_size
        self.notable = notable
        self.sort_by_time = sort_by_time
        self.max_retries = max_retries
        self.timeout = timeout
        self.retry_backoff = retry_backoff
        self.dead_letters: list[DeadLetter] = []
        """Results of :meth:`iter_events` that could not become an Event, with the reason."""
        self.skipped = 0
        """Results that carry no event (e.g. Suricata ``stats`` records)."""
        self.messages: list[tuple[str, str]] = []
        """Search messages Splunk sent with the results: ``(type, text)``."""
        self._hec_token = hec_token
        self._channel = str(uuid.uuid4())
        handler = binding.handler(
            timeout=timeout, verify=verify, context=tls_context(verify, ca_certs)
        )
        self._rest = SplunkRest(
            self, client, binding, handler, auth=(username, password, token), namespace=(app, owner)
        )

    def close(self) -> None:
        """Forget the session (splunk-sdk opens one connection per request)."""
        self._rest.service = None

    # -- reading ------------------------------------------------------------------------------

    def iter_events(
        self,
        query: Mapping[str, Any] | str | None = None,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> Iterator[Event]:
        """Stream the events of one SPL search, oldest first; see :meth:`Connector.iter_events`.

        ``query`` is SPL (``index=ids sourcetype=suricata``); ``search`` is prepended unless
        it starts with ``search`` or ``|``, as Splunk does. None searches ``*``.

        Raises:
            ConnectorError: Bad credentials, unreachable host, refused search (with Splunk's
                message), an index that does not exist, or the stream breaking off.
        """
        spl = search_spl(query, self.sort_by_time)
        action = f"the search {spl!r}"
        stream = self._rest.export(spl, action, output_mode="json", **time_range(start, end))
        results = export_results(stream, action, self.url, self.messages)
        parser = SplunkParser()
        seen = 0
        try:
            for seen, result in enumerate(results, 1):
                outcome = to_event(parser, seen, result)
                if isinstance(outcome, Event):
                    yield outcome
                elif isinstance(outcome, DeadLetter):
                    self.dead_letters.append(outcome)
                else:
                    self.skipped += 1
        except (OSError, HTTPException) as exc:
            raise lost_connection(exc, self.url, seen, action, self.timeout) from exc
        finally:
            stream.close()
        if seen == 0:
            check_indexes(self._rest, spl)

    # -- writing ------------------------------------------------------------------------------

    def write_decisions(self, report: Report) -> WriteResult:
        """Send one HEC event per decision (and a notable per alert with ``notable=True``).

        HEC cannot update or upsert: every call adds events. The deterministic id in
        ``siem_consensus_id`` finds re-sent duplicates (``| dedup siem_consensus_id``).

        Raises:
            ConfigError: No ``hec_token`` (or no REST credentials for ``notable``).
            ConnectorError: HEC refused the token (codes 1-4) or cannot be reached; events
                refused one by one (bad data, unknown index) are failures in the result.
        """
        if not self._hec_token:
            raise ConfigError("splunk: writing decisions needs hec_token= (an HEC token)")
        docs, failures = decision_documents(report)
        items = [
            hec_item(doc, index=self.index, source=self.source, sourcetype=self.sourcetype)
            for doc in docs
        ]
        hec = HecSender(
            url=self.hec_url,
            token=self._hec_token,
            channel=self._channel,
            handler=self._rest.handler,
            max_retries=self.max_retries,
            retry_backoff=self.retry_backoff,
        )
        written, refused = hec.send(items, self.batch_size)
        failures.extend(refused)
        target = f"{self.index or 'default index of the HEC token'} via {self.hec_url}"
        attempted, updated = len(report.decisions), 0
        if self.notable:
            alerts = [doc for doc in docs if doc.source["event"]["kind"] == "alert"]
            search = partial(run_search, self._rest, self.messages)
            created, existing, refused_notables = write_notables(alerts, search)
            attempted += len(alerts)
            written += created
            updated = existing
            failures.extend(refused_notables)
            target += " + notable (Splunk ES)"
        return WriteResult(
            connector=self.name,
            target=target,
            attempted=attempted,
            created=written,
            updated=updated,
            failures=tuple(failures),
        )


# -- settings -----------------------------------------------------------------------------------


def _endpoint(host: str, port: int, scheme: str) -> tuple[str, str, int]:
    if "://" in host:
        parts = urlsplit(host)
        if not parts.hostname:
            raise ConfigError(
                f"splunk: host {without_credentials(host)!r} is not a URL or host name"
            )
        scheme, port = parts.scheme, parts.port or port
        host = parts.hostname
    if scheme not in ("https", "http"):
        raise ConfigError(f"splunk: scheme must be https or http, not {scheme!r}")
    return scheme, host, int(port)


def _hec_base(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(
            f"splunk: hec_url {without_credentials(url)!r} must look like "
            "https://splunk.example:8088"
        )
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}:{port}"


def _check_auth(
    username: str | None, password: str | None, token: str | None, notable: bool
) -> None:
    if bool(username) != bool(password):
        raise ConfigError("splunk: username and password go together; give both or neither")
    if token and username:
        raise ConfigError("splunk: give token= or username=/password=, not both")
    if notable and not (username or token):
        raise ConfigError(
            "splunk: notable=true runs '| sendalert notable' searches: it needs username= and "
            "password= or token="
        )
