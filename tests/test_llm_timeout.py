"""The analyst timeout bounds each provider call from when it is sent, not the wait for a
provider slot; it is set per run (``RunArgs.analyst_timeout``, ``--analyst-timeout``) and over
real HTTP a call slower than it becomes an error verdict, hence a degraded needs_review."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from llm_helpers import FAST_RETRY, claims, scan_incident, settings

from siem_consensus import Outcome, VerdictStatus, analyze_firewall
from siem_consensus.analysts import run_analyst
from siem_consensus.analysts.llm import OpenAIAnalyst
from siem_consensus.analysts.resilience import ProviderLimits
from siem_consensus.cli import main
from siem_consensus.errors import UsageError
from siem_consensus.generators.firewall import SCAN_PORTS, asa_deny
from siem_consensus.testing import Fault, ProviderSimulator, RecordedRequest, Reply

ONE_ATTEMPT = FAST_RETRY.model_copy(update={"max_attempts": 1})


def _scans(n: int) -> list[str]:
    """ASA deny lines: ``n`` external hosts each scanning the sensitive ports of a server."""
    start = datetime(2026, 1, 18, 8, tzinfo=UTC)
    lines = []
    for i in range(n):
        for attempt in range(15):
            for k, port in enumerate(SCAN_PORTS):
                ts = start + timedelta(minutes=i * 40, seconds=attempt * 60 + k * 2)
                src = ("outside", f"45.95.{i}.7", 40000 + attempt)
                lines.append(asa_deny(ts, "tcp", src, ("inside", f"10.1.50.{i + 1}", port), "in"))
    return sorted(lines)


def _slow(seconds: float) -> Any:
    def answer(_request: RecordedRequest) -> Reply:
        return Reply(payload=claims(scan_incident(), evidence_event_ids=[]), latency=seconds)

    return answer


def _warm_up(sim: ProviderSimulator) -> None:
    """One call first: the SDK imports its resources lazily, on the first request."""
    import openai

    sim.openai.script("ok")
    with openai.OpenAI(base_url=sim.openai_base_url, api_key="k") as client:
        client.chat.completions.create(
            model="gpt-5.5", messages=[{"role": "user", "content": "hi"}]
        )


@pytest.fixture
def sim_env(monkeypatch: pytest.MonkeyPatch) -> Any:
    with ProviderSimulator() as sim:
        for name, value in sim.environ().items():
            monkeypatch.setenv(name, value)
        yield sim


def test_queued_calls_each_within_the_timeout_all_succeed(sim_env: ProviderSimulator) -> None:
    # One provider slot, answers taking 1 s, 6 incidents sent at once: the last one waits 5 s
    # or more for its slot. Each call is well within the 4 s timeout once sent (the margin
    # absorbs a loaded machine), so all must succeed, with one attempt each (no retry may
    # rescue a timeout); a timeout that counted the queue would fail the later ones.
    _warm_up(sim_env)
    sim_env.openai.respond_with(_slow(1.0))
    llm = settings(
        limits=ProviderLimits(concurrency=1), batch_size=1, retry=ONE_ATTEMPT, timeout=0.05
    )
    started = time.perf_counter()
    report = analyze_firewall(
        _scans(6),
        input_format="asa",
        analysts="rules,openai",
        llm_settings=llm,
        analyst_timeout=4.0,  # overrides the 0.05 s of llm_settings for analysts given by name
    )
    elapsed = time.perf_counter() - started
    verdicts = [v for d in report.decisions for v in d.verdicts if v.analyst == "openai"]
    assert len(verdicts) == 6
    assert all(v.status is VerdictStatus.OK for v in verdicts), [v.error for v in verdicts]
    assert not any(d.degraded for d in report.decisions)
    assert elapsed > 6 * 1.0  # the calls really queued behind one slot
    assert len(sim_env.requests_for("openai")) == 7  # the warm-up and one each


def test_a_call_slower_than_the_timeout_is_a_degraded_needs_review(
    sim_env: ProviderSimulator,
) -> None:
    sim_env.openai.respond_with(_slow(1.5))
    report = analyze_firewall(
        _scans(1),
        input_format="asa",
        analysts="rules,openai",
        llm_settings=settings(retry=ONE_ATTEMPT, timeout=30.0),
        analyst_timeout=0.4,
    )
    [decision] = report.decisions
    [verdict] = [v for v in decision.verdicts if v.analyst == "openai"]
    assert verdict.status is VerdictStatus.ERROR and verdict.is_threat is None
    assert "timed out" in (verdict.error or "")
    assert decision.outcome is Outcome.NEEDS_REVIEW and decision.degraded


def test_the_deadline_holds_even_when_the_sdk_would_wait_longer(
    provider_simulator: ProviderSimulator,
) -> None:
    # A client passed in keeps its own (long) HTTP timeout; the analyst's deadline still binds.
    import openai

    provider_simulator.openai.script(Fault.hang(5))
    client = openai.AsyncOpenAI(
        base_url=provider_simulator.openai_base_url, api_key="k", timeout=30.0
    )
    analyst = OpenAIAnalyst(
        "gpt-5.4-mini", client=client, settings=settings(retry=ONE_ATTEMPT, timeout=0.3)
    )

    async def go() -> Any:
        try:
            return await run_analyst(analyst, scan_incident(), timeout=None)
        finally:
            await client.close()

    started = time.perf_counter()
    verdict = asyncio.run(go())
    assert time.perf_counter() - started < 3
    assert verdict.status is VerdictStatus.ERROR
    assert "timed out: no answer within 0.3s of sending" in (verdict.error or "")


@pytest.mark.parametrize("bad", [0, -1.0, float("inf"), "5"])
def test_analyst_timeout_must_be_positive_seconds(bad: Any) -> None:
    with pytest.raises(UsageError, match="analyst_timeout must be a positive number"):
        analyze_firewall(_scans(1), input_format="asa", analyst_timeout=bad)


def test_cli_flag_and_defaults_table(
    sim_env: ProviderSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sim_env.openai.respond_with(_slow(1.0))
    log = tmp_path / "asa.log"
    log.write_text("\n".join(_scans(1)) + "\n")
    base = ["firewall", str(log), "--analysts", "rules,openai", "--no-cache", "-q"]
    base += ["--format", "json", "-o", str(tmp_path / "r.json"), "--fail-on", "degraded"]
    # 4 attempts of 0.2 s plus backoff: an error verdict, a degraded decision, exit 4.
    assert main([*base, "--analyst-timeout", "0.2"]) == 4
    report = (tmp_path / "r.json").read_text()
    assert "timed out: no answer within 0.2s" in report
    config = tmp_path / "siem-consensus.toml"
    config.write_text("[defaults]\nanalyst-timeout = 0.2\n")
    assert main([*base, "--connectors", str(config)]) == 4
    assert "timed out: no answer within 0.2s" in (tmp_path / "r.json").read_text()
    with pytest.raises(SystemExit) as bad:
        main([*base, "--analyst-timeout", "-3"])
    assert bad.value.code == 2
    assert "a timeout is a positive number of seconds" in capsys.readouterr().err


def test_help_shows_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["firewall", "--help"])
    out = capsys.readouterr().out
    assert "--analyst-timeout SECONDS" in out and "provider slot" in out
