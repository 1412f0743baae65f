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
from typing import Protocol, runtime_checkable

from ..models import Incident, Verdict, VerdictStatus

__all__ = [
    "ANALYSTS",
    "Analyst",
    "abstain",
    "register",
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
