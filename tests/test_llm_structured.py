"""Each SDK's native structured output, checked against the SDK's own request types over the
wire; clients passed in retry only through the analyst; answers are strictly typed."""

from __future__ import annotations

import asyncio
from typing import Any

import anthropic
import openai
import pytest
from anthropic.types.message_create_params import MessageCreateParamsNonStreaming
from llm_helpers import claims, scan_incident, settings
from openai.types.chat.completion_create_params import CompletionCreateParamsNonStreaming
from pydantic import TypeAdapter

from siem_consensus import Verdict, VerdictStatus
from siem_consensus.analysts import run_analyst
from siem_consensus.analysts.llm import ClaudeAnalyst, LLMAnalyst, OpenAIAnalyst
from siem_consensus.testing import Fault, ProviderSimulator

ANTHROPIC_REQUEST = TypeAdapter(MessageCreateParamsNonStreaming)
OPENAI_REQUEST = TypeAdapter(CompletionCreateParamsNonStreaming)


def _judge(analyst: LLMAnalyst) -> Verdict:
    async def go() -> Verdict:
        try:
            return await run_analyst(analyst, scan_incident(), timeout=30)
        finally:
            await analyst.aclose()

    return asyncio.run(go())


def _claude(sim: ProviderSimulator, model: str, **kwargs: Any) -> ClaudeAnalyst:
    return ClaudeAnalyst(
        model, api_key="k", base_url=sim.anthropic_base_url, settings=settings(), **kwargs
    )


@pytest.mark.parametrize(
    ("model", "mode"),
    [("claude-sonnet-5", "json_schema"), ("claude-sonnet-4-6", "json_schema")]
    + [("claude-3-5-haiku-20241022", "tool"), ("claude-opus-4-0", "tool")],
)
def test_claude_uses_json_outputs_where_the_model_has_them(
    model: str, mode: str, provider_simulator: ProviderSimulator
) -> None:
    provider_simulator.anthropic.script(claims(scan_incident()))
    analyst = _claude(provider_simulator, model)
    assert analyst.output_mode == mode
    verdict = _judge(analyst)
    assert verdict.status is VerdictStatus.OK
    [request] = provider_simulator.requests
    body = ANTHROPIC_REQUEST.validate_python(request.body)  # the SDK's own request type
    if mode == "json_schema":
        fmt = body["output_config"]["format"]
        assert fmt["type"] == "json_schema" and "tools" not in body
        assert fmt["schema"]["additionalProperties"] is False
        confidence = fmt["schema"]["properties"]["confidence"]
        assert "maximum" not in confidence and "{maximum: 1.0" in confidence["description"]
    else:
        assert body["tool_choice"] == {"type": "tool", "name": "record_verdict"}


def test_openai_strict_json_schema_matches_the_sdk_types(
    provider_simulator: ProviderSimulator,
) -> None:
    provider_simulator.openai.script(claims(scan_incident()))
    analyst = OpenAIAnalyst(
        "gpt-5.5", api_key="k", base_url=provider_simulator.openai_base_url, settings=settings()
    )
    assert _judge(analyst).status is VerdictStatus.OK
    body = OPENAI_REQUEST.validate_python(provider_simulator.requests[0].body)
    response_format: Any = body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["strict"] is True
    assert body["reasoning_effort"] == "low"


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_a_client_passed_in_does_not_retry_on_its_own(
    provider: str, provider_simulator: ProviderSimulator
) -> None:
    sim = provider_simulator
    sim.provider(provider).respond_with(lambda r: Fault.server_error(503))

    async def go() -> Verdict:
        analyst: LLMAnalyst
        if provider == "anthropic":
            client: Any = anthropic.AsyncAnthropic(
                api_key="k", base_url=sim.anthropic_base_url, max_retries=5
            )
            analyst = ClaudeAnalyst("claude-sonnet-5", client=client, settings=settings())
        else:
            client = openai.AsyncOpenAI(api_key="k", base_url=sim.openai_base_url, max_retries=5)
            analyst = OpenAIAnalyst("gpt-5.5", client=client, settings=settings())
        async with client:
            return await run_analyst(analyst, scan_incident(), timeout=30)

    verdict = asyncio.run(go())
    assert verdict.status is VerdictStatus.ERROR
    assert len(sim.requests) == settings().retry.max_attempts  # 3, not 3 x 6


@pytest.mark.parametrize(
    "bad", [{"confidence": "0.9"}, {"confidence": True}, {"is_threat": "true"}]
)
def test_answers_are_strictly_typed(
    bad: dict[str, Any], provider_simulator: ProviderSimulator
) -> None:
    provider_simulator.anthropic.script(claims(scan_incident(), **bad), claims(scan_incident()))
    verdict = _judge(_claude(provider_simulator, "claude-sonnet-5"))
    assert verdict.status is VerdictStatus.OK
    assert len(provider_simulator.requests) == 2  # the loose answer was sent back for repair
    repair = str(provider_simulator.requests[1].body)
    assert "rejected" in repair and next(iter(bad)) in repair


def _judge_two(analyst: LLMAnalyst) -> list[Verdict]:
    cases = [scan_incident(), scan_incident().model_copy(update={"id": "fw-second"})]

    async def go() -> list[Verdict]:
        try:
            return [await run_analyst(analyst, case, timeout=30) for case in cases]
        finally:
            await analyst.aclose()

    return asyncio.run(go())


def _shape(body: dict[str, Any] | None) -> str:
    body = body or {}
    return "json_schema" if "format" in body.get("output_config", {}) else "tool"


@pytest.mark.parametrize(
    ("model", "first"), [("claude-sonnet-5", "json_schema"), ("claude-9", "tool")]
)
def test_claude_falls_back_to_the_other_structured_output_on_a_400(
    model: str, first: str, provider_simulator: ProviderSimulator
) -> None:
    refused = Fault.bad_request(f"{first}: not supported on this model (simulated)")
    provider_simulator.anthropic.script(refused, claims(scan_incident()), claims(scan_incident()))
    analyst = _claude(provider_simulator, model)
    verdicts = _judge_two(analyst)
    assert [v.status for v in verdicts] == [VerdictStatus.OK, VerdictStatus.OK]
    other = "tool" if first == "json_schema" else "json_schema"
    shapes = [_shape(r.body) for r in provider_simulator.requests]
    assert shapes == [first, other, other]  # the fallback is kept for the next incident
    assert [r.status for r in provider_simulator.requests] == [400, 200, 200]
    assert verdicts[0].usage is not None and verdicts[0].usage.calls == 2
    for request in provider_simulator.requests:
        ANTHROPIC_REQUEST.validate_python(request.body)


def test_claude_falls_back_once_and_not_when_the_mode_was_chosen(
    provider_simulator: ProviderSimulator,
) -> None:
    provider_simulator.anthropic.script(*[Fault.bad_request("no (simulated)")] * 3)
    [verdict] = [_judge(_claude(provider_simulator, "claude-sonnet-5"))]
    assert verdict.status is VerdictStatus.ERROR and "HTTP 400" in (verdict.error or "")
    assert [_shape(r.body) for r in provider_simulator.requests] == ["json_schema", "tool"]
    chosen = _judge(_claude(provider_simulator, "claude-sonnet-5", output_mode="json_schema"))
    assert chosen.status is VerdictStatus.ERROR
    assert len(provider_simulator.requests) == 3  # no fallback for an explicit output_mode
