"""OpenAI Chat Completions wire format (``POST /v1/chat/completions``, JSON and SSE)."""

from __future__ import annotations

import time
from typing import Any

from siem_consensus.testing import _sse
from siem_consensus.testing._models import Provider, RecordedRequest
from siem_consensus.testing._wire import (
    IdMaker,
    Output,
    PromptCache,
    WireResponse,
    cap_of,
    dumps,
    estimate_tokens,
    json_response,
    malformed_json_response,
    split_text,
    sse_response,
)

DEFAULT_MODEL = "gpt-sim"
_FINGERPRINT = "fp_sim"

_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request (simulated)"),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided (simulated)"),
    404: ("invalid_request_error", "unknown_url", "Unknown request URL (simulated)"),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests (simulated)"),
}
_SERVER_ERROR = ("server_error", None, "The server had an error while processing your request.")


def _usage(request: RecordedRequest, output: Output, cached: int) -> dict[str, Any]:
    prompt = estimate_tokens(dumps(request.body or {}))
    completion = output.output_tokens
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": output.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


class OpenAIWire:
    """Renders simulator answers as the OpenAI Chat Completions API does."""

    provider: Provider = "openai"

    def __init__(self, ids: IdMaker, cache: PromptCache | None = None) -> None:
        self._ids = ids
        self._cache = cache or PromptCache()

    def _cached(self, request: RecordedRequest) -> int:
        """Prompt tokens read from the cache: OpenAI caches automatically, here the static
        start of a request (tools, response format, system message) seen before."""
        body = request.body or {}
        messages = body.get("messages") or []
        system = [m for m in messages[:1] if isinstance(m, dict) and m.get("role") == "system"]
        prefix = dumps([body.get("tools"), body.get("response_format"), system])
        tokens, hit = self._cache.lookup(prefix)
        return tokens if hit else 0

    def forced_tool(self, body: dict[str, Any]) -> str | None:
        """A named ``tool_choice`` function, or the first tool under ``"required"``."""
        choice = body.get("tool_choice")
        tools = body.get("tools") or []
        if isinstance(choice, dict):
            name = (choice.get("function") or {}).get("name")
            return name if isinstance(name, str) else None
        if choice == "required" and tools and isinstance(tools[0], dict):
            name = (tools[0].get("function") or {}).get("name")
            return name if isinstance(name, str) else None
        return None

    def max_tokens(self, body: dict[str, Any]) -> int | None:
        """``max_completion_tokens`` (or the older ``max_tokens``), if set."""
        return cap_of(body, "max_completion_tokens", "max_tokens")

    def completion(self, request: RecordedRequest, output: Output) -> WireResponse:
        """A ``chat.completion`` object, or ``chat.completion.chunk`` SSE ending in ``[DONE]``."""
        if request.stream:
            return sse_response(self._chunks(request, output), self._headers())
        message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
        if output.kind == "text":
            message["content"] = output.shown_text
        elif output.kind == "refusal":
            message["refusal"] = output.text
        else:
            message["tool_calls"] = [self._tool_call(output, output.tool_input)]
        message["annotations"] = []
        choice = {
            "index": 0,
            "message": message,
            "logprobs": None,
            "finish_reason": _finish_reason(request, output),
        }
        body = self._envelope(request, "chat.completion", [choice])
        body["usage"] = _usage(request, output, self._cached(request))
        return json_response(200, body, self._headers())

    def malformed(self, request: RecordedRequest) -> WireResponse:
        """Half a ``chat.completion`` object, or a first chunk with half its JSON."""
        body = self._envelope(request, "chat.completion", [])
        if not request.stream:
            return malformed_json_response(body)
        data = dumps(self._envelope(request, "chat.completion.chunk", []))
        return sse_response([_sse.raw_frame(data[: len(data) // 2])])

    def error(
        self, status: int, message: str | None = None, headers: dict[str, str] | None = None
    ) -> WireResponse:
        """``{"error": {"message", "type", "param", "code"}}``."""
        kind, code, default = _ERRORS.get(status, _SERVER_ERROR if status >= 500 else _ERRORS[400])
        body = {"error": {"message": message or default, "type": kind, "param": None, "code": code}}
        return json_response(status, body, {**self._headers(), **(headers or {})})

    def models(self, names: list[str], model_id: str | None) -> WireResponse:
        """``{"object": "list", "data": [model, ...]}`` or one model object."""
        entries = [
            {"id": name, "object": "model", "created": 1_700_000_000, "owned_by": "siem-consensus"}
            for name in names
        ]
        if model_id is None:
            return json_response(200, {"object": "list", "data": entries}, self._headers())
        found = [entry for entry in entries if entry["id"] == model_id]
        if not found:
            return self.error(404, f"The model '{model_id}' does not exist")
        return json_response(200, found[0], self._headers())

    def _headers(self) -> dict[str, str]:
        return {"x-request-id": self._ids.new("req_"), "openai-processing-ms": "1"}

    def _envelope(self, request: RecordedRequest, kind: str, choices: list[Any]) -> dict[str, Any]:
        return {
            "id": self._ids.new("chatcmpl-"),
            "object": kind,
            "created": int(time.time()),
            "model": request.model or DEFAULT_MODEL,
            "choices": choices,
            "service_tier": "default",
            "system_fingerprint": _FINGERPRINT,
        }

    def _tool_call(self, output: Output, arguments: object) -> dict[str, Any]:
        text = arguments if isinstance(arguments, str) else output.shown_text
        function = {"name": output.tool_name, "arguments": text}
        return {"id": self._ids.new("call_"), "type": "function", "function": function}

    def _chunks(self, request: RecordedRequest, output: Output) -> list[bytes]:
        base = self._envelope(request, "chat.completion.chunk", [])
        include_usage = bool((request.body or {}).get("stream_options", {}).get("include_usage"))
        if include_usage:
            base["usage"] = None

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            return _sse.frame({**base, "choices": [choice]})

        frames = [chunk(delta) for delta in self._deltas(output)]
        frames.append(chunk({}, _finish_reason(request, output)))
        if include_usage:
            usage = _usage(request, output, self._cached(request))
            frames.append(_sse.frame({**base, "choices": [], "usage": usage}))
        frames.append(_sse.DONE_FRAME)
        return frames

    def _deltas(self, output: Output) -> list[dict[str, Any]]:
        if output.kind == "tool":
            call = self._tool_call(output, "")
            first = {"role": "assistant", "content": None, "tool_calls": [{"index": 0, **call}]}
            pieces = split_text(output.shown_text)
            rest = [{"tool_calls": [{"index": 0, "function": {"arguments": p}}]} for p in pieces]
            return [first, *rest]
        field = "refusal" if output.kind == "refusal" else "content"
        other = "content" if field == "refusal" else "refusal"
        first = {"role": "assistant", field: "", other: None}
        text = output.shown_text if field == "content" else output.text
        return [first, *({field: piece} for piece in split_text(text))]


def _finish_reason(request: RecordedRequest, output: Output) -> str:
    if output.truncated:
        return "length"
    # OpenAI answers a *named* tool_choice with finish_reason "stop", not "tool_calls".
    if output.kind != "tool":
        return "stop"
    return "stop" if isinstance((request.body or {}).get("tool_choice"), dict) else "tool_calls"
