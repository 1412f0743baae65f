"""A local Splunk for tests: splunkd's REST API and the HTTP Event Collector, replayed.

Splunk cannot run in a test suite, so :class:`SplunkReplayServer` answers the requests that
splunk-sdk and :class:`~siem_consensus.connectors.splunk.SplunkConnector` make with recorded
exchanges (``recordings/*.json``, reconstructed from Splunk's documented wire formats
and splunk-sdk's parsing code; see the README there) on two ephemeral ports of 127.0.0.1::

    with SplunkReplayServer(password="changeme", hec_token="hec-token") as splunk:
        splunk.serve_results(lambda query: [splunk_result(line, time=..., sourcetype="cisco:asa")
                                            for line in lines])
        SplunkConnector(splunk.url, username="admin", password="changeme", verify=False,
                        hec_url=splunk.hec_url, hec_token="hec-token")

It behaves like splunkd where that is cheap to do: it checks the password at login, the
session key, cookie or bearer token on every call, the HEC token and the indexes HEC events
name, refuses searches with unbalanced quotes, and remembers the notable events that
``| sendalert notable`` searches create. Faults are queued with :meth:`fail_next`. Every
request is kept in :attr:`SplunkReplayServer.requests` with passwords, session keys and tokens
redacted, so tests can assert what went over the wire.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs

from ._http import Server
from ._routes import export_query
from ._wire import (
    _EXPORT,
    HOST,
    REDACTED,
    Endpoint,
    ExportItem,
    ExportQuery,
    ExportResults,
    Incoming,
    Recording,
    SearchMessage,
    Secrets,
    SplunkRequest,
    splunk_result,
)

__all__ = [
    "ExportItem",
    "ExportQuery",
    "ExportResults",
    "Recording",
    "SearchMessage",
    "SplunkReplayServer",
    "SplunkRequest",
    "splunk_result",
]


class SplunkReplayServer:
    """splunkd (REST) and HEC on two ephemeral ports of 127.0.0.1, answering from recordings.

    Args:
        username: User name accepted at ``/services/auth/login``.
        password: Password accepted at login (anything else gets the recorded 401).
        token: Bearer token accepted instead of a session (``Authorization: Bearer ...``).
        hec_token: HEC token accepted at ``/services/collector/event``.
        hec_token_disabled: Answer HEC with code 1 (token disabled) instead.
        version: Splunk version reported by ``/services/server/info`` (splunk-sdk uses the
            ``search/v2/jobs`` endpoints from 9.0.2 on).
        indexes: Indexes that exist (``data/indexes/{name}``; allowed for HEC events).
        enterprise_security: Whether ``| sendalert notable`` works (Splunk ES installed).
        tls: ``(certfile, keyfile)`` to serve HTTPS on both ports (PEM files).
    """

    def __init__(
        self,
        *,
        username: str = "admin",
        password: str = "changeme",
        token: str | None = None,
        hec_token: str | None = None,
        hec_token_disabled: bool = False,
        version: str = "9.3.2",
        indexes: Iterable[str] = ("main", "ids", "fw", "security", "notable"),
        enterprise_security: bool = True,
        tls: tuple[str, str] | None = None,
    ) -> None:
        self.username = username
        self.version = version
        self.indexes = set(indexes)
        self.enterprise_security = enterprise_security
        self.hec_token_disabled = hec_token_disabled
        self._secrets = Secrets(password, token, hec_token, secrets.token_hex(16))
        self.requests: list[SplunkRequest] = []
        self.hec_events: list[dict[str, Any]] = []
        self.notables: list[dict[str, str]] = []
        self.export_paused = threading.Event()
        self._resume = threading.Event()
        self._results: ExportResults | None = None
        self._pause_after: int | None = None
        self._faults: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self._rest = Server(self, "rest", tls)
        self._hec = Server(self, "hec", tls)
        self._scheme = "https" if tls else "http"
        self._threads: list[threading.Thread] = []

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> SplunkReplayServer:
        """Start serving both ports in background threads."""
        for server in (self._rest, self._hec):
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
            thread.start()
            self._threads.append(thread)
        return self

    def close(self) -> None:
        """Stop both servers, cut open connections and join every thread."""
        self._resume.set()
        for server in (self._rest, self._hec):
            server.stop(serving=bool(self._threads))
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    def __enter__(self) -> SplunkReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        """Management URL (``http://127.0.0.1:{port}``), what ``host=`` takes."""
        return f"{self._scheme}://{HOST}:{self._rest.server_port}"

    @property
    def hec_url(self) -> str:
        """HEC base URL (``http://127.0.0.1:{port}``), what ``hec_url=`` takes."""
        return f"{self._scheme}://{HOST}:{self._hec.server_port}"

    # -- scripting ---------------------------------------------------------------------------------

    def serve_results(self, results: ExportResults, *, pause_after: int | None = None) -> None:
        """Answer export searches with generated results (streamed, never held in full).

        Args:
            results: Called with each :class:`ExportQuery`; yields ``result`` objects (see
                :func:`splunk_result`), :class:`SearchMessage` lines and verbatim lines
                (``str``), in stream order.
            pause_after: Stop sending after this many results until :meth:`resume_export`
                (sets :attr:`export_paused`), to prove that the client streams.
        """
        self._results = results
        self._pause_after = pause_after
        self._resume.clear()
        self.export_paused.clear()

    def resume_export(self) -> None:
        """Let a paused export stream continue."""
        self._resume.set()

    def fail_next(self, endpoint: Endpoint, recording: str, times: int = 1) -> None:
        """Answer the next ``times`` requests to ``endpoint`` with a recording instead.

        Args:
            endpoint: ``login``, ``server_info``, ``export``, ``indexes`` or ``hec``.
            recording: Recording name, e.g. ``hec_503_server_busy`` or ``export_503_busy``.
            times: How many requests in a row get it.
        """
        Recording.load(recording)  # fail early on a typo
        with self._lock:
            self._faults.setdefault(endpoint, []).extend([recording] * times)

    def searches(self) -> list[ExportQuery]:
        """The export searches received, in order."""
        found = []
        for request in self.requests:
            if request.server == "rest" and _EXPORT.match(request.path):
                found.append(export_query(request.form))
        return found

    # -- dispatch (called by the handler threads) --------------------------------------------------

    def _fault(self, endpoint: Endpoint) -> str | None:
        with self._lock:
            queue = self._faults.get(endpoint)
            return queue.pop(0) if queue else None

    def _values(self, **extra: object) -> dict[str, object]:
        return {
            "port": self._rest.server_port,
            "session_key": self._secrets.session_key,
            "version": self.version,
            "build": "5f2a3b4c9d1e",
            "server_name": "splunk-sh01",
            **extra,
        }

    def _record(self, request: Incoming, status: int) -> None:
        text = request.body.decode("utf-8", "replace")
        form = {}
        if request.server == "rest" and request.method == "POST":
            form = {k: v for k, v in parse_qs(text, keep_blank_values=True).items()}
            if "password" in form:
                form["password"] = [REDACTED]
            text = REDACTED if "password" in form else text
        record = SplunkRequest(
            server=request.server,
            method=request.method,
            path=request.path,
            query=parse_qs(request.query, keep_blank_values=True),
            form=form,
            headers=self._secrets.redact_headers(request.headers),
            body=text,
            status=status,
        )
        with self._lock:
            self.requests.append(record)

    def _authenticated(self, headers: Mapping[str, str]) -> bool:
        key = self._secrets.session_key
        auth = headers.get("authorization", "")
        token = self._secrets.token
        if auth in (f"Splunk {key}", key) or (token and auth == f"Bearer {token}"):
            return True
        cookie = headers.get("cookie", "")
        return f"splunkd_{self._rest.server_port}={key}" in cookie
