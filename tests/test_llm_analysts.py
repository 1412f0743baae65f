"""Claude and OpenAI analysts over the official SDKs, against the provider simulator."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from llm_helpers import TOKEN_RE, claims, make_analyst, request_text, scan_incident

from siem_consensus import Outcome, Verdict, VerdictStatus, analyze_firewall
from siem_consensus.analysts import run_analyst
from siem_consensus.analysts.cache import ResponseCache
from siem_consensus.analysts.costs import Budget
from siem_consensus.generators.firewall import scenario_1
from siem_consensus.testing import Fault, ProviderSimulator, RecordedRequest

PROVIDERS = ["anthropic", "openai"]


def _run(provider: str, sim: ProviderSimulator, **overrides: Any) -> Verdict:
    analyst = make_analyst(provider, sim, **overrides)

    async def judge() -> Verdict:
        try:
            return await run_analyst(analyst, scan_incident(), timeout=30)
        finally:
            await analyst.aclose()

    return asyncio.run(judge())


@pytest.mark.parametrize("provider", PROVIDERS)
def test_valid_answer_becomes_a_counting_verdict(
    provider: str, provider_simulator: ProviderSimulator
) -> None:
    provider_simulator.provider(provider).script(claims(scan_incident()))
    verdict = _run(provider, provider_simulator)
    assert verdict.status is VerdictStatus.OK and verdict.is_threat and verdict.counts
    assert verdict.attack_techniques == ("T1046",)
    assert verdict.usage is not None and verdict.usage.calls == 1
    assert verdict.usage.input_tokens > 0 and verdict.usage.cost_usd is not None


@pytest.mark.parametrize("provider", PROVIDERS)
def test_identities_never_leave_and_come_back_restored(
    provider: str, provider_simulator: ProviderSimulator
) -> None:
    def answer(request: RecordedRequest) -> dict[str, Any]:
        token = TOKEN_RE.search(request_text(request.body))
        assert token is not None
        return claims(scan_incident(), rationale=f"{token.group()} scanned the server.")

    provider_simulator.provider(provider).respond_with(answer)
    verdict = _run(provider, provider_simulator)
    assert verdict.rationale == "45.95.168.200 scanned the server."
    sent = request_text(provider_simulator.requests_for(provider)[0].body)
    for raw in ("45.95.168.200", "10.1.50.10"):
        assert raw not in sent


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(
    "fault",
    [
        Fault.rate_limit(retry_after=0.05),
        Fault.server_error(500),
        Fault.server_error(503),
        Fault.malformed_json(),
    ],
    ids=["429", "500", "503", "malformed"],
)
def test_transient_faults_are_retried(
    provider: str, fault: Fault, provider_simulator: ProviderSimulator
) -> None:
    provider_simulator.provider(provider).script(fault, claims(scan_incident()))
    verdict = _run(provider, provider_simulator)
    assert verdict.status is VerdictStatus.OK
    assert verdict.usage is not None and verdict.usage.calls == 2


@pytest.mark.parametrize("provider", PROVIDERS)
def test_persistent_failure_is_an_error_verdict(
    provider: str, provider_simulator: ProviderSimulator
) -> None:
    provider_simulator.provider(provider).script(*[Fault.server_error(500)] * 3)
    verdict = _run(provider, provider_simulator)
    assert verdict.status is VerdictStatus.ERROR and verdict.is_threat is None
    assert "HTTP 500" in (verdict.error or "")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_hang_times_out_into_an_error_verdict(
    provider: str, provider_simulator: ProviderSimulator
) -> None:
    provider_simulator.provider(provider).script(Fault.hang(3))
    verdict = _run(
        provider,
        provider_simulator,
        timeout=0.3,
        retry=__import__("llm_helpers").FAST_RETRY.model_copy(update={"max_attempts": 1}),
    )
    assert verdict.status is VerdictStatus.ERROR and "timed out" in (verdict.error or "")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_refusal_is_an_abstention(provider: str, provider_simulator: ProviderSimulator) -> None:
    provider_simulator.provider(provider).script(Fault.refusal())
    verdict = _run(provider, provider_simulator)
    assert verdict.status is VerdictStatus.ABSTAINED and "refused" in verdict.rationale


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(
    "bad",
    [Fault.missing_tool_call(), Fault.invalid_payload({"is_threat": "maybe"})],
    ids=["missing-tool-call", "invalid-payload"],
)
def test_one_repair_then_success(
    provider: str, bad: Fault, provider_simulator: ProviderSimulator
) -> None:
    provider_simulator.provider(provider).script(bad, claims(scan_incident()))
    verdict = _run(provider, provider_simulator)
    assert verdict.status is VerdictStatus.OK and verdict.usage and verdict.usage.calls == 2
    second = request_text(provider_simulator.requests_for(provider)[1].body)
    assert "previous answer was rejected" in second


@pytest.mark.parametrize("provider", PROVIDERS)
def test_two_invalid_answers_abstain(provider: str, provider_simulator: ProviderSimulator) -> None:
    provider_simulator.provider(provider).script(
        Fault.invalid_payload({"is_threat": "maybe"}), Fault.invalid_payload({"nope": 1})
    )
    verdict = _run(provider, provider_simulator)
    assert verdict.status is VerdictStatus.ABSTAINED
    assert verdict.rationale.startswith("invalid output after one repair")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_unauthorised_is_not_retried(provider: str) -> None:
    with ProviderSimulator(api_key="the-real-key") as sim:
        verdict = _run(provider, sim)
        assert verdict.status is VerdictStatus.ERROR and "HTTP 401" in (verdict.error or "")
        assert len(sim.requests_for(provider)) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_recorded_requests_never_hold_the_key(
    provider: str, provider_simulator: ProviderSimulator
) -> None:
    provider_simulator.provider(provider).script(claims(scan_incident()))
    _run(provider, provider_simulator)
    for request in provider_simulator.requests:
        assert "test-key" not in request_text(request.body) + str(request.headers)


def test_budget_exhaustion_is_a_degraded_review(provider_simulator: ProviderSimulator) -> None:
    claude = make_analyst("anthropic", provider_simulator, budget=Budget(max_tokens=100))
    report = analyze_firewall(scenario_1(seed=7), input_format="asa", analysts=["rules", claude])
    decision = report.decisions[0]
    assert decision.outcome is Outcome.NEEDS_REVIEW and decision.degraded
    assert "budget" in " ".join(decision.reasons).lower()
    assert provider_simulator.requests == []


def test_cache_makes_a_rerun_free(tmp_path: Path, provider_simulator: ProviderSimulator) -> None:
    provider_simulator.anthropic.script(claims(scan_incident()))
    with ResponseCache(tmp_path / "cache.sqlite") as cache:
        first = _run("anthropic", provider_simulator, cache=cache)
        second = _run("anthropic", provider_simulator, cache=cache)
    assert first.usage and not first.usage.cached
    assert second.usage and second.usage.cached and second.usage.calls == 0
    assert second.is_threat == first.is_threat and second.rationale == first.rationale
    assert len(provider_simulator.requests) == 1


def test_below_prefilter_no_call_and_others_decide(provider_simulator: ProviderSimulator) -> None:
    claude = make_analyst("anthropic", provider_simulator, min_score=0.99)
    report = analyze_firewall(
        scenario_1(seed=7), input_format="asa", analysts=["rules", "baseline", claude]
    )
    decision = report.decisions[0]
    assert provider_simulator.requests == []
    assert decision.outcome is Outcome.ALERT
    assert any("claude not asked" in r for r in decision.reasons)


def test_claude_and_openai_agree_end_to_end(provider_simulator: ProviderSimulator) -> None:
    provider_simulator.anthropic.script(claims(scan_incident()))
    provider_simulator.openai.script(claims(scan_incident(), confidence=0.85))
    analysts = [
        make_analyst("anthropic", provider_simulator),
        make_analyst("openai", provider_simulator),
    ]
    report = analyze_firewall(scenario_1(seed=7), input_format="asa", analysts=analysts)
    decision = report.decisions[0]
    assert decision.outcome is Outcome.ALERT and decision.confidence == 0.85
    assert report.analysts == ("claude", "openai")
