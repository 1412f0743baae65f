"""Anthropic Messages API wire format (``POST /v1/messages``, JSON and SSE)."""

from __future__ import annotations

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

DEFAULT_MODEL = "claude-sim"

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}
_MESSAGES = {
    401: "invalid x-api-key: send the key as `x-api-key` or `Authorization: Bearer`",
    404: "Not found",
    429: "Number of requests has exceeded your rate limit (simulated)",
    500: "Internal server error (simulated)",
    529: "Overloaded (simulated)",
}
_STOP_REASONS = {"text": "end_turn", "tool": "tool_use", "refusal": "refusal"}


def input_tokens(request: RecordedRequest) -> int:
    """Estimated prompt size: the whole request body at about four characters a token."""
    return estimate_tokens(dumps(request.body or {}))


class AnthropicWire:
    """Renders simulator answers as the Anthropic Messages API does."""

    provider: Provider = "anthropic"

    def __init__(self, ids: IdMaker, cache: PromptCache | None = None) -> None:
        self._ids = ids
        self._cache = cache or PromptCache()

    def forced_tool(self, body: dict[str, Any]) -> str | None:
        """``{"type": "tool", "name": X}`` forces X; ``{"type": "any"}`` the first tool."""
        choice = body.get("tool_choice")
        tools = body.get("tools") or []
        if not isinstance(choice, dict) or not tools:
            return None
        if choice.get("type") == "tool":
            name = choice.get("name")
            return name if isinstance(name, str) else None
        if choice.get("type") == "any":
            name = tools[0].get("name") if isinstance(tools[0], dict) else None
            return name if isinstance(name, str) else None
        return None

    def max_tokens(self, body: dict[str, Any]) -> int | None:
        """``max_tokens`` (required by the real API; the simulator tolerates its absence)."""
        return cap_of(body, "max_tokens")

    def completion(self, request: RecordedRequest, output: Output) -> WireResponse:
        """A ``message`` object, or its SSE event sequence when ``stream`` is true."""
        if request.stream:
            return sse_response(self._events(request, output), self._headers())
        message = self._message(request, output)
        message["content"] = [*_thinking(output), self._block(output, streaming=False)]
        message["stop_reason"] = _stop_reason(output)
        message.update(self._stop_details(output))
        message["usage"].update(_output_usage(output))
        return json_response(200, message, self._headers())

    def malformed(self, request: RecordedRequest) -> WireResponse:
        """Half a ``message`` object, or a ``message_start`` event with half its JSON."""
        message = self._message(request, Output("text"))
        if not request.stream:
            return malformed_json_response(message)
        data = dumps({"type": "message_start", "message": message})
        return sse_response([_sse.raw_frame(data[: len(data) // 2], "message_start")])

    def error(
        self, status: int, message: str | None = None, headers: dict[str, str] | None = None
    ) -> WireResponse:
        """``{"type": "error", "error": {"type", "message"}, "request_id"}``."""
        kind = _ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
        text = message or _MESSAGES.get(status, "api error (simulated)" if status >= 500 else kind)
        request_id = self._ids.new("req_")
        body = {"type": "error", "error": {"type": kind, "message": text}, "request_id": request_id}
        return json_response(status, body, {"request-id": request_id, **(headers or {})})

    def models(self, names: list[str], model_id: str | None) -> WireResponse:
        """The Models API list (``data``/``has_more``/``first_id``/``last_id``) or one model."""
        entries = [_model_info(name) for name in names]
        if model_id is not None:
            found = [entry for entry in entries if entry["id"] == model_id]
            if not found:
                return self.error(404, f"model: {model_id}")
            return json_response(200, found[0], self._headers())
        first = names[0] if names else None
        last = names[-1] if names else None
        body = {"data": entries, "has_more": False, "first_id": first, "last_id": last}
        return json_response(200, body, self._headers())

    def count_tokens(self, request: RecordedRequest) -> WireResponse:
        """``POST /v1/messages/count_tokens``: ``{"input_tokens": n}``."""
        return json_response(200, {"input_tokens": input_tokens(request)}, self._headers())

    def _headers(self) -> dict[str, str]:
        return {"request-id": self._ids.new("req_")}

    def _message(self, request: RecordedRequest, output: Output) -> dict[str, Any]:
        return {
            "id": self._ids.new("msg_"),
            "type": "message",
            "role": "assistant",
            "model": request.model or DEFAULT_MODEL,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"output_tokens": 1, **self._input_usage(request), "service_tier": "standard"},
        }

    def _input_usage(self, request: RecordedRequest) -> dict[str, int]:
        """Input tokens, split as the API does: a prefix marked with ``cache_control`` (tools,
        system, output format) is read from or written to the cache and not in
        ``input_tokens``."""
        total = input_tokens(request)
        cached, hit = self._cache.lookup(_cached_prefix(request.body or {}))
        return {
            "input_tokens": total - cached,
            "cache_creation_input_tokens": 0 if hit else cached,
            "cache_read_input_tokens": cached if hit else 0,
        }

    def _block(self, output: Output, *, streaming: bool) -> dict[str, Any]:
        if output.kind == "tool":
            # A tool call cut by max_tokens has no parseable input.
            tool_input = {} if streaming or output.truncated else output.tool_input
            return {
                "type": "tool_use",
                "id": self._ids.new("toolu_"),
                "name": output.tool_name,
                "input": tool_input,
            }
        return {"type": "text", "text": "" if streaming else output.shown_text}

    @staticmethod
    def _stop_details(output: Output) -> dict[str, Any]:
        if output.kind != "refusal":
            return {}
        details = {"type": "refusal", "category": None, "explanation": output.text}
        return {"stop_details": details}

    def _events(self, request: RecordedRequest, output: Output) -> list[bytes]:
        block = self._block(output, streaming=True)
        stop = {
            "stop_reason": _stop_reason(output),
            "stop_sequence": None,
            **self._stop_details(output),
        }
        events: list[dict[str, Any]] = [
            {"type": "message_start", "message": self._message(request, output)},
            {"type": "content_block_start", "index": 0, "content_block": block},
            {"type": "ping"},
            *({"type": "content_block_delta", "index": 0, "delta": d} for d in _deltas(output)),
            {"type": "content_block_stop", "index": 0},
            {"type": "message_delta", "delta": stop, "usage": _output_usage(output)},
            {"type": "message_stop"},
        ]
        # Anthropic names every SSE event after the `type` of its data.
        return [_sse.frame(event, event["type"]) for event in events]


def _output_usage(output: Output) -> dict[str, Any]:
    """``output_tokens`` (thinking included) and, when the model thought, its breakdown."""
    usage: dict[str, Any] = {"output_tokens": output.output_tokens}
    if output.reasoning_tokens:
        usage["output_tokens_details"] = {"thinking_tokens": output.reasoning_tokens}
    return usage


def _thinking(output: Output) -> list[dict[str, Any]]:
    """A (summarised, here empty) thinking block before the answer when the model thought."""
    if not output.reasoning_tokens:
        return []
    return [{"type": "thinking", "thinking": "", "signature": "sim-signature"}]


def _deltas(output: Output) -> list[dict[str, Any]]:
    if output.kind == "tool":
        # The API opens a tool_use block with an empty partial_json before the pieces.
        pieces = ["", *split_text(output.shown_text)]
        return [{"type": "input_json_delta", "partial_json": piece} for piece in pieces]
    return [{"type": "text_delta", "text": piece} for piece in split_text(output.shown_text)]


def _cached_prefix(body: dict[str, Any]) -> str:
    """The request's cacheable prefix, or "" when nothing carries a ``cache_control`` marker."""
    system, tools = body.get("system"), body.get("tools") or []
    blocks = [*tools, *(system if isinstance(system, list) else [])]
    if not any(isinstance(b, dict) and "cache_control" in b for b in blocks):
        return ""
    output_format = (body.get("output_config") or {}).get("format")
    return dumps([tools, system, output_format])


def _stop_reason(output: Output) -> str:
    return "max_tokens" if output.truncated else _STOP_REASONS[output.kind]


def _model_info(name: str) -> dict[str, Any]:
    return {
        "type": "model",
        "id": name,
        "display_name": name,
        "created_at": "2025-01-01T00:00:00Z",
    }
