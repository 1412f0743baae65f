"""Claude as an analyst, over the official ``anthropic`` SDK (async client).

Structured output uses Anthropic's JSON outputs (``output_config.format`` with a JSON schema
transformed by the SDK's own ``transform_schema``) on models that support them - Sonnet 4.5,
Haiku 4.5, Opus 4.1 and later, every Claude 5.x; newer models favour it, and Sonnet 5.5
rejects forced tool use - and a forced ``record_verdict`` tool call on older models.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from ...errors import MissingDependencyError, ProviderError
from ...privacy import redact_credentials
from ._answers import extract_json_object
from ._sdk_errors import classify_sdk_error
from .base import Completion, LLMAnalyst, LLMSettings
from .config import DEFAULT_MODELS, resolve_setting

if TYPE_CHECKING:
    import anthropic

__all__ = ["ClaudeAnalyst", "supports_effort", "supports_json_outputs"]

OutputMode = Literal["auto", "json_schema", "tool"]

_log = logging.getLogger(__name__)

_TOOL_NAME = "record_verdict"
# Models that accept ``output_config.effort`` (Claude 5.x, Opus 4.5 and later Opus 4.x).
_EFFORT_MODELS = ("claude-sonnet-5", "claude-opus-5", "claude-haiku-5", "claude-opus-4-")
_NO_EFFORT = ("claude-opus-4-0", "claude-opus-4-1", "claude-opus-4-2")


def _tool(answer: type[BaseModel]) -> dict[str, Any]:
    return {
        "name": _TOOL_NAME,
        "description": "Record your verdict on the case(s).",
        "input_schema": answer.model_json_schema(),
    }


# JSON outputs (output_config.format): Sonnet/Haiku 4.5, Opus 4.1+, Sonnet/Opus 4.6+, 5.x.
_JSON_OUTPUT_MODELS = (
    "claude-sonnet-4-5",
    "claude-sonnet-4-6",
    "claude-haiku-4-5",
    "claude-opus-4-",
    "claude-sonnet-5",
    "claude-opus-5",
    "claude-haiku-5",
    "claude-fable-5",
)


def supports_json_outputs(model: str) -> bool:
    """Whether ``model`` accepts ``output_config.format`` (JSON-schema outputs)."""
    model = model.lower()
    if model.startswith("claude-opus-4-0") or model == "claude-opus-4":
        return False
    return model.startswith(_JSON_OUTPUT_MODELS)


def supports_effort(model: str) -> bool:
    """Whether ``model`` accepts ``output_config.effort`` (sending it elsewhere is a 400)."""
    model = model.lower()
    if model.startswith(_NO_EFFORT) or model == "claude-opus-4":
        return False
    return model.startswith(_EFFORT_MODELS)


class ClaudeAnalyst(LLMAnalyst):
    """Claude judging incidents through the Messages API: JSON outputs or a forced tool.

    Pseudonymization is on whatever the base URL (a loopback URL is often a gateway to the
    cloud); turn it off only with ``LLMSettings(pseudonymize=False)``.

    Args:
        model: Model id; default ``SIEM_CONSENSUS_CLAUDE_MODEL`` or ``claude-sonnet-5``.
        api_key: Default ``ANTHROPIC_API_KEY`` (or the Colab secret of that name).
        base_url: Default ``ANTHROPIC_BASE_URL``, else Anthropic's API.
        name: Analyst name in verdicts (default ``claude``).
        settings: Shared LLM settings (timeouts, retries, budget, cache, ...).
        client: A ready ``anthropic.AsyncAnthropic``; it is used with its SDK retries turned
            off (``with_options(max_retries=0)``): the analyst retries itself.
        output_mode: ``"json_schema"`` (JSON outputs), ``"tool"`` (forced tool use), or
            ``"auto"``: JSON outputs where the model supports them, else the tool; when the
            model answers the chosen one with HTTP 400, the other is tried and kept (once per
            analyst, logged as a warning).

    Raises:
        MissingDependencyError: the ``anthropic`` package is not installed.
        ConfigError: no API key was found, or a money budget is set and the model is unpriced.
    """

    provider = "anthropic"

    def __init__(
        self,
        model: str | None = None,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        name: str = "claude",
        settings: LLMSettings | None = None,
        client: anthropic.AsyncAnthropic | None = None,
        output_mode: OutputMode = "auto",
    ) -> None:
        try:
            import anthropic
        except ImportError:  # pragma: no cover - a core dependency today
            raise MissingDependencyError("anthropic", "anthropic") from None
        self._sdk = anthropic
        model = model or resolve_setting("SIEM_CONSENSUS_CLAUDE_MODEL") or DEFAULT_MODELS["claude"]
        base_url = base_url or resolve_setting("ANTHROPIC_BASE_URL")
        super().__init__(name=name, model=model, settings=settings, local=False)
        self.base_url = base_url
        self._auto = output_mode == "auto"
        self._switched = False
        if output_mode == "auto":
            output_mode = "json_schema" if supports_json_outputs(model) else "tool"
        self.output_mode: OutputMode = output_mode
        self._given_client = None if client is None else client.with_options(max_retries=0)
        if client is None:
            self._key = api_key or resolve_setting("ANTHROPIC_API_KEY", required=True)

    def __repr__(self) -> str:
        return f"ClaudeAnalyst(model={self.model!r}, name={self.name!r})"

    @property
    def endpoint(self) -> str:
        """The base URL, credentials redacted (Anthropic's API when none was given)."""
        return redact_credentials(self.base_url or "https://api.anthropic.com")

    def _make_client(self) -> anthropic.AsyncAnthropic:
        return self._sdk.AsyncAnthropic(
            api_key=self._key, base_url=self.base_url, max_retries=0, timeout=self.sdk_timeout
        )

    def build_request(
        self, system: str, user: str, answer: type[BaseModel], max_tokens: int
    ) -> dict[str, Any]:
        """Messages API body: static system block marked for prompt caching, then JSON outputs
        or a forced tool (see :attr:`output_mode`), and the effort where supported."""
        request: dict[str, Any] = {
            "model": self.model,
            "max_tokens": max_tokens,
            "system": [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}],
            "messages": [{"role": "user", "content": user}],
        }
        output: dict[str, Any] = {}
        if self.output_mode == "json_schema":
            schema = self._sdk.transform_schema(answer.model_json_schema())
            output["format"] = {"type": "json_schema", "schema": schema}
        else:
            request["tools"] = [_tool(answer)]
            request["tool_choice"] = {"type": "tool", "name": _TOOL_NAME}
        effort = self.settings.reasoning_effort
        if effort is not None and supports_effort(self.model):
            output["effort"] = effort
        if output:
            request["output_config"] = output
        return request

    async def send(self, request: dict[str, Any]) -> Completion:
        """One ``messages.create`` call."""
        message = await self.client().messages.create(**request)
        usage = message.usage
        # input_tokens excludes what was read from or written to the prompt cache; output_tokens
        # includes thinking (output_tokens_details.thinking_tokens is a part of it).
        read = usage.cache_read_input_tokens or 0
        written = usage.cache_creation_input_tokens or 0
        details = getattr(usage, "output_tokens_details", None)
        billed = Completion(
            input_tokens=usage.input_tokens + read + written,
            cached_input_tokens=read,
            cache_write_input_tokens=written,
            output_tokens=usage.output_tokens,
            reasoning_tokens=int(getattr(details, "thinking_tokens", 0) or 0),
        )
        if message.stop_reason == "refusal":
            return replace(billed, refusal=_text(message.content) or "refused")
        truncated = message.stop_reason == "max_tokens"
        for block in message.content:
            if block.type == "tool_use" and block.name == _TOOL_NAME and not truncated:
                payload = block.input if isinstance(block.input, dict) else None
                return replace(billed, payload=payload)
        text = _text(message.content)
        if self.output_mode == "json_schema" and not truncated:
            return replace(billed, payload=extract_json_object(text), text=text)
        return replace(billed, text=text, truncated=truncated)

    def fall_back(self, error: ProviderError, request: dict[str, Any]) -> bool:
        """With ``output_mode="auto"``: a request refused with HTTP 400 is sent again with the
        other structured-output path (JSON outputs <-> forced tool), which is kept from then
        on. Once per analyst: if the other path is refused too, the error stands."""
        if error.status != 400 or not self._auto:
            return False
        sent: OutputMode = "json_schema" if "format" in request.get("output_config", {}) else "tool"
        if sent != self.output_mode:
            return True  # a concurrent call switched already: resend in the current shape
        if self._switched:
            return False
        self._switched = True
        self.output_mode = "tool" if sent == "json_schema" else "json_schema"
        _log.warning(
            "%s: %s refused %s structured output (HTTP 400: %s); using %s from now on",
            self.name,
            self.model,
            sent,
            str(error)[:200],
            self.output_mode,
        )
        return True

    def classify(self, error: BaseException) -> ProviderError:
        """SDK exception -> ProviderError (credentials in URLs redacted)."""
        return classify_sdk_error(self._sdk, "anthropic", error)


def _text(blocks: Any) -> str:
    return " ".join(getattr(b, "text", "") for b in blocks if getattr(b, "type", "") == "text")
