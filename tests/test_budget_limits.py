"""Where a run's budget draws its lines (``analysts/_budget.py``): what counts as exhausted,
the exact money limit, the figures a refusal reports, which calls ``acquire`` waits for, and
the warning an unpriced usage logs."""

from __future__ import annotations

import asyncio
import logging

import pytest

from siem_consensus.analysts.costs import Budget, BudgetExhausted
from siem_consensus.models import Usage


def _usage(tokens: int, cost: float | None) -> Usage:
    return Usage(calls=1, input_tokens=tokens, output_tokens=0, cost_usd=cost)


def test_a_budget_held_to_its_token_limit_by_a_call_in_flight_is_not_exhausted() -> None:
    budget = Budget(max_tokens=100)
    in_flight = budget.reserve(100, None)
    assert not budget.exhausted  # held, not spent: the call may give it back
    with pytest.raises(BudgetExhausted, match="spent 100 tokens, reaching the limit"):
        budget.reserve(1, None)  # but nothing more fits while it is held
    in_flight.settle(_usage(40, None))
    assert not budget.exhausted and budget.spent_tokens == 40


def test_a_budget_held_to_its_money_limit_by_a_call_in_flight_is_not_exhausted() -> None:
    budget = Budget(max_cost_usd=1.0)
    in_flight = budget.reserve(0, 1.0)
    assert not budget.exhausted
    in_flight.settle(_usage(0, 0.4))
    assert not budget.exhausted and budget.spent_cost_usd == pytest.approx(0.4)


def test_a_token_budget_is_exhausted_at_its_limit_and_not_one_token_before() -> None:
    budget = Budget(max_tokens=100)
    budget.record(_usage(99, None))
    assert not budget.exhausted
    budget.reserve(1, None).release()  # the last token still fits
    budget.record(_usage(1, None))
    assert budget.exhausted


def test_a_money_budget_spent_exactly_to_its_limit_refuses_even_a_free_call() -> None:
    budget = Budget(max_cost_usd=0.5)
    budget.record(_usage(0, 0.25))
    budget.record(_usage(0, 0.25))
    assert budget.exhausted
    with pytest.raises(BudgetExhausted) as info:
        budget.reserve(0, 0.0)
    assert str(info.value) == (
        "cost budget exhausted: spent 0.5 USD, reaching the limit of 0.5 USD; raise "
        "max_cost_usd or enable the response cache to make fewer calls"
    )


def test_a_money_refusal_reports_what_was_spent_to_the_millionth_of_a_dollar() -> None:
    budget = Budget(max_cost_usd=0.2)
    budget.record(_usage(0, 0.1234567))
    with pytest.raises(BudgetExhausted) as info:
        budget.reserve(0, 0.1)
    assert (info.value.spent, info.value.estimate, info.value.maximum) == (0.123457, 0.1, 0.2)


def test_acquire_waits_while_any_separately_reserved_call_is_in_flight() -> None:
    # Two calls reserved one at a time; one is given back, the other is still in flight, so a
    # request that does not fit now must wait for it rather than be refused.
    async def scenario() -> tuple[bool, int]:
        budget = Budget(max_tokens=100)
        first, second = budget.reserve(40, None), budget.reserve(40, None)
        first.release()
        waiting = asyncio.create_task(budget.acquire([(70, None)]))
        await asyncio.sleep(0.01)
        waited = not waiting.done()
        second.settle(_usage(20, None))  # 20 spent + 70 fits in 100
        [got] = await asyncio.wait_for(waiting, 1)
        got.release()
        return waited, budget.spent_tokens

    assert asyncio.run(scenario()) == (True, 20)


def test_acquire_refuses_at_once_when_the_last_call_in_flight_has_closed() -> None:
    async def scenario() -> None:
        budget = Budget(max_tokens=100)
        calls = [budget.reserve(30, None) for _ in range(3)]
        for call in calls:
            call.settle(_usage(25, None))  # 75 spent, nothing in flight
        with pytest.raises(BudgetExhausted, match="spent 75 tokens \\+ reserved 30"):
            await asyncio.wait_for(budget.acquire([(30, None)]), 1)

    asyncio.run(scenario())


def test_the_unpriced_usage_warning_names_the_money_limit_and_the_remedy(
    caplog: pytest.LogCaptureFixture,
) -> None:
    budget = Budget(max_cost_usd=2.5)
    with caplog.at_level(logging.WARNING, logger="siem_consensus.analysts.costs"):
        budget.record(_usage(10, None))
    [warning] = caplog.records
    assert warning.levelno == logging.WARNING
    assert warning.getMessage() == (
        "usage with no known price was recorded: its tokens count against max_tokens but "
        "cannot exhaust max_cost_usd=2.5; add the model to the price table"
    )
