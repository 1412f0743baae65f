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
    """Call an analyst about one case; the verdict is bound to that case.

    Failures and timeouts become ``error`` verdicts, never guesses; so do answers that are
    not a :class:`Verdict` (None, a dict, ...) and verdicts about another incident
    ("verdict about X, asked about Y"). The analyst name is set from ``analyst.name``.

    ``timeout`` bounds the whole ``analyze`` call, except for analysts that set
    ``times_own_calls = True`` (the LLM analysts): they bound each provider call from the moment
    it is sent, and an outer deadline here would also count their wait for a provider slot.
    """
    timeout = _outer_timeout(analyst, timeout)
    try:
        answer: object = await asyncio.wait_for(analyst.analyze(case), timeout)
    except TimeoutError:
        return _error(analyst, case, f"timed out after {timeout:g}s")
    except Exception as exc:  # noqa: BLE001  (any analyst failure must become data)
        return _error(analyst, case, f"{type(exc).__name__}: {str(exc)[:300]}")
    return _bind(analyst, case, answer)


async def run_analyst_batch(
    analyst: Analyst, cases: Sequence[Incident], timeout: float | None = 120.0
) -> list[Verdict]:
    """Call an analyst's ``analyze_batch`` (one call for several low-tier incidents).

    Returns exactly one verdict per case, in order. A failure or timeout becomes an ``error``
    verdict for every case of the batch. Verdicts are matched to cases by their
    ``incident_id``; a verdict without one is matched by position, but only when the batch
    returned exactly one answer per case. A case left without exactly one verdict about it
    gets an ``error`` verdict saying what the batch returned instead. ``timeout`` is applied
    as in :func:`run_analyst`.
    """
    batch = getattr(analyst, "analyze_batch", None)
    if batch is None:
        return [await run_analyst(analyst, case, timeout) for case in cases]
    timeout = _outer_timeout(analyst, timeout)
    try:
        answers: object = await asyncio.wait_for(batch(list(cases)), timeout)
    except TimeoutError:
        return [_error(analyst, case, f"timed out after {timeout:g}s") for case in cases]
    except Exception as exc:  # noqa: BLE001  (any analyst failure must become data)
        message = f"{type(exc).__name__}: {str(exc)[:300]}"
        return [_error(analyst, case, message) for case in cases]
    if not isinstance(answers, list | tuple):
        got = type(answers).__name__
        return [_error(analyst, case, f"batch returned {got}, not a list") for case in cases]
    return [
        _bind_in_batch(analyst, case, n, list(answers), len(cases)) for n, case in enumerate(cases)
    ]


def _outer_timeout(analyst: Analyst, timeout: float | None) -> float | None:
    """No outer deadline for analysts that time each provider call themselves (see above)."""
    return None if getattr(analyst, "times_own_calls", False) is True else timeout


def _bind(analyst: Analyst, case: Incident, answer: object) -> Verdict:
    """The analyst's answer about ``case`` as a verdict about ``case``, or an error verdict."""
    if not isinstance(answer, Verdict):
        got = "nothing" if answer is None else f"a {type(answer).__name__}"
        return _error(analyst, case, f"returned {got} instead of a Verdict")
    if answer.incident_id and answer.incident_id != case.id:
        message = f"verdict about {answer.incident_id}, asked about {case.id}"
        return _error(analyst, case, message, answer)
    return answer.model_copy(update={"analyst": analyst.name, "incident_id": case.id})


def _bind_in_batch(
    analyst: Analyst, case: Incident, position: int, answers: list[object], expected: int
) -> Verdict:
    about = [a for a in answers if isinstance(a, Verdict) and a.incident_id == case.id]
    if len(about) == 1:
        return _bind(analyst, case, about[0])
    if len(about) > 1:
        return _error(analyst, case, f"batch returned {len(about)} verdicts about this case")
    if len(answers) == expected:
        return _bind(analyst, case, answers[position])
    return _error(
        analyst,
        case,
        f"batch returned {len(answers)} answers for {expected} cases, none about this one",
    )


def _error(
    analyst: Analyst, case: Incident, message: str, source: Verdict | None = None
) -> Verdict:
    """An error verdict (no claims); keeps the source's model, usage and latency for costs."""
    return Verdict(
        analyst=analyst.name,
        incident_id=case.id,
        status=VerdictStatus.ERROR,
        error=message,
        model=source.model if source else None,
        usage=source.usage if source else None,
        latency_s=source.latency_s if source else None,
    )
