"""Every billed token priced at its rate, over real HTTP: Anthropic prompt-cache writes at the
cache-write rate (1.25x input), reads at the cache-read rate, and reasoning (thinking) tokens
as the output they are part of, within the output cap."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import anthropic
import pytest
from llm_helpers import claims, make_analyst, scan_incident

from siem_consensus import Verdict, VerdictStatus
from siem_consensus.analysts import run_analyst
from siem_consensus.analysts.costs import DEFAULT_PRICES, PriceTable
from siem_consensus.analysts.llm import LLMAnalyst
from siem_consensus.testing import ProviderSimulator, RecordedRequest, Reply

# claude-sonnet-4-6 and gpt-5.4-mini (the test analysts), USD per 1M tokens, written out here
# so the figures below do not come from the code under test.
SONNET = {"input": 3.00, "output": 15.00, "read": 0.30, "write": 3.75}
MINI = {"input": 0.75, "output": 4.50, "read": 0.075}


def _judge(analyst: LLMAnalyst, n: int = 1) -> list[Verdict]:
    cases = [scan_incident().model_copy(update={"id": f"fw-{k}"}) for k in range(n)]

    async def go() -> list[Verdict]:
        try:
            return [await run_analyst(analyst, case, timeout=30) for case in cases]
        finally:
            await analyst.aclose()

    return asyncio.run(go())


def _answer_tokens() -> int:
    return len(json.dumps(claims(scan_incident()), separators=(",", ":"))) // 4


def test_simulator_reports_a_cache_write_then_reads() -> None:
    with ProviderSimulator(cache_min_tokens=100) as sim:
        sim.anthropic.script("one", "two")
        system = [{"type": "text", "text": "x" * 2000, "cache_control": {"type": "ephemeral"}}]
        with anthropic.Anthropic(base_url=sim.anthropic_base_url, api_key="k") as client:
            usages = [
                client.messages.create(
                    model="claude-sonnet-4-6",
                    max_tokens=50,
                    system=system,  # type: ignore[arg-type]
                    messages=[{"role": "user", "content": "hi"}],
                ).usage
                for _ in range(2)
            ]
    first, second = usages
    assert first.cache_creation_input_tokens and first.cache_creation_input_tokens >= 500
    assert first.cache_read_input_tokens == 0
    assert second.cache_creation_input_tokens == 0
    assert second.cache_read_input_tokens == first.cache_creation_input_tokens


def test_anthropic_cache_writes_are_billed_at_the_write_rate() -> None:
    # The static prefix is ~920 simulator tokens; the minimum is lowered so it is cached.
    with ProviderSimulator(cache_min_tokens=512) as sim:
        sim.anthropic.respond_with(lambda r: claims(scan_incident()))
        first, second = (v.usage for v in _judge(make_analyst("anthropic", sim), 2))
    assert first is not None and second is not None
    written = first.cache_write_input_tokens
    assert written >= 512 and first.cached_input_tokens == 0
    assert second.cache_write_input_tokens == 0 and second.cached_input_tokens == written
    p = SONNET
    expected_first = (
        (first.input_tokens - written) * p["input"]
        + written * p["write"]
        + first.output_tokens * p["output"]
    ) / 1e6
    expected_second = (
        (second.input_tokens - written) * p["input"]
        + written * p["read"]
        + second.output_tokens * p["output"]
    ) / 1e6
    assert first.cost_usd == pytest.approx(expected_first, rel=1e-9)
    assert second.cost_usd == pytest.approx(expected_second, rel=1e-9)
    # the write surcharge is a quarter of the input rate on the written tokens
    as_plain = (first.input_tokens * p["input"] + first.output_tokens * p["output"]) / 1e6
    assert first.cost_usd - as_plain == pytest.approx(written * 0.25 * p["input"] / 1e6)


def test_every_anthropic_model_has_a_write_rate_of_one_and_a_quarter_input() -> None:
    anthropic_models = [m for m in DEFAULT_PRICES if m.startswith("claude-")]
    assert anthropic_models
    for model in anthropic_models:
        price = DEFAULT_PRICES[model]
        assert price.cache_write_input_per_mtok == pytest.approx(1.25 * price.input_per_mtok)
    assert DEFAULT_PRICES["gpt-5.5"].cache_write_input_per_mtok is None  # no write surcharge


def test_price_files_take_a_cache_write_rate() -> None:
    table = PriceTable.from_mapping(
        {"m": {"input": 1.0, "output": 2.0, "cached_input": 0.1, "cache_write_input": 1.25}}
    )
    assert table["m"].cache_write_input_per_mtok == 1.25
    cost = table.cost("m", 1000, 0, cached_input_tokens=100, cache_write_input_tokens=400)
    assert cost == pytest.approx((500 * 1.0 + 100 * 0.1 + 400 * 1.25) / 1e6)
    assert PriceTable({"m": (1.0, 2.0, None, 3.0)})["m"].cached_input_per_mtok is None


def test_the_reservation_prices_the_prefix_as_a_cache_write() -> None:
    with ProviderSimulator() as sim:
        analyst = make_analyst("anthropic", sim)
        prepared = analyst.prepare([scan_incident()])
    _tokens, dollars = prepared.amount(analyst)
    assert 0 < prepared.prefix_tokens < prepared.input_tokens
    p = SONNET
    expected = (
        (prepared.input_tokens - prepared.prefix_tokens) * p["input"]
        + prepared.prefix_tokens * p["write"]
        + prepared.output_cap * p["output"]
    ) / 1e6
    assert dollars == pytest.approx(expected, rel=1e-9)


def _reasoning(tokens: int) -> Any:
    def answer(_request: RecordedRequest) -> Reply:
        return Reply(payload=claims(scan_incident()), reasoning_tokens=tokens)

    return answer


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_reasoning_tokens_are_recorded_and_billed_as_output(provider: str) -> None:
    with ProviderSimulator() as sim:
        sim.provider(provider).respond_with(_reasoning(300))
        [verdict] = _judge(make_analyst(provider, sim, max_output_tokens=1024))
    usage = verdict.usage
    assert verdict.status is VerdictStatus.OK and usage is not None
    assert usage.reasoning_tokens == 300
    assert usage.output_tokens == 300 + _answer_tokens()
    p = SONNET if provider == "anthropic" else MINI
    written = usage.cache_write_input_tokens  # 0 here: the prefix is under the minimum
    expected = (
        (usage.input_tokens - written) * p["input"]
        + written * p.get("write", p["input"])
        + usage.output_tokens * p["output"]
    ) / 1e6
    assert usage.cost_usd == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_reasoning_that_eats_the_cap_is_retried_with_a_larger_one(provider: str) -> None:
    cap = _answer_tokens() + 50
    with ProviderSimulator() as sim:
        sim.provider(provider).respond_with(_reasoning(cap + 10))
        analyst = make_analyst(provider, sim, max_output_tokens=cap)
        [verdict] = _judge(analyst)
        caps = [
            (r.body or {}).get("max_tokens") or (r.body or {}).get("max_completion_tokens")
            for r in sim.requests
        ]
    assert caps == [cap, 2 * cap]
    usage = verdict.usage
    assert verdict.status is VerdictStatus.OK and usage is not None
    # first attempt: all `cap` tokens went to reasoning, billed; second: reasoning + answer
    assert usage.reasoning_tokens == cap + (cap + 10)
    assert usage.output_tokens == cap + (cap + 10) + _answer_tokens()


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_reasoning_past_both_caps_abstains_saying_so(provider: str) -> None:
    cap = _answer_tokens()
    with ProviderSimulator() as sim:
        sim.provider(provider).respond_with(_reasoning(5 * cap))
        [verdict] = _judge(make_analyst(provider, sim, max_output_tokens=cap))
    assert verdict.status is VerdictStatus.ABSTAINED
    assert f"truncated at max_tokens={2 * cap} ({2 * cap} of {2 * cap} tokens spent reasoning)" in (
        verdict.rationale
    )
    assert verdict.usage is not None and verdict.usage.output_tokens == 3 * cap
