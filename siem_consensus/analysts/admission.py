"""All or nothing per incident: a budget is spent on an incident only if every analyst of it
can be paid for.

Without this, tasks for the first analyst could spend a shared budget entirely and leave every
incident with one verdict of two: money spent on decisions that can never be unanimous. The
graph's analyze node calls :func:`admit` before an analyst judges its incidents. The first
task of an incident to arrive reserves, in one step, the worst case of *every* budgeted
analyst that will judge it (:meth:`~siem_consensus.analysts.costs.Budget.acquire`, which waits
while calls in flight may give money back). The reservations are held as tickets that each
analyst's call then uses. When they cannot fit, no analyst spends anything on that incident:
each gets an ``error`` verdict saying the budget is exhausted, and consensus makes the
decision a degraded ``needs_review``.

Analysts that spend from no budget (the embedded ones, LLM analysts without a budget) are not
affected.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from ..models import Incident, Verdict, VerdictStatus
from .base import Analyst
from .costs import Budget, BudgetExhausted

__all__ = ["Budgeted", "admit"]


@runtime_checkable
class Budgeted(Protocol):
    """An analyst that spends from a budget (the LLM analysts)."""

    name: str

    @property
    def budget(self) -> Budget | None:
        """The budget it spends from, if any."""
        ...

    def needs_call(self, case: Incident) -> bool:
        """Whether judging ``case`` may spend at all."""
        ...

    def estimate(self, cases: Sequence[Incident]) -> tuple[int, float | None]:
        """(tokens, dollars) one call for ``cases`` may spend at most."""
        ...


# Per budget: incident id -> the admission decision (an exception when refused).
_decisions: weakref.WeakKeyDictionary[Budget, dict[str, asyncio.Future[BudgetExhausted | None]]]
_decisions = weakref.WeakKeyDictionary()


async def admit(
    analysts: Sequence[Analyst], analyst: Analyst, cases: Sequence[Incident]
) -> tuple[list[Incident], list[Verdict]]:
    """Split ``cases`` into those ``analyst`` may judge and ``error`` verdicts for the rest.

    Args:
        analysts: Every analyst of the run (the ones that will judge each incident).
        analyst: The analyst about to judge ``cases``.
        cases: Its incidents for this task.

    Returns:
        The admitted cases, and one ``error`` verdict per refused case.
    """
    budget = analyst.budget if isinstance(analyst, Budgeted) else None
    if budget is None:
        return list(cases), []
    payers = [a for a in analysts if isinstance(a, Budgeted) and a.budget is budget]
    admitted, refused = [], []
    for case in cases:
        refusal = await _decide(budget, payers, case)
        if refusal is None:
            admitted.append(case)
        else:
            refused.append(_refused(analyst, case, refusal))
    return admitted, refused


async def _decide(
    budget: Budget, payers: Sequence[Budgeted], case: Incident
) -> BudgetExhausted | None:
    """The incident's admission decision, made once by the first task that asks."""
    decisions = _decisions.setdefault(budget, {})
    pending = decisions.get(case.id)
    if pending is not None:
        return await asyncio.shield(pending)
    decision: asyncio.Future[BudgetExhausted | None] = asyncio.get_running_loop().create_future()
    decisions[case.id] = decision
    try:
        decision.set_result(await _reserve(budget, payers, case))
    except BaseException as exc:
        decisions.pop(case.id, None)
        decision.set_exception(exc)
        raise
    return decision.result()


async def _reserve(
    budget: Budget, payers: Sequence[Budgeted], case: Incident
) -> BudgetExhausted | None:
    """Reserve every payer's worst case for ``case`` at once, as tickets; or say why not."""
    spenders = [a for a in payers if a.needs_call(case)]
    if not spenders:
        return None
    amounts = [a.estimate([case]) for a in spenders]
    try:
        reservations = await budget.acquire(amounts)
    except BudgetExhausted as exc:
        return exc
    for payer, reservation in zip(spenders, reservations, strict=True):
        budget.hold((case.id, payer.name), reservation)
    return None


def _refused(analyst: Analyst, case: Incident, why: BudgetExhausted) -> Verdict:
    return Verdict(
        analyst=analyst.name,
        incident_id=case.id,
        status=VerdictStatus.ERROR,
        error=f"not sent: {why} (no analyst was asked about this incident, so none spent)",
    )
