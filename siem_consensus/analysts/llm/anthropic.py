"""Claude as an analyst, over the official ``anthropic`` SDK (async client, forced tool use)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ...errors import MissingDependencyError, ProviderError
from ._sdk_errors import classify_sdk_error
from .base import Completion, LLMAnalyst, LLMSettings
from .config import DEFAULT_MODELS, resolve_setting

if TYPE_CHECKING:
    import anthropic

__all__ = ["ClaudeAnalyst"]

_TOOL_NAME = "record_verdict"


def _tool(answer: type[BaseModel]) -> dict[str, Any]:
    return {
        "name": _TOOL_NAME,
        "description": "Record your verdict on the case(s).",
        "input_schema": answer.model_json_schema(),
    }


class ClaudeAnalyst(LLMAnalyst):
    """Claude judging incidents through the Messages API with a forced ``record_verdict`` tool.

    Args:
        model: Model id; default ``SIEM_CONSENSUS_CLAUDE_MODEL`` or ``claude-sonnet-5``.
        api_key: Default ``ANTHROPIC_API_KEY`` (or the Colab secret of that name).
        base_url: Default ``ANTHROPIC_BASE_URL``, else Anthropic's API.
        name: Analyst name in verdicts (default ``claude``).
        settings: Shared LLM settings (timeouts, retries, budget, cache, ...).
        client: A ready ``anthropic.AsyncAnthropic`` (its retries should be 0: we retry).

    Raises:
        MissingDependencyError: the ``anthropic`` package is not installed.
        ConfigError: no API key was found.
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
    ) -> None:
        try:
            import anthropic
        except ImportError:  # pragma: no cover - a core dependency today
            raise MissingDependencyError("anthropic", "anthropic") from None
        self._sdk = anthropic
        model = model or resolve_setting("SIEM_CONSENSUS_CLAUDE_MODEL") or DEFAULT_MODELS["claude"]
        base_url = base_url or resolve_setting("ANTHROPIC_BASE_URL")
        super().__init__(name=name, model=model, settings=settings, local=_is_loopback(base_url))
        self.base_url = base_url
        self._given_client = client
        if client is None:
            self._key = api_key or resolve_setting("ANTHROPIC_API_KEY", required=True)

    def __repr__(self) -> str:
        return f"ClaudeAnalyst(model={self.model!r}, name={self.name!r})"

    def _make_client(self) -> anthropic.AsyncAnthropic:
        return self._sdk.AsyncAnthropic(
            api_key=self._key, base_url=self.base_url, max_retries=0, timeout=self.settings.timeout
        )

    async def _complete(self, system: str, user: str, answer: type[BaseModel]) -> Completion:
        request: Any = {
            "model": self.model,
            "max_tokens": self.settings.max_output_tokens,
            "system": system,
            "messages": [{"role": "user", "content": user}],
            "tools": [_tool(answer)],
            "tool_choice": {"type": "tool", "name": _TOOL_NAME},
        }
        message = await self.client().messages.create(**request)
        usage = message.usage
        tokens = (usage.input_tokens, usage.output_tokens)
        if message.stop_reason == "refusal":
            return Completion(
                refusal=_text(message.content) or "refused",
                input_tokens=tokens[0],
                output_tokens=tokens[1],
            )
        for block in message.content:
            if block.type == "tool_use" and block.name == _TOOL_NAME:
                payload = block.input if isinstance(block.input, dict) else None
                return Completion(payload=payload, input_tokens=tokens[0], output_tokens=tokens[1])
        return Completion(
            text=_text(message.content), input_tokens=tokens[0], output_tokens=tokens[1]
        )

    def _classify(self, error: BaseException) -> ProviderError:
        return classify_sdk_error(self._sdk, "anthropic", error)


def _text(blocks: Any) -> str:
    return " ".join(getattr(b, "text", "") for b in blocks if getattr(b, "type", "") == "text")


def _is_loopback(base_url: str | None) -> bool:
    from .config import is_loopback_url

    return base_url is not None and is_loopback_url(base_url)
