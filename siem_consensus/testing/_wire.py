"""Provider-neutral pieces of an answer: what to send, and what the "model" produced."""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from siem_consensus.testing._models import FaultKind, Provider, RecordedRequest, Reply

DEFAULT_REFUSAL = "I'm sorry, but I can't help with that request."
DEFAULT_PLAIN_TEXT = (
    "I looked at the incident but will answer in prose instead of calling the tool."
)
DEFAULT_INVALID_PAYLOAD: dict[str, Any] = {"unexpected_field": "not what the schema asked for"}


@dataclass(frozen=True)
class WireResponse:
    """Bytes to put on the wire, and how.

    ``events`` (SSE frames) are sent with chunked transfer encoding; ``drop`` closes the
    connection without any answer after ``delay`` seconds.
    """

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    events: tuple[bytes, ...] | None = None
    delay: float = 0.0
    drop: bool = False


@dataclass(frozen=True)
class Output:
    """What the simulated model produced, before a provider renders it."""

    kind: Literal["text", "tool", "refusal"]
    text: str = ""
    tool_name: str = ""
    tool_input: dict[str, Any] = field(default_factory=dict)
    cap: int | None = None
    """The request's ``max_tokens``: reasoning plus content beyond this is cut (``truncated``)."""
    reasoning: int = 0
    """Tokens the model reasons before answering; they come out of the cap first."""

    @property
    def full_tokens(self) -> int:
        """Rough token count of the whole content (4 characters a token)."""
        content = self.text if self.kind != "tool" else dumps(self.tool_input)
        return estimate_tokens(content)

    @property
    def reasoning_tokens(self) -> int:
        """Reasoning tokens spent: all of them, or the whole cap when they exhausted it."""
        return self.reasoning if self.cap is None else min(self.reasoning, self.cap)

    @property
    def _room(self) -> int | None:
        """Tokens left for the content once reasoning took its share of the cap."""
        return None if self.cap is None else self.cap - self.reasoning_tokens

    @property
    def truncated(self) -> bool:
        """Reasoning plus content did not fit the request's ``max_tokens``."""
        room = self._room
        return room is not None and self.full_tokens > room

    @property
    def output_tokens(self) -> int:
        """Tokens produced, reasoning included: at most the cap when the answer was cut."""
        room = self._room
        shown = min(self.full_tokens, room) if room is not None else self.full_tokens
        return self.reasoning_tokens + shown

    @property
    def shown_text(self) -> str:
        """Text (or tool arguments as JSON) as delivered: cut at the cap when truncated."""
        content = self.text if self.kind != "tool" else dumps(self.tool_input)
        return content[: (self._room or 0) * 4] if self.truncated else content


def plan_output(reply: Reply, forced_tool: str | None, cap: int | None = None) -> Output:
    """Decide the model output for ``reply`` given the tool the request forced, if any, and
    its ``max_tokens`` (``cap``: reasoning is spent first, content that does not fit the rest
    is cut and marked truncated)."""
    output = replace(_plan(reply, forced_tool), reasoning=reply.reasoning_tokens)
    return output if cap is None or output.kind == "refusal" else replace(output, cap=cap)


def _plan(reply: Reply, forced_tool: str | None) -> Output:
    fault = reply.fault
    if fault is not None and fault.kind is FaultKind.REFUSAL:
        return Output("refusal", text=fault.text or DEFAULT_REFUSAL)
    if fault is not None and fault.kind is FaultKind.MISSING_TOOL_CALL:
        return Output("text", text=fault.text or DEFAULT_PLAIN_TEXT)
    payload = reply.payload
    if fault is not None and fault.kind is FaultKind.INVALID_PAYLOAD:
        payload = DEFAULT_INVALID_PAYLOAD if fault.payload is None else fault.payload
    if payload is None:
        raise ValueError(f"{fault!r} produces no model output")
    if isinstance(payload, str):
        return Output("text", text=payload)
    tool = reply.tool_name or forced_tool
    if tool is not None:
        return Output("tool", tool_name=tool, tool_input=payload)
    return Output("text", text=dumps(payload))


