"""Per-provider rate limits of a whole stream job, split across its workers (stream/_rate.py).

Without a broker: the pacing arithmetic, and two "workers" (two threads, each with its own
event loop, limits and OpenAI analyst) talking over real HTTP to the provider simulator, whose
recorded arrival times are counted. With a broker, two worker processes:
``test_stream_rate_workers.py``.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime
from typing import Any

import httpx
import pytest
from llm_helpers import claims, scan_incident

from siem_consensus.analysts.resilience import ProviderLimits
from siem_consensus.cli import main
from siem_consensus.errors import ConfigError
from siem_consensus.stream import StreamSettings
from siem_consensus.stream._rate import GroupRateLimits, Pace
from siem_consensus.testing import ProviderSimulator, RecordedRequest


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_pace_spaces_request_starts_by_the_current_rate() -> None:
    clock, rate = _Clock(), [4.0]
    pace = Pace(lambda: rate[0], clock)
    assert [pace.reserve() for _ in range(3)] == [0.0, 0.25, 0.5]  # no burst
    clock.now += 2.0  # idle: the next request goes at once, with no credit saved up
    assert pace.reserve() == 0.0
    rate[0] = 1.0  # the group grew: the share shrinks from the next request on
    assert pace.reserve() == 0.25
    assert pace.reserve() == pytest.approx(1.25)


def test_the_job_rate_is_split_by_the_live_members() -> None:
    members = [1]
    limits = GroupRateLimits(ProviderLimits(concurrency=3), {"openai": 6.0}, lambda: members[0])
    assert limits.rate("openai") == 6.0
    members[0] = 3
    assert limits.rate("openai") == 2.0
    members[0] = 0  # never divided by zero: this worker counts
    assert limits.rate("openai") == 6.0
    assert limits.rate("anthropic") is None  # not limited: the worker's own limits
    # Analysts key limits by provider and endpoint: a provider's rate covers its endpoints.
    assert limits.rate("openai:http://127.0.0.1:9/v1") == 6.0
    assert limits.rate("openaix") is None
    assert limits.concurrency("openai") == 3


def test_the_analysts_calls_take_the_paced_slot(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each LLM analyst's limits key (protocol, and endpoint when a base URL is set) finds the
    job's rate, as the stream worker's settings give it (``share_rates``)."""
    from siem_consensus.analysts import resolve_analysts
    from siem_consensus.stream import DecideSettings
    from siem_consensus.stream._rate import _PacedSemaphore, share_rates

    monkeypatch.setenv("OPENAI_API_KEY", "k")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # a gateway: keyed by URL
    rates = {"openai": 4.0, "anthropic": 2.0, "openai:http://127.0.0.1:11/v1": 1.0}
    settings = StreamSettings(
        "firewall", "127.0.0.1:9", "t", decide=DecideSettings(), rate_limits=rates
    )
    settings, members = share_rates(settings)
    assert members is not None
    members.count = 2
    llm = settings.decide.llm_settings
    assert llm is not None
    names = ["openai", "claude", "local:http://127.0.0.1:11/v1"]
    analysts = resolve_analysts(names, llm)
    keys = [a.limits_key for a in analysts]  # type: ignore[attr-defined]
    assert [llm.limits.rate(k) for k in keys] == [2.0, 1.0, 0.5]  # type: ignore[attr-defined]

    async def slots() -> list[bool]:
        return [isinstance(llm.limits.semaphore(k), _PacedSemaphore) for k in keys]

    assert asyncio.run(slots()) == [True, True, True]


def _answer(_request: RecordedRequest) -> dict[str, Any]:
    return claims(scan_incident(), evidence_event_ids=[])


def _most_in_any_window(times: list[datetime], seconds: float) -> int:
    stamps = sorted(t.timestamp() for t in times)
    return max(sum(1 for t in stamps[i:] if t < start + seconds) for i, start in enumerate(stamps))


def _two_workers(sim: ProviderSimulator, rate: float, members: int, calls: int) -> list[datetime]:
    """Two workers, each sending ``calls`` chat completions as fast as its limits let it.

    Each worker is a thread with its own event loop and :class:`GroupRateLimits` (the job's
    ``rate``, ``members`` workers), sending plain HTTP requests to the simulator under the
    provider slot exactly as the analysts do (``async with limits.semaphore(provider)``):
    a bare request is fast, so the limit and not this machine's speed sets the pace. The
    analysts' own path is exercised by ``test_stream_rate_workers.py``.
    """
    body = {"model": "gpt-5.4-mini", "messages": [{"role": "user", "content": "hi"}]}
    key = f"openai:{sim.openai_base_url}"  # the key an OpenAI analyst of this endpoint uses
    url = f"{sim.openai_base_url}/chat/completions"

    def worker() -> None:
        limits = GroupRateLimits(ProviderLimits(concurrency=4), {"openai": rate}, lambda: members)

        async def run() -> None:
            async with httpx.AsyncClient(headers={"authorization": "Bearer k"}) as client:
                for _ in range(calls):
                    async with limits.semaphore(key):
                        response = await client.post(url, json=body, timeout=30)
                    assert response.status_code == 200, response.text

        asyncio.run(run())

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return [r.received_at for r in sim.requests]


RATE, CALLS = 8.0, 12


def test_two_workers_together_stay_within_the_job_rate() -> None:
    with ProviderSimulator() as sim:
        sim.openai.respond_with(_answer)
        times = _two_workers(sim, RATE, members=2, calls=CALLS)
    assert len(times) == 2 * CALLS
    # Each worker starts a request every 2 / RATE s: in any second at most RATE plus one per
    # worker (a window can hold both ends of a worker's interval).
    assert _most_in_any_window(times, 1.0) <= RATE + 2
    span = (max(times) - min(times)).total_seconds()
    assert span >= (CALLS - 1) / (RATE / 2) - 0.2  # paced, not merely lucky


def test_each_worker_at_the_full_rate_would_double_it() -> None:
    """The planted bug of the test above (each worker at the job's whole rate), as a guard
    that the measurement sees it."""
    with ProviderSimulator() as sim:
        sim.openai.respond_with(_answer)
        times = _two_workers(sim, RATE, members=1, calls=CALLS)
    assert _most_in_any_window(times, 1.0) > RATE + 2


def test_settings_and_cli_check_rates(tmp_path: Any, capsys: Any) -> None:
    with pytest.raises(ConfigError, match="not positive"):
        StreamSettings("firewall", "127.0.0.1:9", "t", rate_limits={"openai": 0})
    config = tmp_path / "c.toml"
    config.write_text('[connectors.k]\ntype = "kafka"\nbootstrap_servers = "127.0.0.1:9"\n')
    args = ["stream", "firewall", "--connectors", str(config), "--from", "k", "t"]
    assert main([*args, "--rate-limit", "openai"]) == 2
    assert "expected PROVIDER=RATE" in capsys.readouterr().err
    assert main([*args, "--rate-limit", "openai=5/hour"]) == 2
    assert main([*args, "--max-session-span", "3h"]) == 2  # not a multiple of a day
    assert "multiple of 86400 s" in capsys.readouterr().err
