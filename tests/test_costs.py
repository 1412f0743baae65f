"""Price table lookups and the per-run token/money budget."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from siem_consensus.analysts.costs import (
    DEFAULT_PRICES,
    Budget,
    BudgetExhausted,
    ModelPrice,
    PriceTable,
)
from siem_consensus.errors import ConfigError, RuntimeFailure
from siem_consensus.models import Usage

# --- PriceTable -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("claude-sonnet-4-5", (3.0, 15.0)),
        ("claude-sonnet-4-5-20250929", (3.0, 15.0)),
        ("claude-sonnet-4-5@20250929", (3.0, 15.0)),
        ("claude-opus-4-20250514", (15.0, 75.0)),
        ("claude-opus-4-5-20251101", (5.0, 25.0)),  # longest family wins over claude-opus-4
        ("claude-haiku-4-5-20251001", (1.0, 5.0)),
        ("CLAUDE-HAIKU-4-5", (1.0, 5.0)),
        ("gpt-4o-2024-08-06", (2.5, 10.0)),
        ("gpt-4o-mini-2024-07-18", (0.15, 0.6)),
        ("gpt-5-mini-2025-08-07", (0.25, 2.0)),
        ("gpt-4.1-nano", (0.1, 0.4)),
    ],
)
def test_default_prices_match_dated_ids(model: str, expected: tuple[float, float]) -> None:
    price = DEFAULT_PRICES.price(model)
    assert price is not None and price[:2] == expected


@pytest.mark.parametrize(
    "model",
    ["gpt-5-pro", "gpt-4o-audio-preview", "claude-opus-4-9", "claude-sonnet-4-50", "llama3:8b", ""],
)
def test_unknown_models_have_no_price(model: str) -> None:
    # A sibling of a priced family is another model: never price it as the family.
    assert DEFAULT_PRICES.price(model) is None
    assert DEFAULT_PRICES.cost(model, 1000, 1000) is None


def test_cached_input_is_billed_at_the_cache_rate() -> None:
    # Sonnet 5: $2 input, $0.20 cache reads, $10 output per 1M tokens.
    full = DEFAULT_PRICES.cost("claude-sonnet-5", 1_000_000, 0)
    cached = DEFAULT_PRICES.cost("claude-sonnet-5", 1_000_000, 0, cached_input_tokens=600_000)
    assert full == pytest.approx(2.0) and cached == pytest.approx(0.4 * 2.0 + 0.6 * 0.2)
    table = PriceTable.from_mapping(
        {"a": [1, 2], "b": {"input": 1, "output": 2, "cached_input": 0}}
    )
    assert table.cost("a", 10**6, 0, cached_input_tokens=10**6) == pytest.approx(1.0)  # no rate
    assert table.cost("b", 10**6, 0, cached_input_tokens=10**6) == 0.0
    for model in DEFAULT_PRICES:
        price = DEFAULT_PRICES[model]
        assert price.cached_input_per_mtok is not None
        assert price.cached_input_per_mtok <= price.input_per_mtok


def test_cost_is_per_million_tokens() -> None:
    assert DEFAULT_PRICES.cost("claude-sonnet-4-5-20250929", 1_000_000, 0) == pytest.approx(3.0)
    assert DEFAULT_PRICES.cost("gpt-4o-mini", 2000, 500) == pytest.approx(0.0006)
    assert DEFAULT_PRICES.cost("gpt-4o-mini", 0, 0) == 0.0


def test_empty_constructor_is_the_default_table() -> None:
    assert dict(PriceTable()) == dict(DEFAULT_PRICES)
    assert len(PriceTable({})) == 0


def test_wildcard_keys_and_merging() -> None:
    table = DEFAULT_PRICES.merged({"local:*": (0, 0), "gpt-4o": (1.0, 2.0)})
    assert table.cost("local:http://127.0.0.1:8080/llama3", 500, 500) == 0.0
    assert table.price("gpt-4o-2024-11-20") == ModelPrice(1.0, 2.0)
    assert DEFAULT_PRICES.price("gpt-4o") == ModelPrice(2.5, 10.0, 1.25)  # original untouched


def test_from_mapping_accepts_pairs_and_tables() -> None:
    table = PriceTable.from_mapping(
        {"prices": {"my-model": [1, 2], "other": {"input": 0.5, "output": 1.5}}}
    )
    assert table.price("my-model-20260101") == ModelPrice(1.0, 2.0)
    assert table.price("other") == ModelPrice(0.5, 1.5)


@pytest.mark.parametrize(
    "raw",
    [[1], [1, 2, 3, 4, 5], [None, 2], [-1, 2], [1, 2, -3], ["1", 2], [True, 1], {"in": 1}, 3.0],
)
def test_from_mapping_rejects_bad_prices(raw: object) -> None:
    with pytest.raises(ConfigError, match="'m'"):
        PriceTable.from_mapping({"m": raw})


def test_from_file_toml_and_json(tmp_path: Path) -> None:
    toml = tmp_path / "prices.toml"
    toml.write_text('[prices]\n"acme-large" = { input = 4.0, output = 8.0 }\n', encoding="utf-8")
    assert PriceTable.from_file(toml).price("acme-large") == ModelPrice(4.0, 8.0)
    js = tmp_path / "prices.json"
    js.write_text(json.dumps({"acme-small": [0.1, 0.2]}), encoding="utf-8")
    assert PriceTable.from_file(js).cost("acme-small", 10**6, 10**6) == pytest.approx(0.3)


def test_from_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "prices.toml"
    bad.write_text("[prices\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"prices\.toml"):
        PriceTable.from_file(bad)
    with pytest.raises(ConfigError, match="missing.json"):
        PriceTable.from_file(tmp_path / "missing.json")
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"m": [1]}', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"wrong\.json.*'m'"):
        PriceTable.from_file(wrong)


# --- Budget ---------------------------------------------------------------------------------


def usage(inp: int, out: int, cost: float | None = None, *, cached: bool = False) -> Usage:
    return Usage(calls=1, input_tokens=inp, output_tokens=out, cost_usd=cost, cached=cached)


def test_token_budget_refuses_a_call_that_would_exceed_it() -> None:
    budget = Budget(max_tokens=1000)
    budget.check(1000)
    budget.record(usage(600, 200))
    budget.check(200)
    pattern = r"token budget exhausted: spent 800 tokens \+ reserved 201 .* limit of 1000 tokens"
    with pytest.raises(BudgetExhausted, match=pattern) as info:
        budget.check(201)
    assert isinstance(info.value, RuntimeFailure)
    assert (info.value.limit, info.value.spent, info.value.maximum) == ("tokens", 800, 1000)
    assert not budget.exhausted
    budget.record(usage(150, 50))
    assert budget.exhausted and budget.spent_tokens == 1000
    with pytest.raises(BudgetExhausted):
        budget.check()


def test_money_budget() -> None:
    budget = Budget(max_cost_usd=0.01)
    budget.record(usage(100, 100, 0.006))
    budget.check(10**9)  # the token estimate does not matter without a token limit
    budget.record(usage(100, 100, 0.005))
    assert budget.exhausted and budget.spent_cost_usd == pytest.approx(0.011)
    pattern = r"cost budget exhausted: spent 0\.011 USD, reaching the limit of 0\.01 USD"
    with pytest.raises(BudgetExhausted, match=pattern) as info:
        budget.check()
    assert info.value.limit == "cost_usd"


def test_unknown_price_counts_tokens_but_never_exhausts_money(
    caplog: pytest.LogCaptureFixture,
) -> None:
    budget = Budget(max_cost_usd=0.0001)
    with caplog.at_level(logging.WARNING, logger="siem_consensus.analysts.costs"):
        for _ in range(3):
            budget.record(usage(10_000, 10_000, None))
    assert budget.spent_tokens == 60_000 and budget.spent_cost_usd == 0
    assert budget.unpriced_calls == 3 and not budget.exhausted
    budget.check(10**9)
    warnings = [r for r in caplog.records if "no known price" in r.getMessage()]
    assert len(warnings) == 1  # once per budget


def test_cached_answers_are_free() -> None:
    budget = Budget(max_tokens=10)
    budget.record(usage(100, 100, 1.0, cached=True))
    assert budget.spent_tokens == 0 and budget.spent_cost_usd == 0


def test_unlimited_budget_only_counts() -> None:
    budget = Budget()
    budget.record(usage(5, 5, 0.5))
    budget.check(10**12)
    assert not budget.exhausted and "spent_tokens=10" in repr(budget)


def test_zero_budget_allows_nothing() -> None:
    with pytest.raises(BudgetExhausted):
        Budget(max_tokens=0).check()


def test_negative_limits_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        Budget(max_tokens=-1)
    with pytest.raises(ConfigError):
        Budget(max_cost_usd=float("nan"))


def test_budget_shared_by_many_tasks() -> None:
    budget = Budget(max_tokens=10_000)
    refused = 0

    async def analyst() -> None:
        nonlocal refused
        try:
            budget.check(100)
        except BudgetExhausted:
            refused += 1
            return
        await asyncio.sleep(0)
        budget.record(usage(60, 40, 0.001))

    async def main() -> None:
        for _ in range(3):  # waves of 50 concurrent calls
            await asyncio.gather(*(analyst() for _ in range(50)))

    asyncio.run(main())
    assert budget.spent_tokens == 10_000 and budget.spent_cost_usd == pytest.approx(0.1)
    assert refused == 50 and budget.exhausted


# --- Reservations -----------------------------------------------------------------------------


def test_reservations_count_until_settled() -> None:
    budget = Budget(max_tokens=100)
    held = budget.reserve(60, None)
    with pytest.raises(BudgetExhausted, match="spent 60 tokens \\+ reserved 50"):
        budget.reserve(50, None)  # 60 reserved + 50 > 100, although nothing is spent yet
    held.settle(usage(20, 10))
    assert (budget.spent_tokens, budget.reserved_tokens) == (30, 0)
    budget.reserve(50, None).release()
    assert (budget.spent_tokens, budget.reserved_tokens) == (30, 0)


def test_money_reservation() -> None:
    budget = Budget(max_cost_usd=0.01)
    budget.reserve(1, 0.006)
    with pytest.raises(BudgetExhausted, match="cost budget"):
        budget.reserve(1, 0.005)


def test_acquire_waits_for_calls_in_flight_then_fits_or_refuses() -> None:
    async def scenario(billed: int) -> str:
        budget = Budget(max_tokens=100)
        in_flight = budget.reserve(60, None)
        waiting = asyncio.create_task(budget.acquire([(60, None)]))
        await asyncio.sleep(0.01)
        assert not waiting.done()  # the call in flight may give tokens back: wait
        in_flight.settle(usage(billed, 0))
        try:
            [got] = await asyncio.wait_for(waiting, 1)
        except BudgetExhausted:
            return "refused"
        got.release()
        return "admitted"

    assert asyncio.run(scenario(30)) == "admitted"  # 30 spent + 60 fits in 100
    assert asyncio.run(scenario(50)) == "refused"  # 50 + 60 does not, and nothing is in flight


def test_acquire_does_not_wait_for_tickets_of_calls_not_started() -> None:
    # A ticket is held for a task that may be queued behind the one asking: waiting for it
    # could deadlock, so a request that does not fit is refused at once.
    async def scenario() -> None:
        budget = Budget(max_tokens=100)
        budget.hold(("fw-1", "openai"), budget.reserve(60, None))
        with pytest.raises(BudgetExhausted):
            await asyncio.wait_for(budget.acquire([(60, None)]), 1)
        ticket = budget.claim(("fw-1", "openai"))
        assert ticket is not None and budget.claim(("fw-1", "openai")) is None
        ticket.release()
        [got] = await budget.acquire([(60, None)])
        got.release()

    asyncio.run(scenario())


def test_acquire_is_all_or_nothing() -> None:
    async def scenario() -> None:
        budget = Budget(max_tokens=100)
        with pytest.raises(BudgetExhausted):
            await budget.acquire([(60, None), (60, None)])
        assert budget.reserved_tokens == 0

    asyncio.run(scenario())
