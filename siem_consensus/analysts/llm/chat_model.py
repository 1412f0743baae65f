"""Any langchain-core chat model as an analyst (ChatAnthropic, ChatOpenAI, ChatOllama, ...).

Uses ``with_structured_output(VerdictClaims, include_raw=True)``: each integration picks its
own mechanism (forced tool use for ChatAnthropic, JSON schema for ChatOpenAI), and the raw
message gives the provider-reported token usage.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel

from ...errors import ProviderError
from .base import Completion, LLMAnalyst, LLMSettings

__all__ = ["ChatModelAnalyst"]


class ChatModelAnalyst(LLMAnalyst):
    """Wrap a langchain-core chat model.

    Args:
        chat_model: A ``BaseChatModel`` that supports ``with_structured_output``. Turn off its
            own retries (e.g. ``max_retries=0``): the analyst retries with backoff itself.
        name: Analyst name in verdicts.
        provider: Key for the concurrency limit / circuit breaker (default: the name).
        settings: Shared LLM settings.
        local: True when the model runs on this machine (pseudonymization then defaults off).
    """

    def __init__(
        self,
        chat_model: BaseChatModel,
        *,
        name: str,
        provider: str | None = None,
        settings: LLMSettings | None = None,
        local: bool = False,
    ) -> None:
        model = str(getattr(chat_model, "model_name", None) or getattr(chat_model, "model", name))
        super().__init__(name=name, model=model, settings=settings, local=local)
        self.provider = provider or name
        self.chat_model = chat_model
        self._runnables: dict[type[BaseModel], Any] = {}

    async def _complete(self, system: str, user: str, answer: type[BaseModel]) -> Completion:
        if answer not in self._runnables:
            self._runnables[answer] = self.chat_model.with_structured_output(
                answer, include_raw=True
            )
        messages = [("system", system), ("human", user)]
        result: Any = await self._runnables[answer].ainvoke(messages)
        raw = result.get("raw")
        usage = getattr(raw, "usage_metadata", None) or {}
        tokens = (int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0)))
        parsed = result.get("parsed")
        if isinstance(parsed, BaseModel):
            return Completion(
                payload=parsed.model_dump(), input_tokens=tokens[0], output_tokens=tokens[1]
            )
        refusal = (getattr(raw, "additional_kwargs", None) or {}).get("refusal")
        if refusal:
            return Completion(refusal=str(refusal), input_tokens=tokens[0], output_tokens=tokens[1])
        payload = _tool_args(raw)
        text = str(getattr(raw, "content", "") or "")
        return Completion(
            payload=payload, text=text, input_tokens=tokens[0], output_tokens=tokens[1]
        )

    def _classify(self, error: BaseException) -> ProviderError:
        if isinstance(error, ProviderError):
            return error
        status = getattr(error, "status_code", None)
        response = getattr(error, "response", None)
        headers = getattr(response, "headers", None) or {}
        retry_after = headers.get("retry-after") if hasattr(headers, "get") else None
        timeout = "timeout" in type(error).__name__.lower()
        connection = "connection" in type(error).__name__.lower()
        return ProviderError(
            f"{self.provider} call failed: {type(error).__name__}: {str(error)[:200]}",
            provider=self.provider,
            status=status if isinstance(status, int) else (None if timeout or connection else 0),
            retry_after=float(retry_after) if retry_after else None,
        )


def _tool_args(raw: Any) -> dict[str, Any] | None:
    """The arguments of the first tool call, when parsing failed (for the repair message)."""
    for call in getattr(raw, "tool_calls", None) or []:
        args = call.get("args")
        if isinstance(args, dict):
            return args
    return None
