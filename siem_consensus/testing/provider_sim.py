"""A local Anthropic + OpenAI API simulator for offline tests of LLM integrations.

The official ``anthropic`` and ``openai`` SDKs (and wrappers built on them, such as
langchain's) talk to it over real HTTP on 127.0.0.1 by pointing ``base_url`` at it::

    with ProviderSimulator() as sim:
        sim.anthropic.script({"is_threat": True}, Fault.rate_limit(retry_after=2))
        client = anthropic.Anthropic(base_url=sim.anthropic_base_url, api_key="test-key")

Served endpoints: ``POST /v1/messages`` (+ ``/count_tokens``), ``POST /v1/chat/completions``
and ``GET /v1/models[/{id}]``. Every request is recorded with its credentials redacted.
"""

from __future__ import annotations

import dataclasses
import hmac
import threading
from datetime import UTC, datetime
from types import TracebackType

from siem_consensus.testing import _recording
from siem_consensus.testing._anthropic_wire import AnthropicWire
from siem_consensus.testing._models import FaultKind, Provider, RecordedRequest, Reply
from siem_consensus.testing._openai_wire import OpenAIWire
from siem_consensus.testing._script import ScriptedProvider
from siem_consensus.testing._server import Done, Incoming, SimServer
from siem_consensus.testing._wire import (
    IdMaker,
    PromptCache,
    Wire,
    WireResponse,
    plan_output,
)

__all__ = ["ProviderSimulator"]

_COMPLETION_PATHS: dict[Provider, str] = {
    "anthropic": "/v1/messages",
    "openai": "/v1/chat/completions",
}
_NO_RETRY = {"x-should-retry": "false"}  # both SDKs honour it: a script bug is not transient


