"""Severity tiers: high/critical judged alone and first, low/medium batched per call."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from llm_helpers import claims, make_analyst, request_text, scan_incident

from siem_consensus import Incident, Severity, Verdict, VerdictStatus
from siem_consensus.analysts import run_analyst_batch
from siem_consensus.graphs.nodes import _tasks
from siem_consensus.testing import ProviderSimulator, RecordedRequest


def _cases(n: int, severity: Severity = Severity.MEDIUM) -> list[Incident]:
    base = scan_incident()
    return [base.model_copy(update={"id": f"fw-{k}", "severity": severity}) for k in range(n)]


def _judge(analyst: Any, cases: list[Incident]) -> list[Verdict]:
    async def go() -> list[Verdict]:
        try:
            return await run_analyst_batch(analyst, cases, timeout=30)
        finally:
            await analyst.aclose()

    return asyncio.run(go())


def _batch_answer(request: RecordedRequest, drop: int | None = None) -> dict[str, Any]:
    """One verdict per case alias seen in the request (the real ids are never sent)."""
    text = request_text(request.body)
    assert "fw-0" not in text
    ids = list(dict.fromkeys(re.findall(r"CASE-[a-z0-9]+-\d{4}", text)))
    answer = claims(scan_incident())
    return {"verdicts": [{**answer, "incident_id": i} for n, i in enumerate(ids) if n != drop]}


def test_three_medium_incidents_take_one_call(provider_simulator: ProviderSimulator) -> None:
    provider_simulator.anthropic.respond_with(_batch_answer)
    analyst = make_analyst("anthropic", provider_simulator, batch_size=4)
    verdicts = _judge(analyst, _cases(3))
    assert [v.incident_id for v in verdicts] == ["fw-0", "fw-1", "fw-2"]
    assert all(v.status is VerdictStatus.OK for v in verdicts)
    assert len(provider_simulator.requests) == 1
    usages = [v.usage for v in verdicts if v.usage is not None]
    assert sum(u.calls for u in usages) == 1 and usages[0].input_tokens > 0


def test_a_case_missing_from_the_batch_answer_abstains(
    provider_simulator: ProviderSimulator,
) -> None:
    provider_simulator.openai.respond_with(lambda r: _batch_answer(r, drop=1))
    analyst = make_analyst("openai", provider_simulator, batch_size=4)
    verdicts = _judge(analyst, _cases(3))
    assert [v.status for v in verdicts] == [
        VerdictStatus.OK,
        VerdictStatus.ABSTAINED,
        VerdictStatus.OK,
    ]
    assert "no verdict for incident(s) fw-1" in verdicts[1].rationale
    assert len(provider_simulator.requests) == 2  # one repair


def test_fan_out_sends_high_tiers_alone_first_and_batches_the_rest(
    provider_simulator: ProviderSimulator,
) -> None:
    analyst = make_analyst("anthropic", provider_simulator, batch_size=2)
    incidents = [
        *(i.model_dump(mode="json") for i in _cases(3, Severity.LOW)),
        scan_incident().model_copy(update={"id": "fw-high"}).model_dump(mode="json"),
    ]
    sends = _tasks(incidents, analyst)
    assert sends[0].arg["incident"]["id"] == "fw-high"
    assert [len(s.arg["incidents"]) for s in sends[1:]] == [2, 1]


def test_without_batching_every_incident_is_its_own_task(
    provider_simulator: ProviderSimulator,
) -> None:
    analyst = make_analyst("anthropic", provider_simulator, batch_size=1)
    sends = _tasks([i.model_dump(mode="json") for i in _cases(3, Severity.LOW)], analyst)
    assert all("incident" in s.arg for s in sends) and len(sends) == 3


def test_low_tiers_are_batched_by_default(provider_simulator: ProviderSimulator) -> None:
    """The default batch of 16 is what keeps the AIT-ADS cost under $2 (docs/llm.md)."""
    analyst = make_analyst("anthropic", provider_simulator)
    sends = _tasks([i.model_dump(mode="json") for i in _cases(20, Severity.MEDIUM)], analyst)
    assert [len(s.arg["incidents"]) for s in sends] == [16, 4]


def test_fan_out_interleaves_analysts_incident_by_incident(
    provider_simulator: ProviderSimulator,
) -> None:
    from siem_consensus.analysts.llm import OpenAIAnalyst
    from siem_consensus.graphs.nodes import make_fan_out

    claude = make_analyst("anthropic", provider_simulator)
    openai = OpenAIAnalyst(
        "gpt-5.4-mini", api_key="k", base_url=provider_simulator.openai_base_url, name="gpt"
    )
    incidents = [i.model_dump(mode="json") for i in _cases(3, Severity.HIGH)]
    sends = make_fan_out([claude, openai])({"incidents": incidents})
    assert isinstance(sends, list)
    order = [(s.arg["analyst"], s.arg["incident"]["id"]) for s in sends]
    assert order == [
        ("claude", "fw-0"), ("gpt", "fw-0"), ("claude", "fw-1"), ("gpt", "fw-1"),
        ("claude", "fw-2"), ("gpt", "fw-2"),
    ]  # fmt: skip
