"""Map ``anthropic`` and ``openai`` SDK exceptions (the same shapes) to :class:`ProviderError`.

Neutral ground for both vendors' analysts, so neither imports the other.
"""

from __future__ import annotations

import json
from typing import Any

from ...errors import ProviderError
from ...privacy import redact_credentials

__all__ = ["classify_sdk_error"]


def classify_sdk_error(sdk: Any, provider: str, error: BaseException) -> ProviderError:
    """Map an ``anthropic``/``openai`` SDK exception (same shapes) to a ProviderError.

    Credentials inside URLs (``user:password@``) never reach the message or the excerpt.
    """
    if isinstance(error, ProviderError):
        return error
    classified = _classify(sdk, provider, error)
    excerpt = classified.body_excerpt
    return ProviderError(
        redact_credentials(str(classified)),
        provider=provider,
        status=classified.status,
        body_excerpt=redact_credentials(excerpt) if excerpt else excerpt,
        retry_after=classified.retry_after,
    )


def _classify(sdk: Any, provider: str, error: BaseException) -> ProviderError:
    if isinstance(error, sdk.APIStatusError):
        retry_after = _retry_after(error.response.headers.get("retry-after"))
        body = error.body if isinstance(error.body, str) else json.dumps(error.body, default=str)
        return ProviderError(
            f"{provider} returned HTTP {error.status_code}: {str(body)[:200]}",
            provider=provider,
            status=error.status_code,
            body_excerpt=str(body),
            retry_after=retry_after,
        )
    if isinstance(error, sdk.APITimeoutError):
        return ProviderError(f"{provider} request timed out", provider=provider)
    if isinstance(error, sdk.APIConnectionError):
        return ProviderError(f"{provider} connection failed: {error}", provider=provider)
    if isinstance(error, json.JSONDecodeError | ValueError):
        return ProviderError(f"{provider} sent a malformed response: {error}", provider=provider)
    return ProviderError(
        f"{provider} call failed: {type(error).__name__}: {str(error)[:200]}",
        provider=provider,
        status=0,
    )


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
