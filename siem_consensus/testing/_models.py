"""What a test scripts (:class:`Reply`, :class:`Fault`) and what the simulator records.

These are plain values: the wire modules decide how each one looks on each provider's protocol.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "Fault",
    "FaultKind",
    "Provider",
    "RecordedRequest",
    "Reply",
    "ReplyFunction",
    "ScriptItem",
]

Provider: TypeAlias = Literal["anthropic", "openai"]
"""Which wire protocol a request spoke."""

_FROZEN = ConfigDict(frozen=True, extra="forbid")


def _check_json(value: dict[str, Any] | str | None) -> dict[str, Any] | str | None:
    """Reject payloads the simulator could not send (caught when scripting, not mid-request)."""
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"payload must be JSON-serialisable ({exc}); convert it first") from exc
    return value


class FaultKind(StrEnum):
    """The failure modes the simulator can inject."""

    RATE_LIMIT = "rate_limit"
    SERVER_ERROR = "server_error"
    BAD_REQUEST = "bad_request"
    HANG = "hang"
    MALFORMED_JSON = "malformed_json"
    REFUSAL = "refusal"
    MISSING_TOOL_CALL = "missing_tool_call"
    INVALID_PAYLOAD = "invalid_payload"


class Fault(BaseModel):
    """A scripted failure; build one with the class methods, e.g. ``Fault.rate_limit(1.5)``."""

    model_config = _FROZEN

    kind: FaultKind = Field(description="Which failure to inject.")
    status: int | None = Field(None, description="HTTP status for server errors.")
    retry_after: float | None = Field(None, description="Seconds sent in `retry-after` (429).")
    seconds: float | None = Field(None, description="How long a hang holds the connection.")
    text: str | None = Field(None, description="Refusal / plain-text wording, or error message.")
    payload: dict[str, Any] | str | None = Field(
        None, description="What an invalid-payload fault delivers instead of the schema's shape."
    )

    _json_payload = field_validator("payload")(_check_json)

    @classmethod
    def rate_limit(cls, retry_after: float | None = 1.0, message: str | None = None) -> Fault:
        """HTTP 429 with a ``retry-after`` header (omitted when ``retry_after`` is None)."""
        if retry_after is not None and retry_after < 0:
            raise ValueError(f"retry_after must be >= 0 seconds, got {retry_after}")
        return cls(kind=FaultKind.RATE_LIMIT, retry_after=retry_after, text=message)

    @classmethod
    def server_error(cls, status: int = 500, message: str | None = None) -> Fault:
        """A 5xx answer; 529 is Anthropic's ``overloaded_error``."""
        if not 500 <= status <= 599:
            raise ValueError(f"server_error status must be 5xx (500, 502, 503, 529), got {status}")
        return cls(kind=FaultKind.SERVER_ERROR, status=status, text=message)

    @classmethod
    def bad_request(cls, message: str | None = None) -> Fault:
        """HTTP 400 (``invalid_request_error``): the request itself was refused, e.g. a
        parameter this model does not take. Never retried by the SDKs."""
        return cls(kind=FaultKind.BAD_REQUEST, status=400, text=message)

    @classmethod
    def hang(cls, seconds: float = 30.0) -> Fault:
        """Hold the connection ``seconds`` (to trip client timeouts), then close it unanswered."""
        if seconds < 0:
            raise ValueError(f"hang seconds must be >= 0, got {seconds}")
        return cls(kind=FaultKind.HANG, seconds=seconds)

    @classmethod
    def malformed_json(cls) -> Fault:
        """HTTP 200 whose JSON body (or first SSE event) is cut short."""
        return cls(kind=FaultKind.MALFORMED_JSON)

    @classmethod
    def refusal(cls, text: str | None = None) -> Fault:
        """The model declines: Anthropic ``stop_reason="refusal"``, OpenAI ``message.refusal``."""
        return cls(kind=FaultKind.REFUSAL, text=text)

    @classmethod
    def missing_tool_call(cls, text: str | None = None) -> Fault:
        """HTTP 200 with only text, even when the request forced a tool call or JSON output."""
        return cls(kind=FaultKind.MISSING_TOOL_CALL, text=text)

    @classmethod
    def invalid_payload(cls, payload: dict[str, Any] | str | None = None) -> Fault:
        """Deliver ``payload`` as the tool input / JSON output although it breaks the schema.

        Args:
            payload: What the model "produced"; defaults to an object with none of the
                requested fields.
        """
        return cls(kind=FaultKind.INVALID_PAYLOAD, payload=payload)


