"""The response cache key is the request as sent: every setting that changes the request
misses, an identical rerun (new pseudonyms, same input) hits."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from llm_helpers import claims, make_analyst, scan_incident

from siem_consensus import Verdict
from siem_consensus.analysts import run_analyst
from siem_consensus.analysts.cache import ResponseCache
from siem_consensus.analysts.llm import LLMAnalyst, OpenAIAnalyst
from siem_consensus.testing import ProviderSimulator


def _judge(analyst: LLMAnalyst) -> Verdict:
    async def go() -> Verdict:
        try:
            return await run_analyst(analyst, scan_incident(), timeout=30)
        finally:
            await analyst.aclose()

    return asyncio.run(go())


@pytest.mark.parametrize(
    "change",
    [
        {"max_output_tokens": 512},
        {"max_prompt_tokens": 1200},
        {"pseudonymize": False},
        {"reasoning_effort": "medium"},
        {"reasoning_effort": None},
    ],
)
def test_each_request_setting_is_in_the_key(
    change: dict[str, Any], tmp_path: Path, provider_simulator: ProviderSimulator
) -> None:
    provider_simulator.openai.respond_with(lambda r: claims(scan_incident()))
    with ResponseCache(tmp_path / "c.sqlite") as cache:
        first = _judge(make_analyst("openai", provider_simulator, cache=cache))
        again = _judge(make_analyst("openai", provider_simulator, cache=cache))
        changed = _judge(make_analyst("openai", provider_simulator, cache=cache, **change))
    assert first.usage and not first.usage.cached
    assert again.usage and again.usage.cached  # same request, new random pseudonyms: a hit
    assert changed.usage and not changed.usage.cached
    assert len(provider_simulator.requests) == 2


def test_model_and_base_url_are_in_the_key(
    tmp_path: Path, provider_simulator: ProviderSimulator
) -> None:
    provider_simulator.openai.respond_with(lambda r: claims(scan_incident()))
    url = provider_simulator.openai_base_url
    other_url = url.replace("127.0.0.1", "localhost")
    with ResponseCache(tmp_path / "c.sqlite") as cache:
        for model, base_url in [("gpt-5.4-mini", url), ("gpt-5.4", url), ("gpt-5.4", other_url)]:
            settings = make_analyst("openai", provider_simulator, cache=cache).settings
            analyst = OpenAIAnalyst(model, api_key="k", base_url=base_url, settings=settings)
            verdict = _judge(analyst)
            assert verdict.usage is not None and not verdict.usage.cached
    assert len(provider_simulator.requests) == 3


def test_stored_answers_hold_pseudonyms_not_identities(
    tmp_path: Path, provider_simulator: ProviderSimulator
) -> None:
    incident = scan_incident()
    source = incident.entities.source_ips[0]

    def answer(request: Any) -> dict[str, Any]:
        import json
        import re

        token = re.findall(r"EXT-IP-[a-z0-9]+-\d{4}", json.dumps(request.body))[0]
        return claims(incident, rationale=f"{token} scanned us")

    provider_simulator.openai.respond_with(answer)
    with ResponseCache(tmp_path / "c.sqlite") as cache:
        first = _judge(make_analyst("openai", provider_simulator, cache=cache))
        second = _judge(make_analyst("openai", provider_simulator, cache=cache))
    assert first.rationale == second.rationale == f"{source} scanned us"
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("c.sqlite*"))  # WAL included
    assert b"scanned us" in stored and source.encode() not in stored
