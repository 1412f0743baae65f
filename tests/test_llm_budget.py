"""Budgets that bind, over real HTTP: reserve before a call, settle every billed attempt,
and an incident gets all its analysts or none."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from llm_helpers import claims, make_analyst, scan_incident

from siem_consensus import Outcome, VerdictStatus, analyze_firewall
from siem_consensus.analysts import run_analyst
from siem_consensus.analysts.costs import DEFAULT_PRICES, Budget, PriceTable
from siem_consensus.analysts.llm import DEFAULT_MODELS, LLMAnalyst, OpenAIAnalyst
from siem_consensus.errors import ConfigError
from siem_consensus.generators.firewall import SCAN_PORTS, asa_deny
from siem_consensus.testing import Fault, ProviderSimulator, RecordedRequest


def _answer(_request: RecordedRequest) -> dict[str, Any]:
    return claims(scan_incident(), evidence_event_ids=[])


def _run(analyst: LLMAnalyst, n: int) -> list[Any]:
    cases = [scan_incident().model_copy(update={"id": f"fw-{k}"}) for k in range(n)]

    async def go() -> list[Any]:
        try:
            return await asyncio.gather(*(run_analyst(analyst, c, timeout=30) for c in cases))
        finally:
            await analyst.aclose()

    return asyncio.run(go())


def test_every_default_model_is_priced() -> None:
    for model in DEFAULT_MODELS.values():
        assert DEFAULT_PRICES.price(model) is not None, model


def test_money_budget_with_an_unpriced_model_is_refused_at_start(
    provider_simulator: ProviderSimulator,
) -> None:
    budget = Budget(max_cost_usd=2.0)
    kwargs: dict[str, Any] = {"api_key": "k", "base_url": provider_simulator.openai_base_url}
    with pytest.raises(ConfigError, match=r"'my-model' has no price.*DEFAULT_PRICES.merged"):
        OpenAIAnalyst("my-model", settings=_settings(budget=budget), **kwargs)
    priced = DEFAULT_PRICES.merged({"my-model": (1.0, 4.0)})
    OpenAIAnalyst("my-model", settings=_settings(budget=budget, prices=priced), **kwargs)
    OpenAIAnalyst("my-model", settings=_settings(budget=Budget(max_tokens=10)), **kwargs)


def _settings(**overrides: Any) -> Any:
    from llm_helpers import settings

    return settings(**overrides)


@pytest.mark.parametrize("limit", ["tokens", "usd"])
def test_16_concurrent_calls_overshoot_at_most_one_reservation(limit: str) -> None:
    # Each call is ~1,700 input + 1,024 reserved output tokens; the limit fits about 4 calls,
    # so 16 calls checked without reserving (all before any usage is known) would spend 4x.
    budget = Budget(max_tokens=12_000) if limit == "tokens" else Budget(max_cost_usd=0.03)
    with ProviderSimulator(latency=0.2) as sim:
        sim.openai.respond_with(_answer)
        analyst = make_analyst("openai", sim, budget=budget)
        verdicts = _run(analyst, 16)
        calls = len(sim.requests)
    one_reservation = analyst.estimate([scan_incident()])
    ok = sum(v.status is VerdictStatus.OK for v in verdicts)
    refused = [v for v in verdicts if v.status is VerdictStatus.ERROR]
    assert 0 < ok == calls < 16 and len(refused) == 16 - calls
    assert all("budget exhausted" in (v.error or "") for v in refused)
    if limit == "tokens":
        assert budget.max_tokens is not None
        assert budget.spent_tokens <= budget.max_tokens + one_reservation[0]
    else:
        assert budget.max_cost_usd is not None and one_reservation[1] is not None
        assert budget.spent_cost_usd <= budget.max_cost_usd + one_reservation[1]
    assert budget.reserved_tokens == 0  # everything settled or released


def test_every_billed_attempt_is_counted(provider_simulator: ProviderSimulator) -> None:
    budget = Budget(max_tokens=10**7)
    provider_simulator.anthropic.script(Fault.invalid_payload(), _answer(None))  # type: ignore[arg-type]
    [verdict] = _run(make_analyst("anthropic", provider_simulator, budget=budget), 1)
    assert verdict.status is VerdictStatus.OK and verdict.usage is not None
    assert verdict.usage.calls == 2
    assert budget.spent_tokens == verdict.usage.input_tokens + verdict.usage.output_tokens
    first, repair = provider_simulator.requests
    assert verdict.usage.input_tokens > 2 * _input_tokens(first) - 50  # both inputs billed
    assert _input_tokens(repair) > _input_tokens(first)


def test_a_failed_repair_still_counts_the_first_attempt(
    provider_simulator: ProviderSimulator,
) -> None:
    budget = Budget(max_tokens=10**7)
    provider_simulator.openai.script(Fault.invalid_payload(), *[Fault.server_error(500)] * 3)
    [verdict] = _run(make_analyst("openai", provider_simulator, budget=budget), 1)
    assert verdict.status is VerdictStatus.ERROR  # the repair call failed
    assert budget.spent_tokens >= _input_tokens(provider_simulator.requests[0])
    assert budget.reserved_tokens == 0


def _input_tokens(request: RecordedRequest) -> int:
    import json

    return len(json.dumps(request.body, separators=(",", ":"))) // 4


def _scans(n: int) -> list[str]:
    """ASA deny lines: ``n`` external hosts each scanning the 13 sensitive ports of a server."""
    start = datetime(2026, 1, 18, 8, tzinfo=UTC)
    lines = []
    for i in range(n):
        for attempt in range(15):
            for k, port in enumerate(SCAN_PORTS):
                ts = start + timedelta(minutes=i * 40, seconds=attempt * 60 + k * 2)
                src = ("outside", f"45.95.{i}.7", 40000 + attempt)
                lines.append(asa_deny(ts, "tcp", src, ("inside", f"10.1.50.{i + 1}", port), "in"))
    return sorted(lines)


def test_an_incident_gets_all_its_analysts_or_none() -> None:
    # Claude and OpenAI share a budget that fits some incidents, not all. Tasks are fanned
    # out analyst by analyst; without admission per incident the first analyst's tasks could
    # take the whole budget and leave every incident with one verdict of two.
    budget = Budget(max_cost_usd=0.08)
    prices = PriceTable({"claude-sonnet-4-6": (3.0, 15.0), "gpt-5.4-mini": (0.75, 4.5)})
    with ProviderSimulator(latency=0.05) as sim:
        sim.anthropic.respond_with(_answer)
        sim.openai.respond_with(_answer)
        analysts = [
            make_analyst(p, sim, budget=budget, prices=prices) for p in ("anthropic", "openai")
        ]
        report = analyze_firewall(_scans(12), input_format="asa", analysts=["rules", *analysts])
        requests = sim.requests
    assert len(report.incidents) == 12
    complete = refused = 0
    for decision in report.decisions:
        llm = [v for v in decision.verdicts if v.analyst in ("claude", "openai")]
        statuses = {v.status for v in llm}
        assert len(llm) == 2 and len(statuses) == 1, decision.verdicts  # both or neither
        if statuses == {VerdictStatus.OK}:
            complete += 1
        else:
            refused += 1
            assert decision.outcome is Outcome.NEEDS_REVIEW and decision.degraded
            assert all("no analyst was asked" in (v.error or "") for v in llm)
    assert complete > 0 and refused > 0
    assert len(requests) == 2 * complete  # a refused incident cost nothing
    assert budget.spent_cost_usd <= 0.08
