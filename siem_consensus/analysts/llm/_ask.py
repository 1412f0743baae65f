"""One exchange with a provider: call, settle the budget, detect truncation, repair once.

Every attempt that reached the model is billed, so each one settles against the budget as soon
as its usage is known: the first attempt against the reservation made before it, a repair or a
truncation retry against a reservation of its own (refused -> the analyst abstains, saying
why). HTTP attempts that failed before the model answered are counted as calls but carry no
tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ...errors import ProviderError
from ...models import Usage
from ..costs import BudgetExhausted, Reservation
from ._answers import REPAIR, validate
from .prompt import VerdictClaims

if TYPE_CHECKING:
    from ._prepare import Prepared
    from .base import Completion, LLMAnalyst

__all__ = ["Exchange", "ask", "reserve", "settle"]

TRUNCATION_GROWTH = 2
"""A truncated answer is retried once with its output cap multiplied by this."""


@dataclass
class Exchange:
    """What one exchange produced: valid answers by alias, total usage, and what went wrong."""

    answers: dict[str, VerdictClaims] = field(default_factory=dict)
    problem: str = ""
    calls: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: float | None = 0.0

    def usage(self) -> Usage:
        """The exchange's usage, every billed attempt added up."""
        return Usage(
            calls=self.calls,
            input_tokens=self.input_tokens,
            cached_input_tokens=self.cached_input_tokens,
            cache_write_input_tokens=self.cache_write_input_tokens,
            output_tokens=self.output_tokens,
            reasoning_tokens=self.reasoning_tokens,
            cost_usd=self.cost_usd,
        )

    def add(self, attempt: Usage) -> None:
        """Add one attempt's billed usage."""
        self.input_tokens += attempt.input_tokens
        self.cached_input_tokens += attempt.cached_input_tokens
        self.cache_write_input_tokens += attempt.cache_write_input_tokens
        self.output_tokens += attempt.output_tokens
        self.reasoning_tokens += attempt.reasoning_tokens
        if self.cost_usd is not None and attempt.cost_usd is not None:
            self.cost_usd += attempt.cost_usd
        else:
            self.cost_usd = None


async def reserve(analyst: LLMAnalyst, prepared: Prepared, cap: int) -> list[Reservation]:
    """Reserve one attempt's worst case (input estimate plus ``cap``), waiting for calls in
    flight; nothing when there is no budget.

    Raises:
        BudgetExhausted: It cannot fit.
    """
    budget = analyst.settings.budget
    if budget is None:
        return []
    return await budget.acquire([prepared.amount(analyst, cap)])


def settle(held: list[Reservation], usage: Usage | None) -> None:
    """Settle the first reservation with ``usage`` (None: release) and release the rest."""
    for n, reservation in enumerate(held):
        if n == 0 and usage is not None:
            reservation.settle(usage)
        else:
            reservation.release()


async def ask(analyst: LLMAnalyst, prepared: Prepared, held: list[Reservation]) -> Exchange:
    """Call, validate, and retry once for truncation and once for repair (see module doc).

    ``held`` is the reservation for the first attempt; it is always settled or released.

    A request refused with HTTP 400 is sent once more in another shape when the analyst says
    so (:meth:`~.base.LLMAnalyst.fall_back`: Claude's structured-output fallback).

    Raises:
        ProviderError: A call failed after its retries (reservations released, billed
            attempts already settled).
        BudgetExhausted: The fallback request could not be reserved.
    """
    prompt, out = prepared.prompt, Exchange()
    user, cap = prompt.user, prepared.output_cap
    repaired = grown = False
    while True:
        request = analyst.build_request(prompt.system, user, prepared.answer, cap)
        try:
            completion = await _attempt(analyst, request, held, out)
        except ProviderError as exc:
            if not analyst.fall_back(exc, request):
                raise
            held = await reserve(analyst, prepared, cap)  # the refused attempt billed nothing
            continue
        if completion.refusal is not None:
            out.problem = f"model refused: {completion.refusal[:200]}"
            return out
        if completion.truncated and not grown:
            grown, cap = True, cap * TRUNCATION_GROWTH
            retry = (
                f"answer truncated at the output cap{_reasoning(completion)}; "
                f"retrying with max_tokens={cap}"
            )
        elif completion.truncated:
            out.problem = (
                f"answer truncated at max_tokens={cap}{_reasoning(completion)} even after one "
                "retry with a larger cap"
            )
            return out
        else:
            found, problem = validate(completion, prepared.ids)
            out.answers.update(found)
            if not problem:
                out.problem = ""
                return out
            if repaired:
                out.problem = f"invalid output after one repair: {problem}"
                return out
            repaired, user = True, prompt.user + REPAIR.format(problem=problem)
            retry = problem
        try:
            held = await reserve(analyst, prepared, cap)
        except BudgetExhausted as exc:
            out.problem = f"{retry}; no further attempt: {exc}"
            return out


def _reasoning(completion: Completion) -> str:
    """How much of a truncated answer's output went to reasoning, if the provider said."""
    if not completion.reasoning_tokens:
        return ""
    return f" ({completion.reasoning_tokens} of {completion.output_tokens} tokens spent reasoning)"


async def _attempt(
    analyst: LLMAnalyst, request: dict[str, object], held: list[Reservation], out: Exchange
) -> Completion:
    """One call (with its HTTP retries); its billed usage settles ``held``."""
    calls = [0]
    try:
        completion = await analyst.call(request, calls)
    except BaseException:
        out.calls += calls[0]
        settle(held, None)
        raise
    out.calls += calls[0]
    billed = analyst.usage(0, completion)
    settle(held, billed)
    out.add(billed)
    return completion
