"""A local Splunk for tests: splunkd's REST API and the HTTP Event Collector, replayed.

Splunk cannot run in a test suite, so :class:`SplunkReplayServer` answers the requests that
splunk-sdk and :class:`~siem_consensus.connectors.splunk.SplunkConnector` make with recorded
exchanges (``splunk_recordings/*.json``, reconstructed from Splunk's documented wire formats
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

import contextlib
import functools
import json
import re
import secrets
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs

__all__ = [
    "ExportQuery",
    "Recording",
    "SearchMessage",
    "SplunkReplayServer",
    "SplunkRequest",
    "splunk_result",
]

HOST = "127.0.0.1"
RECORDINGS = Path(__file__).with_name("splunk_recordings")
REDACTED = "<redacted>"

Endpoint = Literal["login", "server_info", "export", "indexes", "hec"]
_EXPORT = re.compile(r"^/services(?:NS/[^/]+/[^/]+)?/search/(?:v2/)?jobs/export$")
_INDEX = re.compile(r"^/services(?:NS/[^/]+/[^/]+)?/data/indexes/([^/]+)$")
_HEC = ("/services/collector", "/services/collector/event", "/services/collector/event/1.0")
_QUOTED = r'"((?:[^"\\]|\\.)*)"'
_ASSIGN = re.compile(r"([\w.]+)\s*=\s*" + _QUOTED)
_CHUNK_ROWS = 500


@dataclass(frozen=True)
class Recording:
    """One recorded response: status, headers and body, with ``{{name}}`` placeholders."""

    name: str
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: str

    @classmethod
    def load(cls, name: str) -> Recording:
        """Read ``splunk_recordings/{name}.json`` (and its ``body_file``)."""
        data = json.loads((RECORDINGS / f"{name}.json").read_text(encoding="utf-8"))
        response = data["response"]
        body = response.get("body")
        if body is None:
            body = (RECORDINGS / response["body_file"]).read_text(encoding="utf-8")
        headers = tuple((str(k), str(v)) for k, v in response["headers"])
        return cls(name, int(response["status"]), str(response["reason"]), headers, body)

    def render(self, **values: object) -> tuple[list[tuple[str, str]], bytes]:
        """Headers and body with the placeholders filled in."""
        return (
            [(k, _fill(v, values)) for k, v in self.headers],
            _fill(self.body, values).encode("utf-8"),
        )


def _fill(text: str, values: Mapping[str, object]) -> str:
    return re.sub(r"\{\{(\w+)\}\}", lambda m: str(values[m.group(1)]), text)


@dataclass(frozen=True)
class SplunkRequest:
    """A request the server received, secrets redacted.

    Attributes:
        server: ``rest`` (splunkd management port) or ``hec`` (HTTP Event Collector).
        method: HTTP method.
        path: URL path without the query string.
        query: Query string parameters.
        form: Form fields of a url-encoded body (``password`` redacted).
        headers: Headers by lower-case name (``authorization`` and ``cookie`` redacted).
        body: The body as text (HEC batches verbatim; form bodies redacted).
        status: Status of the answer.
    """

    server: Literal["rest", "hec"]
    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    headers: dict[str, str]
    body: str
    status: int

    @property
    def hec_events(self) -> list[dict[str, Any]]:
        """The JSON event objects of a HEC batch body, in order."""
        events, _ = _split_json(self.body)
        return [event for event in events if isinstance(event, dict)]


@dataclass(frozen=True)
class SearchMessage:
    """A search message line of the export stream (``{"messages": [...]}``)."""

    type: str
    text: str


@dataclass(frozen=True)
class ExportQuery:
    """The parameters of one export search, as received."""

    search: str
    earliest_time: str | None
    latest_time: str | None
    params: dict[str, str]


ExportItem = Mapping[str, Any] | SearchMessage | str
"""A ``result`` object, a search message, or a line sent verbatim (to test broken lines)."""

ExportResults = Callable[[ExportQuery], Iterable[ExportItem]]
"""Makes the results of an export search, in stream order."""


def splunk_result(
    raw: str,
    *,
    time: str,
    sourcetype: str,
    host: str = "splunk-fwd01",
    source: str = "udp:514",
    index: str = "main",
    serial: int = 0,
    indextime: int = 1768746300,
) -> dict[str, Any]:
    """One export ``result`` object from the recorded template (``_raw``, ``_time``, ...).

    Args:
        raw: The event text (``_raw``).
        time: ``_time`` as splunkd renders it, e.g. ``2026-01-18T14:25:00.000+00:00``.
        sourcetype: Source type (``suricata``, ``cisco:asa``, ...).
        host: ``host`` field.
        source: ``source`` field.
        index: Index the event lives in.
        serial: Position in the result set (``_serial``, also used for ``_cd``).
        indextime: ``_indextime`` (epoch seconds).
    """
    values = {
        "raw": raw, "time": time, "sourcetype": sourcetype, "host": host, "source": source,
        "index": index, "serial": serial, "indextime": indextime,
    }  # fmt: skip
    return {
        key: [_fill(v, values) for v in value] if isinstance(value, list) else _fill(value, values)
        for key, value in _template().items()
    }


@functools.cache
def _template() -> dict[str, Any]:
    data = json.loads((RECORDINGS / "export_result_template.json").read_text(encoding="utf-8"))
    template: dict[str, Any] = data["result"]
    return template


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
        self._secrets = _Secrets(password, token, hec_token, secrets.token_hex(16))
        self.requests: list[SplunkRequest] = []
        self.hec_events: list[dict[str, Any]] = []
        self.notables: list[dict[str, str]] = []
        self.export_paused = threading.Event()
        self._resume = threading.Event()
        self._results: ExportResults | None = None
        self._pause_after: int | None = None
        self._faults: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self._rest = _Server(self, "rest", tls)
        self._hec = _Server(self, "hec", tls)
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
                found.append(_export_query(request.form))
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

    def _record(self, request: _Incoming, status: int) -> None:
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


@dataclass(frozen=True)
class _Secrets:
    password: str
    token: str | None
    hec_token: str | None
    session_key: str

    def redact_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        out = {}
        for name, value in headers.items():
            if name in ("authorization", "cookie"):
                value = re.sub(r"(Splunk|Bearer|Basic)\s+\S+", rf"\1 {REDACTED}", value)
                value = re.sub(r"(splunkd_\d+)=[^;\s]+", rf"\1={REDACTED}", value)
            out[name] = value
        return out


@dataclass
class _Incoming:
    server: Literal["rest", "hec"]
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass
class _Answer:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    stream: Iterator[bytes] | None = None


def _answer(name: str, values: Mapping[str, object]) -> _Answer:
    recording = Recording.load(name)
    headers, body = recording.render(**values)
    return _Answer(recording.status, recording.reason, headers, body)


# -- REST ------------------------------------------------------------------------------------------


def _rest(splunk: SplunkReplayServer, request: _Incoming) -> _Answer:
    values = splunk._values()
    if request.path == "/services/auth/login" and request.method == "POST":
        return _login(splunk, request, values)
    if not splunk._authenticated(request.headers):
        return _answer("unauthenticated_401", values)
    if request.path == "/services/server/info" and request.method == "GET":
        return _answer(splunk._fault("server_info") or "server_info_200", values)
    if (match := _INDEX.match(request.path)) and request.method == "GET":
        name = match.group(1)
        fault = splunk._fault("indexes")
        found = "data_indexes_200" if name in splunk.indexes else "data_indexes_404"
        return _answer(fault or found, {**values, "index": name})
    if _EXPORT.match(request.path) and request.method == "POST":
        form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
        fault = splunk._fault("export")
        return _answer(fault, values) if fault else _export(splunk, _export_query(form), values)
    return _answer("not_found_404", values)


def _login(splunk: SplunkReplayServer, request: _Incoming, values: Mapping[str, object]) -> _Answer:
    fault = splunk._fault("login")
    if fault:
        return _answer(fault, values)
    form = parse_qs(request.body.decode("utf-8", "replace"))
    user = form.get("username", [""])[0]
    password = form.get("password", [""])[0]
    ok = user == splunk.username and password == splunk._secrets.password
    return _answer("auth_login_200" if ok else "auth_login_401", values)


def _export_query(form: Mapping[str, list[str]]) -> ExportQuery:
    params = {key: value[0] for key, value in form.items() if value}
    return ExportQuery(
        search=params.get("search", ""),
        earliest_time=params.get("earliest_time"),
        latest_time=params.get("latest_time"),
        params=params,
    )


def _export(
    splunk: SplunkReplayServer, query: ExportQuery, values: Mapping[str, object]
) -> _Answer:
    if query.search.replace('\\"', "").count('"') % 2:
        return _answer("export_400_unbalanced_quotes", values)
    if "sendalert notable" in query.search:
        if not splunk.enterprise_security:
            return _answer("export_400_sendalert_unknown", values)
        fields = {k: v.replace('\\"', '"') for k, v in _ASSIGN.findall(query.search)}
        with splunk._lock:
            splunk.notables.append(fields)
        row = {"_time": "2026-01-18T16:30:00.000+00:00", **fields}
        return _streamed(values, iter([row]), None, splunk)
    if query.search.startswith("search index=notable"):
        ids = set(re.findall(r"siem_consensus_id=" + _QUOTED, query.search))
        with splunk._lock:
            known = sorted({n.get("siem_consensus_id", "") for n in splunk.notables} & ids)
        rows = ({"siem_consensus_id": key, "count": "1"} for key in known)
        return _streamed(values, rows, None, splunk)
    if splunk._results is None:
        return _answer("export_200", values)
    return _streamed(values, iter(splunk._results(query)), splunk._pause_after, splunk)


def _streamed(
    values: Mapping[str, object],
    items: Iterator[ExportItem],
    pause_after: int | None,
    splunk: SplunkReplayServer,
) -> _Answer:
    """The recorded export headers, and the body as a stream of export lines."""
    answer = _answer("export_200", values)
    answer.body = b""
    answer.stream = _export_lines(items, pause_after, splunk)
    return answer


def _export_lines(
    items: Iterator[ExportItem],
    pause_after: int | None,
    splunk: SplunkReplayServer,
) -> Iterator[bytes]:
    """Export lines in item order, ``_CHUNK_ROWS`` a chunk; ``lastrow`` marks the last result.

    A result waits (with the messages after it) until the next result shows it is not last.
    """
    buffer: list[str] = []
    held: list[ExportItem] = []
    offset = 0
    for item in items:
        is_result = not isinstance(item, SearchMessage | str)
        if not is_result or not any(not isinstance(h, SearchMessage | str) for h in held):
            held.append(item)
            continue
        buffer.extend(_line(held, offset, last=False))
        offset += 1
        held = [item]
        pause = pause_after is not None and offset >= pause_after
        if len(buffer) >= _CHUNK_ROWS or pause:
            yield "\n".join(buffer).encode() + b"\n"
            buffer = []
        if pause:
            splunk.export_paused.set()
            splunk._resume.wait(10)
            pause_after = None
    buffer.extend(_line(held, offset, last=True))
    if buffer:
        yield "\n".join(buffer).encode() + b"\n"


def _line(held: list[ExportItem], offset: int, *, last: bool) -> Iterator[str]:
    """The held items as export lines: messages as they are, the result as a row."""
    for item in held:
        if isinstance(item, str):
            yield item
        elif isinstance(item, SearchMessage):
            message = {"type": item.type, "text": item.text}
            yield json.dumps({"preview": False, "messages": [message]})
        else:
            yield _row(offset, item, last=last)


def _row(offset: int, result: Mapping[str, Any], *, last: bool) -> str:
    row: dict[str, Any] = {"preview": False, "offset": offset}
    if last:
        row["lastrow"] = True
    row["result"] = result
    return json.dumps(row, separators=(",", ":"))


# -- HEC -------------------------------------------------------------------------------------------


def _hec(splunk: SplunkReplayServer, request: _Incoming) -> _Answer:
    values = splunk._values(invalid_event_number=0)
    if request.path not in _HEC or request.method != "POST":
        return _answer("not_found_404", values)
    auth = request.headers.get("authorization", "")
    if not auth:
        return _answer("hec_401_token_required", values)
    scheme, _, token = auth.partition(" ")
    if scheme != "Splunk" or not token:
        return _answer("hec_401_invalid_authorization", values)
    if token != splunk._secrets.hec_token:
        return _answer("hec_403_invalid_token", values)
    if splunk.hec_token_disabled:
        return _answer("hec_403_token_disabled", values)
    fault = splunk._fault("hec")
    if fault:
        return _answer(fault, values)
    events, bad = _split_json(request.body.decode("utf-8", "replace"))
    if not events and bad is None:
        return _answer("hec_400_no_data", values)
    for number, event in enumerate(events):
        problem = _hec_problem(event, splunk.indexes)
        if problem:
            return _answer(problem, {**values, "invalid_event_number": number})
    if bad is not None:
        return _answer("hec_400_invalid_data_format", {**values, "invalid_event_number": bad})
    with splunk._lock:  # HEC refuses a batch as a whole: nothing above was kept
        splunk.hec_events.extend(e for e in events if isinstance(e, dict))
    return _answer("hec_200_success", values)


def _hec_problem(event: object, indexes: set[str]) -> str | None:
    if not isinstance(event, dict):
        return "hec_400_invalid_data_format"
    if "event" not in event:
        return "hec_400_event_field_required"
    if event["event"] in ("", None):
        return "hec_400_event_field_blank"
    index = event.get("index")
    if index is not None and index not in indexes:
        return "hec_400_incorrect_index"
    return None


def _split_json(text: str) -> tuple[list[object], int | None]:
    """Concatenated JSON values (HEC batches); the position of the first undecodable one."""
    decoder = json.JSONDecoder()
    values: list[object] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            return values, None
        try:
            value, position = decoder.raw_decode(text, position)
        except ValueError:
            return values, len(values)
        values.append(value)


# -- HTTP plumbing ---------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = False
    block_on_close = True

    def __init__(
        self, splunk: SplunkReplayServer, role: Literal["rest", "hec"], tls: tuple[str, str] | None
    ) -> None:
        self.splunk = splunk
        self.role: Literal["rest", "hec"] = role
        self._connections: set[socket.socket] = set()
        self._guard = threading.Lock()
        super().__init__((HOST, 0), _Handler)
        if tls is not None:  # handshake in the handler thread, where a refusal is harmless
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.socket = context.wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )

    def server_bind(self) -> None:
        """Bind without the reverse-DNS lookup of HTTPServer (slow offline)."""
        socketserver.TCPServer.server_bind(self)
        self.server_name = HOST
        self.server_port = int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._guard:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._guard:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-stream are normal here."""

    def stop(self, *, serving: bool) -> None:
        if serving:  # shutdown() waits for serve_forever() to return: only if it ran
            self.shutdown()
        with self._guard:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        self._serve()

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        """Quiet: tests read :attr:`SplunkReplayServer.requests` instead."""

    def version_string(self) -> str:
        """The ``Server`` header splunkd sends."""
        return "Splunkd"

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = _Incoming(self.server.role, self.command, path, query, headers, body)
        splunk = self.server.splunk
        answer = _rest(splunk, request) if request.server == "rest" else _hec(splunk, request)
        splunk._record(request, answer.status)
        self.close_connection = True  # splunkd closes: splunk-sdk asks for Connection: Close
        with contextlib.suppress(OSError):  # the client hung up
            self._send(answer)

    def _send(self, answer: _Answer) -> None:
        self.send_response(answer.status, answer.reason)
        for name, value in answer.headers:
            if name.lower() != "server":  # send_response already sent it
                self.send_header(name, value)
        if answer.stream is None:
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for data in answer.stream:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