def dumps(value: object) -> str:
    """Compact JSON, the way the APIs send it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def estimate_tokens(text: str | bytes) -> int:
    """About four characters a token (tiktoken cannot load its encodings offline)."""
    return max(1, len(text) // 4)


def split_text(text: str, size: int = 24) -> list[str]:
    """Cut ``text`` into stream deltas of at most ``size`` characters."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def json_response(status: int, body: object, headers: dict[str, str] | None = None) -> WireResponse:
    """A JSON answer with the given status."""
    all_headers = {"content-type": "application/json", **(headers or {})}
    return WireResponse(status, all_headers, dumps(body).encode())


def malformed_json_response(body: object) -> WireResponse:
    """HTTP 200 claiming JSON whose text stops halfway."""
    text = dumps(body)
    return WireResponse(200, {"content-type": "application/json"}, text[: len(text) // 2].encode())


def sse_response(frames: list[bytes], headers: dict[str, str] | None = None) -> WireResponse:
    """A ``text/event-stream`` answer made of ready-encoded SSE frames."""
    all_headers = {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        **(headers or {}),
    }
    return WireResponse(200, all_headers, events=tuple(frames))


class IdMaker:
    """Deterministic, prefix-shaped ids (``msg_sim_000001``) so recorded answers are stable."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def new(self, prefix: str) -> str:
        """Next id with the given prefix, e.g. ``toolu_`` or ``chatcmpl-``."""
        return f"{prefix}sim_{next(self._counter):06d}"


class Wire(Protocol):
    """How one provider renders answers; implemented per vendor module."""

    provider: Provider

    def forced_tool(self, body: dict[str, Any]) -> str | None:
        """Name of the tool the request forces the model to call, if any."""
        ...

    def max_tokens(self, body: dict[str, Any]) -> int | None:
        """The output cap the request set, if any."""
        ...

    def completion(self, request: RecordedRequest, output: Output) -> WireResponse:
        """A successful answer (JSON or SSE, as the request asked)."""
        ...

    def malformed(self, request: RecordedRequest) -> WireResponse:
        """A 200 answer whose JSON (or first SSE event) is broken."""
        ...

    def error(
        self, status: int, message: str | None = None, headers: dict[str, str] | None = None
    ) -> WireResponse:
        """A provider-shaped error body; ``message`` defaults to the provider's wording."""
        ...

    def models(self, names: list[str], model_id: str | None) -> WireResponse:
        """``GET /v1/models`` (all of ``names``) or ``GET /v1/models/{model_id}``."""
        ...


def cap_of(body: dict[str, Any], *names: str) -> int | None:
    """The first positive integer among ``body[name]``, for the output-cap fields."""
    for name in names:
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


class PromptCache:
    """Provider prompt caching, simulated: a prefix of at least ``min_tokens`` tokens (1,024
    by default, the providers' usual minimum) seen within :data:`TTL` seconds is read from the
    cache; a new one is written to it.

    Both providers cache only exact prefixes; the wire modules decide what the prefix is
    (Anthropic: everything up to a ``cache_control`` marker; OpenAI: automatically, the static
    start of the request).
    """

    TTL = 300.0

    def __init__(self, min_tokens: int = 1024) -> None:
        self.min_tokens = min_tokens
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def lookup(self, prefix: str) -> tuple[int, bool]:
        """(prefix tokens, whether they were read from the cache); (0, False) when the prefix
        is too short to be cached."""
        tokens = estimate_tokens(prefix)
        if not prefix or tokens < self.min_tokens:
            return 0, False
        key = hashlib.sha256(prefix.encode()).hexdigest()
        now = time.monotonic()
        with self._lock:
            hit = self._seen.get(key, -1.0) > now
            self._seen[key] = now + self.TTL
        return tokens, hit
