"""OpenAI (and any OpenAI-compatible endpoint) as an analyst, over the official ``openai`` SDK.

Structured output uses a JSON-schema ``response_format`` (``chat.completions.parse`` with the
:class:`VerdictClaims` model). Local servers (Ollama, vLLM, llama.cpp) work through
``base_url``; use ``json_mode=True`` for servers that do not support ``json_schema``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ...errors import MissingDependencyError, ProviderError
from ...privacy import redact_credentials
from ._answers import extract_json_object
from ._sdk_errors import classify_sdk_error
from .base import Completion, LLMAnalyst, LLMSettings
from .config import DEFAULT_MODELS, is_loopback_url, resolve_setting

if TYPE_CHECKING:
    import openai

__all__ = ["OpenAIAnalyst", "extract_json_object", "strict_schema"]


# Models that reason and take ``reasoning_effort`` (sending it to others is a 400).
_REASONING = ("gpt-5", "o1", "o3", "o4")


def supports_reasoning_effort(model: str) -> bool:
    """Whether ``model`` accepts ``reasoning_effort``."""
    return model.lower().startswith(_REASONING)


class OpenAIAnalyst(LLMAnalyst):
    """An OpenAI chat model judging incidents with JSON-schema structured output.

    Pseudonymization is on whatever the base URL (a loopback URL is often a gateway to the
    cloud) unless ``local=True`` (what ``local:<base_url>`` analysts use) or
    ``LLMSettings(pseudonymize=False)``.

    Args:
        model: Model id; default ``SIEM_CONSENSUS_OPENAI_MODEL`` or ``gpt-5.5``.
        api_key: Default ``OPENAI_API_KEY`` (Colab secret too); local endpoints may omit it.
        base_url: Default ``OPENAI_BASE_URL``; must end in ``/v1``.
        name: Analyst name in verdicts (default ``openai``; ``local`` for local endpoints).
        settings: Shared LLM settings.
        client: A ready ``openai.AsyncOpenAI``; used with its SDK retries turned off.
        json_mode: Ask for ``json_object`` instead of ``json_schema`` (older local servers).
        local: The model runs on this machine: pseudonymization defaults off.

    Raises:
        MissingDependencyError: the ``openai`` package is not installed.
        ConfigError: no API key was found for a remote endpoint, or a money budget is set and
            the model is unpriced.
    """

    provider = "openai"

    def __init__(
        self,
        model: str | None = None,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        name: str = "openai",
        settings: LLMSettings | None = None,
        client: openai.AsyncOpenAI | None = None,
        json_mode: bool = False,
        local: bool = False,
    ) -> None:
        try:
            import openai
        except ImportError:  # pragma: no cover - a core dependency today
            raise MissingDependencyError("openai", "openai") from None
        self._sdk = openai
        self.json_mode = json_mode
        model = model or resolve_setting("SIEM_CONSENSUS_OPENAI_MODEL") or DEFAULT_MODELS["openai"]
        base_url = base_url or resolve_setting("OPENAI_BASE_URL")
        super().__init__(name=name, model=model, settings=settings, local=local)
        self.base_url = base_url
        self._given_client = None if client is None else client.with_options(max_retries=0)
        if client is None:
            keyless = local or (base_url is not None and is_loopback_url(base_url))
            self._key = (
                api_key or resolve_setting("OPENAI_API_KEY", required=not keyless) or "local"
            )

    def __repr__(self) -> str:
        return f"OpenAIAnalyst(model={self.model!r}, name={self.name!r})"

    @property
    def endpoint(self) -> str:
        """The base URL, credentials redacted (OpenAI's API when none was given)."""
        return redact_credentials(self.base_url or "https://api.openai.com/v1")

    def _make_client(self) -> openai.AsyncOpenAI:
        return self._sdk.AsyncOpenAI(
            api_key=self._key, base_url=self.base_url, max_retries=0, timeout=self.sdk_timeout
        )

    @property
    def limits_key(self) -> str:
        """Remote OpenAI shares one limit; each other endpoint gets its own (credentials
        redacted: the key shows up in logs and errors)."""
        return f"openai:{self.endpoint}" if self.base_url else "openai"

    def build_request(
        self, system: str, user: str, answer: type[BaseModel], max_tokens: int
    ) -> dict[str, Any]:
        """Chat Completions body: strict ``json_schema`` (or ``json_object`` in JSON mode)."""
        schema = answer.model_json_schema()
        if self.json_mode:
            system += f"\nReply with one JSON object matching this schema: {json.dumps(schema)}"
            response_format: dict[str, Any] = {"type": "json_object"}
        else:
            response_format = {
                "type": "json_schema",
                "json_schema": {
                    "name": "record_verdict",
                    "strict": True,
                    "schema": strict_schema(schema),
                },
            }
        request: dict[str, Any] = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ],
            "max_completion_tokens": max_tokens,
            "response_format": response_format,
        }
        effort = self.settings.reasoning_effort
        if effort is not None and not self.local and supports_reasoning_effort(self.model):
            request["reasoning_effort"] = effort
        return request

    async def send(self, request: dict[str, Any]) -> Completion:
        """One ``chat.completions.create`` call."""
        completion = await self.client().chat.completions.create(**request)
        return _completion(completion)

    def classify(self, error: BaseException) -> ProviderError:
        """SDK exception -> ProviderError (credentials in URLs redacted)."""
        return classify_sdk_error(self._sdk, "openai", error)


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic JSON schema in OpenAI's strict subset: every object closed and every field
    required, recursively (``$defs`` and array items included)."""
    if isinstance(schema.get("properties"), dict):
        schema["additionalProperties"] = False
        schema["required"] = list(schema["properties"])
    for value in schema.values():
        children = value.values() if isinstance(value, dict) else value
        if isinstance(value, dict | list):
            for child in children:
                if isinstance(child, dict):
                    strict_schema(child)
    return schema


def _completion(completion: Any) -> Completion:
    usage = completion.usage
    # prompt_tokens includes cached and cache-written tokens; completion_tokens includes
    # reasoning tokens (billed as output, bounded by max_completion_tokens).
    prompt = getattr(usage, "prompt_tokens_details", None)
    output = getattr(usage, "completion_tokens_details", None)
    billed = Completion(
        input_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        output_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        cached_input_tokens=int(getattr(prompt, "cached_tokens", 0) or 0),
        cache_write_input_tokens=int(getattr(prompt, "cache_write_tokens", 0) or 0),
        reasoning_tokens=int(getattr(output, "reasoning_tokens", 0) or 0),
    )
    if not completion.choices:
        return replace(billed, text="")
    choice = completion.choices[0]
    message = choice.message
    if getattr(message, "refusal", None):
        return replace(billed, refusal=str(message.refusal))
    text = message.content or ""
    truncated = choice.finish_reason == "length"
    payload = None if truncated else extract_json_object(text)
    return replace(billed, payload=payload, text=text, truncated=truncated)
