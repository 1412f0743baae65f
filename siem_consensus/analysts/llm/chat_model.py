"""Any langchain-core chat model as an analyst (ChatAnthropic, ChatOpenAI, ChatOllama, ...).

Uses ``with_structured_output(VerdictClaims, include_raw=True)``: each integration picks its
own mechanism (forced tool use for ChatAnthropic, JSON schema for ChatOpenAI), and the raw
message gives the provider-reported token usage and the stop reason.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel

from ...errors import ProviderError
from ...privacy import redact_credentials
from .base import Completion, LLMAnalyst, LLMSettings

__all__ = ["ChatModelAnalyst"]

_CAP_FIELDS = ("max_tokens", "max_completion_tokens", "num_predict")
_TRUNCATED = {"max_tokens", "length"}


class ChatModelAnalyst(LLMAnalyst):
    """Wrap a langchain-core chat model.

    Pseudonymization is on unless ``local=True`` or ``LLMSettings(pseudonymize=False)``.

    Args:
        chat_model: A ``BaseChatModel`` that supports ``with_structured_output``. Turn off its
            own retries (e.g. ``max_retries=0``): the analyst retries with backoff itself.
        name: Analyst name in verdicts.
        provider: Key for the concurrency limit / circuit breaker (default: the name).
        settings: Shared LLM settings.
        local: True when the model runs on this machine (pseudonymization then defaults off).

    Raises:
        ConfigError: A money budget is set and the model has no price.
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
        self._runnables: dict[tuple[type[BaseModel], int], Any] = {}

    @property
    def endpoint(self) -> str:
        """The chat model's class and base URL (if it has one), credentials redacted."""
        url = getattr(self.chat_model, "openai_api_base", None) or getattr(
            self.chat_model, "anthropic_api_url", None
        )
        return redact_credentials(f"{type(self.chat_model).__name__}:{url or ''}")

    def ready(self) -> None:
        """Nothing to build: the chat model was given ready."""

    def build_request(
        self, system: str, user: str, answer: type[BaseModel], max_tokens: int
    ) -> dict[str, Any]:
        """The messages, the answer schema, the model and the output cap."""
        return {
            "model": self.model,
            "messages": [["system", system], ["human", user]],
            "answer": answer.__name__,
            "schema": answer.model_json_schema(),
            "max_tokens": max_tokens,
        }

    def _runnable(self, answer: type[BaseModel], cap: int) -> Any:
        if (answer, cap) not in self._runnables:
            model = self.chat_model
            fields = type(model).model_fields
            cap_field = next((f for f in _CAP_FIELDS if f in fields), None)
            if cap_field is not None:
                model = model.model_copy(update={cap_field: cap})
            self._runnables[(answer, cap)] = model.with_structured_output(answer, include_raw=True)
        return self._runnables[(answer, cap)]

    async def send(self, request: dict[str, Any]) -> Completion:
        """One structured-output invocation of the chat model."""
        from .prompt import BatchClaims, VerdictClaims

        answer = BatchClaims if request["answer"] == BatchClaims.__name__ else VerdictClaims
        messages = [tuple(m) for m in request["messages"]]
        result: Any = await self._runnable(answer, request["max_tokens"]).ainvoke(messages)
        raw = result.get("raw")
        usage = getattr(raw, "usage_metadata", None) or {}
        details = usage.get("input_token_details") or {}
        output = usage.get("output_token_details") or {}
        billed = Completion(
            input_tokens=int(usage.get("input_tokens", 0)),
            output_tokens=int(usage.get("output_tokens", 0)),
            cached_input_tokens=int(details.get("cache_read", 0) or 0),
            cache_write_input_tokens=int(details.get("cache_creation", 0) or 0),
            reasoning_tokens=int(output.get("reasoning", 0) or 0),
        )
        metadata = getattr(raw, "response_metadata", None) or {}
        stop = metadata.get("stop_reason") or metadata.get("finish_reason")
        if stop in _TRUNCATED:
            return replace(billed, truncated=True)
        parsed = result.get("parsed")
        if isinstance(parsed, BaseModel):
            return replace(billed, payload=parsed.model_dump())
        refusal = (getattr(raw, "additional_kwargs", None) or {}).get("refusal")
        if refusal:
            return replace(billed, refusal=str(refusal))
        text = str(getattr(raw, "content", "") or "")
        return replace(billed, payload=_tool_args(raw), text=text)

    def classify(self, error: BaseException) -> ProviderError:
        """Any integration's exception -> ProviderError (status and retry-after when known)."""
        if isinstance(error, ProviderError):
            return error
        status = getattr(error, "status_code", None)
        response = getattr(error, "response", None)
        headers = getattr(response, "headers", None) or {}
        retry_after = headers.get("retry-after") if hasattr(headers, "get") else None
        timeout = "timeout" in type(error).__name__.lower()
        connection = "connection" in type(error).__name__.lower()
        detail = redact_credentials(str(error))[:200]
        return ProviderError(
            f"{self.provider} call failed: {type(error).__name__}: {detail}",
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
