"""Analysts by name: the embedded ones from the registry, LLM analysts built on request.

Sits above both :mod:`.base` (the contract and the registry of embedded analysts) and
:mod:`.llm`, so that the contract never imports the LLM package. Creating an LLM analyst
imports its vendor SDK; importing this module does not.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import ConfigError
from . import llm
from .base import ANALYSTS, Analyst
from .llm.base import LLMSettings

__all__ = ["get_analyst", "resolve_analysts"]


def get_analyst(name: str, llm_settings: LLMSettings | None = None) -> Analyst:
    """A new analyst instance by registry name; unknown names list the valid ones.

    ``claude`` and ``openai`` read their keys from the environment; ``local:<base_url>``
    builds an OpenAI-compatible local analyst (Ollama, vLLM, llama.cpp). LLM analysts get
    ``llm_settings`` (budget, cache, retries) when given.
    """
    if name.startswith("local:") or name in ("claude", "openai"):
        if name.startswith("local:"):
            return llm.local_analyst(name.removeprefix("local:"), llm_settings)
        cls = llm.ClaudeAnalyst if name == "claude" else llm.OpenAIAnalyst
        return cls(settings=llm_settings)
    try:
        factory = ANALYSTS[name]
    except KeyError:
        valid = {*ANALYSTS, "claude", "openai", "local:<base_url>"}
        raise ConfigError.unknown("analyst", name, valid) from None
    return factory()


def resolve_analysts(
    analysts: Sequence[str | Analyst] | str | None, llm_settings: LLMSettings | None = None
) -> list[Analyst]:
    """Analyst instances from names, instances, a comma-separated string, or the defaults.

    The default is the embedded ``rules`` and ``baseline`` analysts (no key, no network),
    whether or not API keys are present: nothing is sent to a provider unless asked for.
    Names must be unique, since verdicts are attributed by analyst name.
    """
    if analysts is None:
        analysts = ["rules", "baseline"]
    if isinstance(analysts, str):
        analysts = [part.strip() for part in analysts.split(",") if part.strip()]
    resolved = [get_analyst(a, llm_settings) if isinstance(a, str) else a for a in analysts]
    for analyst in resolved:
        if not isinstance(getattr(analyst, "name", None), str) or not analyst.name:
            raise ConfigError(
                f"analyst {type(analyst).__name__} has no name: set a class attribute "
                '`name = "my-analyst"` (verdicts are attributed by it); see docs/extending.md'
            )
    if not resolved:
        raise ConfigError("at least one analyst is required")
    names = [a.name for a in resolved]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"analyst names must be unique; repeated: {', '.join(duplicates)}")
    return resolved
