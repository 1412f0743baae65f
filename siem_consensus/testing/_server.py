"""The HTTP/1.1 server under the simulator: one thread per connection, clean shutdown.

Shutdown must not wait on clients: keep-alive connections and hanging answers are cut by
shutting their sockets down, then every handler thread is joined, so no socket outlives
:meth:`SimServer.stop` (pytest turns the ResourceWarning of a leaked socket into an error).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from siem_consensus.testing._sse import write_chunked
from siem_consensus.testing._wire import WireResponse

_log = logging.getLogger("siem_consensus.testing")

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Incoming:
    """One parsed HTTP request, before any interpretation."""

    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes


Done = Callable[[int | None], None]
"""Called as the answer starts going out, with its status (None: connection dropped)."""


App = Callable[[Incoming], tuple[WireResponse, Done]]
"""Records a request and decides its answer; returns it with the :data:`Done` callback."""


class SimServer(ThreadingHTTPServer):
    """A threading HTTP server on 127.0.0.1 that tracks and can cut its connections."""

    daemon_threads = False  # handler threads are joined by server_close()
    block_on_close = True
    request_queue_size = 1024  # the default 5 resets bursts of concurrent clients

    def __init__(self, app: App, port: int = 0) -> None:
        self.app = app
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        super().__init__((HOST, port), _Handler)

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse-DNS lookup of the host name (slow offline)."""
        socketserver.TCPServer.server_bind(self)
        self.server_name = HOST
        self.server_port = int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        """Track the connection so :meth:`stop` can cut it, then serve it in a thread."""
        with self._lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        """Forget and close a finished connection."""
        with self._lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up are normal here; anything else is logged, not printed."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError) or self.stopping.is_set():
            return
        _log.error("provider simulator failed on a request", exc_info=error)

    def pause(self, seconds: float) -> bool:
        """Sleep ``seconds`` unless stopping; False when the server is shutting down."""
        if seconds > 0:
            return not self.stopping.wait(seconds)
        return not self.stopping.is_set()

    def stop(self) -> None:
        """Stop accepting, cut open connections, join handler threads, close the socket."""
        self.stopping.set()
        self.shutdown()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by its handler
                connection.shutdown(socket.SHUT_RDWR)
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked SSE, like the real APIs
    server: SimServer

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        self._serve()

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        _log.debug("%s - %s", self.address_string(), format % args)

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        incoming = Incoming(self.command, path, query, list(self.headers.items()), body)
        response, done = self.server.app(incoming)
        if not self.server.pause(response.delay) or response.drop:
            done(None)
            self.close_connection = True
            return
        # Record before the first byte: once the client has its answer, the record is final.
        done(response.status)
        try:
            self._send(response)
        except OSError:  # the client timed out and hung up while we waited or wrote
            self.close_connection = True

    def _send(self, response: WireResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.events is None:
            self.send_header("content-length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
        else:
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            write_chunked(self.wfile, response.events)
