"""Admission per incident (``analysts/admission.py``) and the budget's own accounting, with
small analysts that spend from a real :class:`Budget`: which cases an analyst may judge, the
tickets held for every payer, the refusal verdict, and what the budget reports."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from siem_consensus.analysts import RulesAnalyst
from siem_consensus.analysts.admission import Budgeted, admit
from siem_consensus.analysts.costs import Budget, BudgetExhausted
from siem_consensus.models import Incident, Severity, Usage, Verdict, VerdictStatus


class Payer:
    """An analyst that spends ``tokens`` per incident from ``budget``."""

    def __init__(self, name: str, budget: Budget | None, tokens: int = 30, **skip: bool) -> None:
        self.name = name
        self._budget = budget
        self.tokens = tokens
        self.skip = skip
        self.estimates = 0

    @property
    def budget(self) -> Budget | None:
        return self._budget

    def needs_call(self, case: Incident) -> bool:
        return not self.skip.get(case.id, False)

    def estimate(self, cases: Sequence[Incident]) -> tuple[int, float | None]:
        self.estimates += 1
        return self.tokens * len(cases), 0.01 * len(cases)

    async def analyze(self, case: Incident) -> Verdict:  # pragma: no cover - never judged here
        raise AssertionError("admission never calls the analyst")


def _cases(*ids: str) -> list[Incident]:
    return [
        Incident(id=i, detector="d", kind="k", title="t", severity=Severity.LOW, score=0.1)
        for i in ids
    ]


def test_a_payer_is_budgeted() -> None:
    assert isinstance(Payer("a", None), Budgeted)
    assert not isinstance(RulesAnalyst(), Budgeted)


@pytest.mark.parametrize("analyst", [RulesAnalyst(), Payer("a", None)])
def test_analysts_without_a_budget_judge_everything(analyst: object) -> None:
    cases = _cases("c1", "c2")
    admitted, refused = asyncio.run(admit([analyst], analyst, cases))  # type: ignore[list-item,arg-type]
    assert admitted == cases and refused == []


def test_an_incident_is_admitted_for_every_payer_or_refused_for_all() -> None:
    budget = Budget(max_tokens=100, max_cost_usd=1.0)
    a, b = Payer("a", budget), Payer("b", budget)
    other = Payer("c", Budget(max_tokens=1))  # another budget: not a payer of this one
    analysts = [a, b, other, RulesAnalyst()]

    async def scenario() -> tuple[list[Incident], list[Verdict], list[Incident], list[Verdict]]:
        first = await admit(analysts, a, _cases("c1", "c2"))  # type: ignore[list-item]
        second = await admit(analysts, b, _cases("c1", "c2"))  # type: ignore[list-item]
        return (*first, *second)

    a_in, a_out, b_in, b_out = asyncio.run(scenario())
    assert [c.id for c in a_in] == ["c1"] and [c.id for c in b_in] == ["c1"]
    # c1 reserved both payers' worst case at once: 30 + 30 tokens, 0.01 + 0.01 USD
    assert budget.reserved_tokens == 60
    tickets = [budget.claim(("c1", name)) for name in ("a", "b", "c")]
    assert [(t.tokens, t.cost_usd) if t else None for t in tickets] == [
        (30, pytest.approx(0.01)),
        (30, pytest.approx(0.01)),
        None,
    ]
    assert a.estimates == 2 and b.estimates == 2  # once per incident, for both analysts
    for analyst, [verdict] in (("a", a_out), ("b", b_out)):
        assert verdict.analyst == analyst and verdict.incident_id == "c2"
        assert verdict.status is VerdictStatus.ERROR
        assert verdict.error == (
            "not sent: token budget exhausted: spent 60 tokens + reserved 60 for the next call "
            "would exceed the limit of 100 tokens; raise max_tokens or enable the response "
            "cache to make fewer calls (no analyst was asked about this incident, so none spent)"
        )


def test_only_payers_that_will_call_reserve() -> None:
    budget = Budget(max_tokens=100)
    a, b = Payer("a", budget), Payer("b", budget, c1=True)  # b will not call about c1
    admitted, refused = asyncio.run(admit([a, b], a, _cases("c1")))  # type: ignore[list-item]
    assert [c.id for c in admitted] == ["c1"] and refused == []
    assert budget.reserved_tokens == 30
    assert budget.claim(("c1", "b")) is None


def test_an_incident_no_payer_calls_about_is_admitted_without_reserving() -> None:
    budget = Budget(max_tokens=0)  # nothing could be reserved
    a = Payer("a", budget, c1=True)
    admitted, refused = asyncio.run(admit([a], a, _cases("c1")))  # type: ignore[list-item]
    assert [c.id for c in admitted] == ["c1"] and refused == []


def test_a_failed_decision_is_made_again_by_the_next_task() -> None:
    budget = Budget(max_tokens=100)
    flaky = Payer("a", budget)
    calls = {"n": 0}
    original = flaky.estimate

    def estimate(cases: Sequence[Incident]) -> tuple[int, float | None]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("estimator down")
        return original(cases)

    flaky.estimate = estimate  # type: ignore[method-assign]

    async def scenario() -> list[Incident]:
        with pytest.raises(RuntimeError, match="estimator down"):
            await admit([flaky], flaky, _cases("c1"))  # type: ignore[list-item]
        admitted, _ = await admit([flaky], flaky, _cases("c1"))  # type: ignore[list-item]
        return admitted

    assert [c.id for c in asyncio.run(scenario())] == ["c1"]
    assert budget.reserved_tokens == 30


# -- the budget's accounting ----------------------------------------------------------------


def _usage(tokens_in: int, tokens_out: int, cost: float | None) -> Usage:
    return Usage(calls=1, input_tokens=tokens_in, output_tokens=tokens_out, cost_usd=cost)


def test_a_reservation_is_open_until_settled_or_released() -> None:
    budget = Budget(max_tokens=1000, max_cost_usd=1.0)
    held = budget.reserve(100, 0.25)
    assert held.open and (held.tokens, held.cost_usd) == (100, 0.25)
    assert budget.reserved_tokens == 100
    held.settle(_usage(40, 10, 0.1))
    assert held.open is False
    assert (budget.spent_tokens, budget.spent_cost_usd, budget.reserved_tokens) == (
        50,
        pytest.approx(0.1),
        0,
    )
    held.release()  # closing twice gives nothing back twice
    assert budget.reserved_tokens == 0
    unpriced = budget.reserve(10, None)
    assert unpriced.cost_usd == 0.0
    unpriced.release()
    assert unpriced.open is False and budget.spent_tokens == 50


def test_held_money_counts_against_the_limit_until_closed() -> None:
    budget = Budget(max_cost_usd=1.0)
    held = budget.reserve(0, 0.6)
    with pytest.raises(BudgetExhausted, match="spent 0.6 USD \\+ reserved 0.5 for the next call"):
        budget.reserve(0, 0.5)
    assert not budget.exhausted  # what is held is not spent
    held.release()
    budget.reserve(0, 0.5).settle(_usage(0, 0, 0.4))
    budget.reserve(0, 0.6)  # 0.4 spent + 0.6 = the limit exactly: allowed


def test_reservations_add_up_and_each_gives_back_its_own_share() -> None:
    budget = Budget(max_tokens=100, max_cost_usd=1.0)
    first, second = budget.reserve(60, 0.3), budget.reserve(30, 0.2)
    assert budget.reserved_tokens == 90
    with pytest.raises(BudgetExhausted, match="spent 90 tokens \\+ reserved 20"):
        budget.reserve(20, None)
    first.release()
    assert budget.reserved_tokens == 30
    budget.reserve(0, 0.8).release()  # 0.2 still held + 0.8 = the money limit exactly
    with pytest.raises(BudgetExhausted, match="spent 0.2 USD \\+ reserved 0.81"):
        budget.reserve(0, 0.81)
    second.release()


def test_a_limit_reached_exactly_refuses_further_calls() -> None:
    budget = Budget(max_tokens=100)
    budget.record(_usage(60, 40, None))
    assert budget.exhausted
    with pytest.raises(BudgetExhausted, match="spent 100 tokens, reaching the limit of 100 tokens"):
        budget.check(0)
    assert budget.unpriced_calls == 1


def test_the_budget_describes_itself() -> None:
    budget = Budget(max_tokens=500, max_cost_usd=2.0)
    budget.record(_usage(10, 5, 0.0123456789))
    assert repr(budget) == (
        "Budget(spent_tokens=15, max_tokens=500, spent_cost_usd=0.012346, max_cost_usd=2.0)"
    )


def test_a_refusal_carries_its_figures() -> None:
    budget = Budget(max_cost_usd=0.5)
    budget.record(_usage(0, 0, 0.3))
    with pytest.raises(BudgetExhausted) as info:
        budget.reserve(0, 0.2500004)
    refusal = info.value
    assert (refusal.limit, refusal.spent, refusal.estimate, refusal.maximum) == (
        "cost_usd",
        0.3,
        0.25,  # rounded to a millionth
        0.5,
    )
    assert str(refusal) == (
        "cost budget exhausted: spent 0.3 USD + reserved 0.25 for the next call would exceed "
        "the limit of 0.5 USD; raise max_cost_usd or enable the response cache to make fewer calls"
    )


def test_limits_of_zero_are_allowed_and_negative_ones_named() -> None:
    assert Budget(max_tokens=0, max_cost_usd=0.0).exhausted
    with pytest.raises(Exception, match="max_tokens must be >= 0, got -1"):
        Budget(max_tokens=-1)
    with pytest.raises(Exception, match="max_cost_usd must be >= 0, got -0.5"):
        Budget(max_cost_usd=-0.5)
