"""LLM analysts: Claude, OpenAI / OpenAI-compatible endpoints, any langchain-core chat model.

The vendor SDKs are imported when an analyst is created, never at package import time.
"""

from __future__ import annotations

from .base import Completion, LLMAnalyst, LLMSettings
from .chat_model import ChatModelAnalyst
from .config import DEFAULT_MODELS, available_llm_analysts, describe_privacy, resolve_setting
from .prompt import PROMPT_VERSION, SYSTEM_PROMPT, VerdictClaims, build_case_prompt, estimate_tokens

__all__ = [
    "DEFAULT_MODELS",
    "PROMPT_VERSION",
    "SYSTEM_PROMPT",
    "ChatModelAnalyst",
    "ClaudeAnalyst",
    "Completion",
    "LLMAnalyst",
    "LLMSettings",
    "OpenAIAnalyst",
    "VerdictClaims",
    "available_llm_analysts",
    "describe_privacy",
    "build_case_prompt",
    "estimate_tokens",
    "local_analyst",
    "resolve_setting",
]

from .anthropic import ClaudeAnalyst  # noqa: E402  (after base: the module imports it)
from .openai import OpenAIAnalyst  # noqa: E402


def local_analyst(base_url: str, settings: LLMSettings | None = None) -> OpenAIAnalyst:
    """An OpenAI-compatible local endpoint (Ollama, vLLM, llama.cpp) named ``local``.

    The model comes from ``SIEM_CONSENSUS_LOCAL_MODEL`` (default ``llama3.1``). The model runs
    on your machine, so pseudonymization is off unless ``settings.pseudonymize`` is True.
    """
    model = resolve_setting("SIEM_CONSENSUS_LOCAL_MODEL") or "llama3.1"
    return OpenAIAnalyst(model, base_url=base_url, name="local", settings=settings, local=True)
