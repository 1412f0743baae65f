"""Shared pieces for LLM analyst tests: a real incident and analysts wired to the simulator."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from siem_consensus import Incident, analyze_firewall
from siem_consensus.analysts.llm import ClaudeAnalyst, LLMAnalyst, LLMSettings, OpenAIAnalyst
from siem_consensus.analysts.resilience import ProviderLimits, RetryPolicy
from siem_consensus.generators.firewall import scenario_1
from siem_consensus.testing import ProviderSimulator

FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.5, jitter=0.0)
TOKEN_RE = re.compile(r"EXT-IP-[a-z0-9]+-\d{4}")


@cache
def scan_incident() -> Incident:
    """The scenario 1 port scan, as the detector produced it."""
    return analyze_firewall(scenario_1(seed=7), input_format="asa", analysts=["rules"]).incidents[0]


def settings(**overrides: Any) -> LLMSettings:
    """Fast settings for tests: quick retries, pseudonymization on. The timeout is generous
    (each attempt is bounded from when it is sent, and a loaded 2-core machine is slow);
    tests of timeouts set their own."""
    values: dict[str, Any] = {
        "retry": FAST_RETRY,
        "timeout": 10.0,
        "pseudonymize": True,
        "limits": ProviderLimits(concurrency=16),
    }
    values.update(overrides)
    return LLMSettings(**values)


def make_analyst(provider: str, sim: ProviderSimulator, **overrides: Any) -> LLMAnalyst:
    """A Claude or OpenAI analyst pointed at the simulator."""
    if provider == "anthropic":
        return ClaudeAnalyst(
            "claude-sonnet-4-6",
            api_key="test-key",
            base_url=sim.anthropic_base_url,
            settings=settings(**overrides),
        )
    return OpenAIAnalyst(
        "gpt-5.4-mini",
        api_key="test-key",
        base_url=sim.openai_base_url,
        settings=settings(**overrides),
    )


def claims(incident: Incident, **overrides: Any) -> dict[str, Any]:
    """A valid answer about ``incident``."""
    answer: dict[str, Any] = {
        "is_threat": True,
        "confidence": 0.9,
        "severity": "high",
        "category": "reconnaissance",
        "attack_techniques": ["T1046"],
        "evidence_event_ids": list(incident.evidence_event_ids[:2]),
        "rationale": "Many sensitive ports probed.",
        "attacker_goal": "find an exposed service",
        "business_impact": "precedes exploitation",
        "recommended_actions": ["Block the source at the perimeter"],
    }
    answer.update(overrides)
    return answer


def request_text(body: dict[str, Any] | None) -> str:
    """Everything a recorded request sent, as one string."""
    return json.dumps(body or {})
