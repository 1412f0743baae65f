"""ChatModelAnalyst with the real langchain integrations, over HTTP to the simulator."""

from __future__ import annotations

import asyncio

from langchain_anthropic import ChatAnthropic
from langchain_openai import ChatOpenAI
from llm_helpers import claims, scan_incident, settings

from siem_consensus import Verdict, VerdictStatus
from siem_consensus.analysts import run_analyst
from siem_consensus.analysts.llm import ChatModelAnalyst
from siem_consensus.testing import Fault, ProviderSimulator


def _judge(analyst: ChatModelAnalyst) -> Verdict:
    return asyncio.run(run_analyst(analyst, scan_incident(), timeout=30))


def test_chat_openai(provider_simulator: ProviderSimulator) -> None:
    provider_simulator.openai.script(claims(scan_incident(), confidence=0.8))
    model = ChatOpenAI(
        model="gpt-5.4-mini",
        base_url=provider_simulator.openai_base_url,
        api_key="test-key",
        max_retries=0,
    )  # type: ignore[arg-type]
    verdict = _judge(ChatModelAnalyst(model, name="lc-openai", settings=settings()))
    assert verdict.status is VerdictStatus.OK and verdict.confidence == 0.8
    assert verdict.usage is not None and verdict.usage.input_tokens > 0


def test_chat_anthropic(provider_simulator: ProviderSimulator) -> None:
    provider_simulator.anthropic.script(claims(scan_incident()))
    model = ChatAnthropic(
        model="claude-sonnet-4-6",  # type: ignore[call-arg]
        base_url=provider_simulator.anthropic_base_url,
        api_key="test-key",
        max_retries=0,
    )  # type: ignore[arg-type]
    verdict = _judge(ChatModelAnalyst(model, name="lc-claude", settings=settings()))
    assert verdict.status is VerdictStatus.OK and verdict.is_threat
    body = provider_simulator.requests_for("anthropic")[0].body or {}
    assert body.get("tool_choice", {}).get("type") in {"tool", "any"}


def test_chat_model_failure_is_an_error_verdict(provider_simulator: ProviderSimulator) -> None:
    provider_simulator.openai.script(*[Fault.server_error(500)] * 3)
    model = ChatOpenAI(
        model="gpt-5.4-mini",
        base_url=provider_simulator.openai_base_url,
        api_key="test-key",
        max_retries=0,
    )  # type: ignore[arg-type]
    verdict = _judge(ChatModelAnalyst(model, name="lc-openai", settings=settings()))
    assert verdict.status is VerdictStatus.ERROR
    assert len(provider_simulator.requests_for("openai")) == 3
