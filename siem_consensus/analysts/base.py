"""The analyst contract and the safe way to call one.

How to write an analyst: a class with a ``name`` attribute and
``async def analyze(self, case: Incident) -> Verdict``. It sees one incident and nothing
else: never another analyst's verdict. It may abstain (``VerdictStatus.ABSTAINED`` with a
rationale) when the case is outside what it knows. It should not catch its own failures to
invent an answer: :func:`run_analyst` turns any exception or timeout into an explicit
``error`` verdict, which consensus treats as a degraded ``needs_review``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..errors import ConfigError
from ..models import Incident, Verdict, VerdictStatus

if TYPE_CHECKING:
    from .llm.base import LLMSettings

__all__ = [
    "ANALYSTS",
    "Analyst",
    "abstain",
    "get_analyst",
    "register",
    "resolve_analysts",
    "run_analyst",
    "run_analyst_batch",
]


@runtime_checkable
class Analyst(Protocol):
    """Judges one incident independently and returns a :class:`Verdict`."""

    name: str

    async def analyze(self, case: Incident) -> Verdict:
        """Judge ``case``; raise on failure rather than guessing."""
        ...


ANALYSTS: dict[str, Callable[[], Analyst]] = {}
"""Registry of analyst factories by name (``--analysts`` choices)."""


def register(name: str) -> Callable[[Callable[[], Analyst]], Callable[[], Analyst]]:
    """Decorator registering an analyst factory (usually the class) under ``name``."""

    def add(factory: Callable[[], Analyst]) -> Callable[[], Analyst]:
        ANALYSTS[name] = factory
        return factory

    return add


def get_analyst(name: str, llm_settings: LLMSettings | None = None) -> Analyst:
    """A new analyst instance by registry name; unknown names list the valid ones.

    ``claude`` and ``openai`` read their keys from the environment; ``local:<base_url>``
    builds an OpenAI-compatible local analyst (Ollama, vLLM, llama.cpp). LLM analysts get
    ``llm_settings`` (budget, cache, retries) when given.
    """
    if name.startswith("local:") or name in ("claude", "openai"):
        from . import llm

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
    if not resolved:
        raise ConfigError("at least one analyst is required")
    names = [a.name for a in resolved]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"analyst names must be unique; repeated: {', '.join(duplicates)}")
    return resolved


def abstain(analyst: str, case: Incident, why: str) -> Verdict:
    """An explicit abstention: the analyst declines to judge this case."""
    return Verdict(
        analyst=analyst, incident_id=case.id, status=VerdictStatus.ABSTAINED, rationale=why
    )


async def run_analyst(analyst: Analyst, case: Incident, timeout: float | None = 120.0) -> Verdict:
    """Call an analyst; failures and timeouts become ``error`` verdicts, never guesses."""
    try:
        verdict = await asyncio.wait_for(analyst.analyze(case), timeout)
    except TimeoutError:
        return _error(analyst, case, f"timed out after {timeout:g}s")
    except Exception as exc:  # noqa: BLE001  (any analyst failure must become data)
        return _error(analyst, case, f"{type(exc).__name__}: {str(exc)[:300]}")
    # Attribution is ours to set; a verdict about another incident is left for verification.
    return verdict.model_copy(
        update={"analyst": analyst.name, "incident_id": verdict.incident_id or case.id}
    )


async def run_analyst_batch(
    analyst: Analyst, cases: Sequence[Incident], timeout: float | None = 120.0
) -> list[Verdict]:
    """Call an analyst's ``analyze_batch`` (one call for several low-tier incidents).

    A failure or timeout becomes an ``error`` verdict for every case of the batch.
    """
    batch = getattr(analyst, "analyze_batch", None)
    if batch is None:
        return [await run_analyst(analyst, case, timeout) for case in cases]
    try:
        verdicts: list[Verdict] = await asyncio.wait_for(batch(list(cases)), timeout)
    except TimeoutError:
        return [_error(analyst, case, f"timed out after {timeout:g}s") for case in cases]
    except Exception as exc:  # noqa: BLE001  (any analyst failure must become data)
        message = f"{type(exc).__name__}: {str(exc)[:300]}"
        return [_error(analyst, case, message) for case in cases]
    return [
        v.model_copy(update={"analyst": analyst.name, "incident_id": v.incident_id or c.id})
        for v, c in zip(verdicts, cases, strict=True)
    ]


def _error(analyst: Analyst, case: Incident, message: str) -> Verdict:
    return Verdict(
        analyst=analyst.name, incident_id=case.id, status=VerdictStatus.ERROR, error=message
    )