class ProviderSimulator:
    """Anthropic- and OpenAI-compatible HTTP server answering from per-provider scripts.

    Use it as a context manager (or ``start()``/``stop()``). Script answers on
    :attr:`anthropic` / :attr:`openai` (see :class:`ScriptedProvider`), point the SDKs at
    :attr:`anthropic_base_url` / :attr:`openai_base_url`, then inspect :attr:`requests`.

    Args:
        port: TCP port on 127.0.0.1; 0 picks a free one.
        latency: Seconds added before every answer (on top of each reply's own latency).
        api_key: When set, only this key is accepted; by default any non-empty key is.
        cache_min_tokens: Shortest prompt prefix (in the simulator's 4-characters-a-token
            count) that prompt caching keeps: Anthropic caches up to a ``cache_control``
            marker, OpenAI the static start of a request; a repeat within 5 minutes is
            reported as cached input (``cache_read_input_tokens``, ``cached_tokens``).
    """

    def __init__(
        self,
        *,
        port: int = 0,
        latency: float = 0.0,
        api_key: str | None = None,
        cache_min_tokens: int = 1024,
    ) -> None:
        self.anthropic = ScriptedProvider("anthropic")
        """Script for ``/v1/messages``."""
        self.openai = ScriptedProvider("openai")
        """Script for ``/v1/chat/completions``."""
        self.latency = latency
        """Seconds added before every answer; may be changed while running."""
        self._port = port
        self._api_key = api_key
        self._ids = IdMaker()
        self._anthropic_wire = AnthropicWire(self._ids, PromptCache(cache_min_tokens))
        self._wires: dict[Provider, Wire] = {
            "anthropic": self._anthropic_wire,
            "openai": OpenAIWire(self._ids, PromptCache(cache_min_tokens)),
        }
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._server: SimServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> ProviderSimulator:
        """Bind 127.0.0.1 and serve in a background thread; returns self."""
        if self._server is not None:
            raise RuntimeError("ProviderSimulator is already running")
        self._server = SimServer(self._respond, self._port)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"provider-sim:{self._server.server_port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Cut open connections (hanging answers included), join threads, free the port."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.stop()
        if thread is not None:
            thread.join()

    def __enter__(self) -> ProviderSimulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` of the running server."""
        if self._server is None:
            raise RuntimeError(
                "ProviderSimulator is not running: use `with ProviderSimulator() as sim:` "
                "or call sim.start() first"
            )
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def anthropic_base_url(self) -> str:
        """``base_url`` for the anthropic SDK (no ``/v1``: the SDK adds ``/v1/messages``)."""
        return self.url

    @property
    def openai_base_url(self) -> str:
        """``base_url`` for the openai SDK (ends in ``/v1``, as the SDK expects)."""
        return f"{self.url}/v1"

    def environ(self, api_key: str = "test-key") -> dict[str, str]:
        """Environment variables that point both SDKs (and langchain) at this simulator."""
        return {
            "ANTHROPIC_BASE_URL": self.anthropic_base_url,
            "ANTHROPIC_API_KEY": api_key,
            "OPENAI_BASE_URL": self.openai_base_url,
            "OPENAI_API_KEY": api_key,
        }

    # -- scripting and inspection --------------------------------------------------------

    def provider(self, name: Provider) -> ScriptedProvider:
        """The script for ``name`` (handy in tests parametrized over providers)."""
        return self.anthropic if name == "anthropic" else self.openai

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in arrival order (a snapshot copy)."""
        with self._lock:
            return list(self._requests)

    def requests_for(self, provider: Provider) -> list[RecordedRequest]:
        """The recorded requests that spoke ``provider``'s protocol."""
        return [request for request in self.requests if request.provider == provider]

    # -- serving (called from handler threads) -----------------------------------------

    def _respond(self, incoming: Incoming) -> tuple[WireResponse, Done]:
        """Record ``incoming`` and decide its answer (runs in a handler thread)."""
        provider = _recording.provider_for(incoming)
        body, body_error = _recording.parse_body(incoming.body)
        with self._lock:
            request = _recording.record(len(self._requests), incoming, provider, body)
            self._requests.append(request)
        response, reply = self._route(request, self._rejection(incoming, body_error))

        def done(status: int | None) -> None:
            update = {"answered_at": datetime.now(UTC), "status": status, "reply": reply}
            with self._lock:
                self._requests[request.index] = request.model_copy(update=update)

        return response, done

    def _rejection(self, incoming: Incoming, body_error: str | None) -> tuple[int, str] | None:
        """(401, why) for a missing or wrong key, (400, why) for a bad body, else None."""
        key = _recording.presented_key(incoming)
        if key is None:
            return 401, (
                "no API key sent: give the SDK an api_key (sent as `x-api-key` or "
                "`Authorization: Bearer`)"
            )
        if self._api_key is not None and not hmac.compare_digest(
            key.encode(), self._api_key.encode()
        ):
            return 401, "API key rejected: this ProviderSimulator was given another api_key"
        return None if body_error is None else (400, body_error)

    def _route(
        self, request: RecordedRequest, rejection: tuple[int, str] | None
    ) -> tuple[WireResponse, Reply | None]:
        wire = self._wires[request.provider]
        script = self.provider(request.provider)
        if rejection is not None:
            return wire.error(*rejection), None
        route = (request.method, request.path)
        if route == ("POST", _COMPLETION_PATHS[request.provider]):
            return self._complete(wire, script, request)
        if route == ("POST", "/v1/messages/count_tokens"):
            return self._anthropic_wire.count_tokens(request), None
        if request.method == "GET" and request.path.startswith("/v1/models"):
            model_id = request.path.removeprefix("/v1/models").strip("/") or None
            return wire.models(script.models, model_id), None
        return wire.error(404, _unknown_route(request)), None

    def _complete(
        self, wire: Wire, script: ScriptedProvider, request: RecordedRequest
    ) -> tuple[WireResponse, Reply | None]:
        try:
            reply = script.next_reply(request)
        except Exception as exc:  # a user's reply function failed: tell the client why
            message = f"ProviderSimulator reply function raised {exc!r}"
            return wire.error(500, message, _NO_RETRY), None
        if reply is None:
            return wire.error(500, script.no_reply_message(request), _NO_RETRY), None
        response = _answer(wire, request, reply)
        return dataclasses.replace(
            response, delay=response.delay + self.latency + reply.latency
        ), reply


def _answer(wire: Wire, request: RecordedRequest, reply: Reply) -> WireResponse:
    """Render ``reply`` (payload or fault) in ``wire``'s format."""
    fault = reply.fault
    if fault is not None and fault.kind is FaultKind.HANG:
        return WireResponse(status=0, delay=fault.seconds or 0.0, drop=True)
    if fault is not None and fault.kind is FaultKind.RATE_LIMIT:
        headers = {} if fault.retry_after is None else {"retry-after": _seconds(fault.retry_after)}
        return wire.error(429, fault.text, headers)
    if fault is not None and fault.kind is FaultKind.BAD_REQUEST:
        return wire.error(400, fault.text)
    if fault is not None and fault.kind is FaultKind.SERVER_ERROR:
        return wire.error(fault.status or 500, fault.text)
    if fault is not None and fault.kind is FaultKind.MALFORMED_JSON:
        return wire.malformed(request)
    body = request.body or {}
    return wire.completion(
        request, plan_output(reply, wire.forced_tool(body), wire.max_tokens(body))
    )


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _unknown_route(request: RecordedRequest) -> str:
    return (
        f"ProviderSimulator does not serve {request.method} {request.path}; it serves "
        "POST /v1/messages, POST /v1/messages/count_tokens, POST /v1/chat/completions "
        "and GET /v1/models[/{id}]"
    )
