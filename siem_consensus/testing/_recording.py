"""Turning a raw request into a :class:`RecordedRequest`, without keeping any credential."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from siem_consensus.testing._models import Provider, RecordedRequest
from siem_consensus.testing._server import Incoming

REDACTED = "***"
_SECRET_HEADERS = frozenset(
    {"x-api-key", "authorization", "api-key", "proxy-authorization", "cookie"}
)


def provider_for(incoming: Incoming) -> Provider:
    """Which protocol a request speaks: by path, else by Anthropic's version header."""
    if incoming.path.startswith("/v1/messages"):
        return "anthropic"
    if incoming.path.startswith("/v1/chat/"):
        return "openai"
    names = {name.lower() for name, _ in incoming.headers}
    return "anthropic" if "anthropic-version" in names else "openai"


def parse_body(raw: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """The JSON object in ``raw`` (None if empty), or an error message for a 400."""
    if not raw:
        return None, None
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"request body is not valid JSON: {exc}"
    if not isinstance(value, dict):
        return None, "request body must be a JSON object"
    return value, None


def presented_key(incoming: Incoming) -> str | None:
    """The API key the client sent via ``x-api-key`` or ``Authorization: Bearer``."""
    for name, value in incoming.headers:
        lowered = name.lower()
        if lowered == "x-api-key" and value.strip():
            return value.strip()
        if lowered == "authorization" and value.lower().startswith("bearer "):
            token = value[len("bearer ") :].strip()
            if token:
                return token
    return None


def auth_scheme(incoming: Incoming) -> Literal["x-api-key", "bearer"] | None:
    """How the client authenticated, or None when it sent no usable key."""
    names = {name.lower() for name, value in incoming.headers if value.strip()}
    if presented_key(incoming) is None:
        return None
    return "x-api-key" if "x-api-key" in names else "bearer"


def redacted_headers(incoming: Incoming) -> dict[str, str]:
    """Lower-cased headers with every credential value replaced by ``***``."""
    headers: dict[str, str] = {}
    for name, value in incoming.headers:
        lowered = name.lower()
        shown = REDACTED if lowered in _SECRET_HEADERS else value
        headers[lowered] = f"{headers[lowered]}, {shown}" if lowered in headers else shown
    return headers


def record(
    index: int, incoming: Incoming, provider: Provider, body: dict[str, Any] | None
) -> RecordedRequest:
    """A RecordedRequest for ``incoming``, received now, not yet answered."""
    return RecordedRequest(
        index=index,
        provider=provider,
        method=incoming.method,
        path=incoming.path,
        query=incoming.query,
        headers=redacted_headers(incoming),
        auth=auth_scheme(incoming),
        body=body,
        received_at=datetime.now(UTC),
    )