class Reply(BaseModel):
    """One scripted answer: either a ``payload`` or a ``fault``, plus optional latency.

    A ``dict`` payload becomes the forced tool call's input (Anthropic ``tool_use``, OpenAI
    ``tool_calls``) when the request forces a tool, else the JSON text of the answer (OpenAI
    ``response_format``, Anthropic JSON outputs). A ``str`` payload is always plain text.
    """

    model_config = _FROZEN

    payload: dict[str, Any] | str | None = Field(None, description="What the model answers.")
    fault: Fault | None = Field(None, description="A failure to inject instead of a payload.")
    latency: float = Field(0.0, ge=0.0, description="Seconds added before this answer.")
    tool_name: str | None = Field(
        None, description="Answer with a call to this tool even if the request did not force it."
    )
    reasoning_tokens: int = Field(
        0,
        ge=0,
        description="Tokens a reasoning model spends thinking before it answers: they come out "
        "of the request's output cap first (all of it: the answer is truncated with no "
        "content) and are reported as OpenAI `completion_tokens_details.reasoning_tokens` or "
        "Anthropic `output_tokens_details.thinking_tokens`, inside the output count.",
    )

    @field_validator("payload")
    @classmethod
    def _json_serialisable(cls, value: dict[str, Any] | str | None) -> dict[str, Any] | str | None:
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"payload must be JSON-serialisable ({exc}); convert it first"
            ) from exc
        return value

    @model_validator(mode="after")
    def _payload_xor_fault(self) -> Reply:
        if (self.payload is None) == (self.fault is None):
            raise ValueError("a Reply needs exactly one of payload= or fault=")
        return self

    @classmethod
    def coerce(cls, item: ScriptItem) -> Reply:
        """Turn the shorthand accepted by ``script()`` (dict, str, Fault) into a Reply."""
        if isinstance(item, Reply):
            return item
        if isinstance(item, Fault):
            return cls(fault=item)
        return cls(payload=item)


ScriptItem: TypeAlias = Reply | Fault | dict[str, Any] | str
"""Anything ``script()`` accepts: a Reply, or a Fault / payload standing for one."""


class RecordedRequest(BaseModel):
    """One HTTP request the simulator received, with secrets redacted.

    ``headers`` has lower-case names; ``x-api-key``/``authorization`` values are ``"***"``.
    """

    model_config = _FROZEN

    index: int = Field(description="0-based arrival order across all providers.")
    provider: Provider = Field(description="Protocol the request spoke.")
    method: str = Field(description="HTTP method.")
    path: str = Field(description="URL path without the query string.")
    query: str = Field("", description="Raw query string, if any.")
    headers: dict[str, str] = Field(description="Lower-cased names; credentials redacted.")
    auth: Literal["x-api-key", "bearer"] | None = Field(
        None, description="How the client authenticated (None: no usable key was sent)."
    )
    body: dict[str, Any] | None = Field(None, description="Parsed JSON body (None if absent).")
    received_at: datetime = Field(description="When the request arrived (UTC).")
    answered_at: datetime | None = Field(
        None, description="When the answer started going out or the connection was dropped (UTC)."
    )
    status: int | None = Field(None, description="HTTP status sent; None if dropped or pending.")
    reply: Reply | None = Field(None, description="The scripted reply used, if any.")

    @property
    def model(self) -> str | None:
        """The ``model`` the client asked for."""
        value = (self.body or {}).get("model")
        return value if isinstance(value, str) else None

    @property
    def stream(self) -> bool:
        """True when the client asked for a streamed (SSE) answer."""
        return bool((self.body or {}).get("stream"))

    @property
    def duration(self) -> float | None:
        """Seconds between arrival and answer (None while pending)."""
        if self.answered_at is None:
            return None
        return (self.answered_at - self.received_at).total_seconds()


ReplyFunction: TypeAlias = Callable[[RecordedRequest], ScriptItem]
"""Computes a reply from the request when the script queue is empty."""
