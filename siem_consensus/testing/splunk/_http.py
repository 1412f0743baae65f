"""The replay server's HTTP/1.0 servers (splunk-sdk needs HTTP/1.0 framing)."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Literal

from ._routes import hec, rest
from ._wire import HOST, Answer, Incoming

if TYPE_CHECKING:
    from . import SplunkReplayServer

__all__ = ["Server"]


class Server(ThreadingHTTPServer):
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
    server: Server

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
        request = Incoming(self.server.role, self.command, path, query, headers, body)
        splunk = self.server.splunk
        answer = rest(splunk, request) if request.server == "rest" else hec(splunk, request)
        splunk._record(request, answer.status)
        self.close_connection = True  # splunkd closes: splunk-sdk asks for Connection: Close
        with contextlib.suppress(OSError):  # the client hung up
            self._send(answer)

    def _send(self, answer: Answer) -> None:
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
