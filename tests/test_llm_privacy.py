"""Pseudonymization on for every cloud analyst whatever its base URL, off only for local ones;
credentials in base URLs never reach errors, logs or reports."""

from __future__ import annotations

import asyncio
import json
import logging
import socket

import pytest
from langchain_openai import ChatOpenAI
from llm_helpers import FAST_RETRY, claims, scan_incident, settings

from siem_consensus import analyze_firewall
from siem_consensus.analysts import run_analyst
from siem_consensus.analysts.llm import (
    ChatModelAnalyst,
    ClaudeAnalyst,
    OpenAIAnalyst,
    local_analyst,
)
from siem_consensus.analysts.resilience import ProviderLimits
from siem_consensus.generators.firewall import scenario_1
from siem_consensus.testing import ProviderSimulator


def test_cloud_analysts_pseudonymize_behind_a_loopback_gateway(
    provider_simulator: ProviderSimulator,
) -> None:
    defaults = settings(pseudonymize=None)
    sim = provider_simulator
    claude = ClaudeAnalyst(api_key="k", base_url=sim.anthropic_base_url, settings=defaults)
    openai = OpenAIAnalyst(api_key="k", base_url=sim.openai_base_url, settings=defaults)
    chat = ChatOpenAI(model="gpt-5.4-mini", base_url=sim.openai_base_url, api_key="k")  # type: ignore[arg-type]
    assert claude.pseudonymize and openai.pseudonymize
    assert ChatModelAnalyst(chat, name="lc", settings=defaults).pseudonymize
    assert not local_analyst(sim.openai_base_url, defaults).pseudonymize
    assert not ChatModelAnalyst(chat, name="lc", settings=defaults, local=True).pseudonymize


def test_local_analyst_sees_identities_but_never_the_incident_id(
    provider_simulator: ProviderSimulator,
) -> None:
    incident = scan_incident()
    provider_simulator.openai.script(claims(incident))
    analyst = local_analyst(provider_simulator.openai_base_url, settings(pseudonymize=None))

    async def go() -> None:
        try:
            await run_analyst(analyst, incident, timeout=30)
        finally:
            await analyst.aclose()

    asyncio.run(go())
    sent = json.dumps(provider_simulator.requests[0].body)
    assert incident.entities.source_ips[0] in sent  # off for a model on this machine
    assert incident.id not in sent and "CASE-" in sent  # ids are aliases whatever the mode


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_credentials_in_a_base_url_never_reach_errors_logs_or_reports(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "s3cr3t-pass"
    url = f"http://gwuser:{secret}@127.0.0.1:{_closed_port()}/v1"
    limits = ProviderLimits(concurrency=4, failure_threshold=1)
    analyst = OpenAIAnalyst(
        "gpt-5.4-mini",
        api_key="k",
        base_url=url,
        settings=settings(limits=limits, retry=FAST_RETRY.model_copy(update={"max_attempts": 2})),
    )
    with caplog.at_level(logging.DEBUG):
        report = analyze_firewall(
            scenario_1(seed=7), input_format="asa", analysts=["rules", analyst]
        )
    errors = [v.error for d in report.decisions for v in d.verdicts if v.error]
    assert errors and all(d.degraded for d in report.decisions)
    assert secret not in report.to_json()
    assert secret not in caplog.text and "gwuser" not in caplog.text
    assert "circuit opened" in caplog.text and "http://***@127.0.0.1" in caplog.text
    assert analyst.limits_key.startswith("openai:http://***@127.0.0.1")
    assert "pseudonymization: openai on" in report.analysts_note
