"""Output caps scale with the batch; a truncated answer gets one retry with a larger cap, then
an abstention saying why; reasoning effort is sent only to models that take it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from llm_helpers import claims, make_analyst, scan_incident

from siem_consensus import Incident, Severity, Verdict, VerdictStatus
from siem_consensus.analysts import run_analyst, run_analyst_batch
from siem_consensus.analysts.llm import ClaudeAnalyst, VerdictClaims
from siem_consensus.testing import ProviderSimulator, RecordedRequest

PROVIDERS = ["anthropic", "openai"]


def _cap(request: RecordedRequest) -> int:
    body = request.body or {}
    return int(body.get("max_tokens") or body.get("max_completion_tokens") or 0)


def _answer_tokens() -> int:
    return len(json.dumps(claims(scan_incident()), separators=(",", ":"))) // 4


def _judge(analyst: Any, cases: list[Incident]) -> list[Verdict]:
    async def go() -> list[Verdict]:
        try:
            if len(cases) == 1:
                return [await run_analyst(analyst, cases[0], timeout=30)]
            return await run_analyst_batch(analyst, cases, timeout=30)
        finally:
            await analyst.aclose()

    return asyncio.run(go())


@pytest.mark.parametrize("provider", PROVIDERS)
def test_simulator_truncates_at_max_tokens(
    provider: str, provider_simulator: ProviderSimulator
) -> None:
    provider_simulator.provider(provider).respond_with(lambda r: claims(scan_incident()))
    cap = _answer_tokens() // 3
    [verdict] = _judge(
        make_analyst(provider, provider_simulator, max_output_tokens=cap), [scan_incident()]
    )
    assert verdict.status is VerdictStatus.ABSTAINED
    assert f"truncated at max_tokens={2 * cap} even after one retry" in verdict.rationale
    assert [_cap(r) for r in provider_simulator.requests] == [cap, 2 * cap]
    assert verdict.usage is not None and verdict.usage.output_tokens == cap + 2 * cap


@pytest.mark.parametrize("provider", PROVIDERS)
def test_one_retry_with_a_larger_cap_recovers(
    provider: str, provider_simulator: ProviderSimulator
) -> None:
    provider_simulator.provider(provider).respond_with(lambda r: claims(scan_incident()))
    cap = _answer_tokens() * 2 // 3
    analyst = make_analyst(provider, provider_simulator, max_output_tokens=cap)
    [verdict] = _judge(analyst, [scan_incident()])
    assert verdict.status is VerdictStatus.OK and verdict.usage is not None
    assert verdict.usage.calls == 2
    assert [_cap(r) for r in provider_simulator.requests] == [cap, 2 * cap]


def test_the_cap_scales_with_the_cases_of_a_batch(provider_simulator: ProviderSimulator) -> None:
    def answer(request: RecordedRequest) -> dict[str, Any]:
        import re

        ids = dict.fromkeys(re.findall(r"CASE-[a-z0-9]+-\d{4}", json.dumps(request.body)))
        return {"verdicts": [{**claims(scan_incident()), "incident_id": i} for i in ids]}

    provider_simulator.openai.respond_with(answer)
    base = scan_incident()
    cases = [base.model_copy(update={"id": f"fw-{k}", "severity": Severity.LOW}) for k in range(3)]
    analyst = make_analyst("openai", provider_simulator, batch_size=3, max_output_tokens=300)
    verdicts = _judge(analyst, cases)
    assert all(v.status is VerdictStatus.OK for v in verdicts)
    [request] = provider_simulator.requests
    assert _cap(request) == 900


@pytest.mark.parametrize(
    ("model", "sent"),
    [("claude-sonnet-5", "low"), ("claude-opus-4-7", "low")]
    + [("claude-sonnet-4-6", None), ("claude-opus-4-1", None), ("claude-3-5-haiku", None)],
)
def test_claude_effort_only_where_supported(
    model: str, sent: str | None, provider_simulator: ProviderSimulator
) -> None:
    analyst = ClaudeAnalyst(model, api_key="k", base_url=provider_simulator.anthropic_base_url)
    request = analyst.build_request("s", "u", VerdictClaims, 10)
    assert request.get("output_config", {}).get("effort") == sent


def test_openai_reasoning_effort_is_sent(provider_simulator: ProviderSimulator) -> None:
    provider_simulator.openai.script(claims(scan_incident()))
    _judge(make_analyst("openai", provider_simulator), [scan_incident()])
    body = provider_simulator.requests[0].body or {}
    assert body["reasoning_effort"] == "low"
