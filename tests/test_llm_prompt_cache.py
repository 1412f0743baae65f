"""Cache-friendly prompts: a static prefix the provider caches, cached input recorded in Usage
and billed at the cache rate (the simulator caches prefixes as the providers do)."""

from __future__ import annotations

import asyncio

import pytest
from llm_helpers import claims, make_analyst, scan_incident

from siem_consensus import Verdict
from siem_consensus.analysts import run_analyst
from siem_consensus.analysts.costs import DEFAULT_PRICES
from siem_consensus.analysts.llm import LLMAnalyst
from siem_consensus.testing import ProviderSimulator


def _judge_twice(analyst: LLMAnalyst) -> list[Verdict]:
    first, second = scan_incident(), scan_incident().model_copy(update={"id": "fw-other"})

    async def go() -> list[Verdict]:
        try:
            return [await run_analyst(analyst, case, timeout=30) for case in (first, second)]
        finally:
            await analyst.aclose()

    return asyncio.run(go())


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_the_static_prefix_is_cached_from_the_second_call(provider: str) -> None:
    # Our prefix (system prompt + schema) is ~920 tokens at the simulator's 4 characters a
    # token, under the providers' 1,024 minimum; real tokenizers count more (Sonnet 5's about
    # 40% more), so the simulator's minimum is lowered here to exercise the cached path.
    with ProviderSimulator(cache_min_tokens=512) as provider_simulator:
        provider_simulator.provider(provider).respond_with(lambda r: claims(scan_incident()))
        analyst = make_analyst(provider, provider_simulator)
        first, second = (v.usage for v in _judge_twice(analyst))
        body = provider_simulator.requests[0].body or {}
    assert first is not None and second is not None
    assert first.cached_input_tokens == 0 and second.cached_input_tokens >= 512
    assert second.cached_input_tokens < second.input_tokens  # the case itself is never cached
    uncached = DEFAULT_PRICES.cost(analyst.model, second.input_tokens, second.output_tokens)
    assert second.cost_usd == pytest.approx(
        DEFAULT_PRICES.cost(
            analyst.model,
            second.input_tokens,
            second.output_tokens,
            cached_input_tokens=second.cached_input_tokens,
        )
    )
    assert second.cost_usd is not None and uncached is not None
    assert second.cost_usd < uncached
    if provider == "anthropic":
        assert body["system"][0]["cache_control"] == {"type": "ephemeral"}


def test_short_prefixes_are_not_cached(provider_simulator: ProviderSimulator) -> None:
    import anthropic

    provider_simulator.anthropic.script("one", "two")
    system = [{"type": "text", "text": "short", "cache_control": {"type": "ephemeral"}}]
    with anthropic.Anthropic(
        base_url=provider_simulator.anthropic_base_url, api_key="k", max_retries=0
    ) as client:
        for _ in range(2):
            message = client.messages.create(
                model="claude-sonnet-5",
                max_tokens=50,
                system=system,  # type: ignore[arg-type]
                messages=[{"role": "user", "content": "hi"}],
            )
            assert message.usage.cache_read_input_tokens == 0
            assert message.usage.cache_creation_input_tokens == 0
