"""A provider's rate limit is the job's: worker processes split it (``--rate-limit``).

One and two ``siem-consensus stream firewall`` worker processes decide 18 incidents with the
``openai`` analyst talking over real HTTP to the provider simulator, under
``--rate-limit openai=1`` (one request per second for the whole job). The simulator's recorded
arrival times are the measure: with two workers the job must still send about one request a
second, not two (each worker at the whole limit, the bug this guards against).
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("quixstreams")
pytest.importorskip("noida_db")

from llm_helpers import claims, scan_incident  # noqa: E402
from stream_helpers import (  # noqa: E402
    START,
    _no_worker_outlives_its_test,
    attack_lines,
    bootstrap,
    connectors,
    create_topic,
    finish,
    produce,
    read_topic,
    start_worker,
    stop_when_decided,
    wait_for_members,
)

from siem_consensus.stream import StreamTopics, send_end_of_input  # noqa: E402
from siem_consensus.testing import ProviderSimulator, RecordedRequest  # noqa: E402

# fixtures shared with test_stream
__all__ = ["_no_worker_outlives_its_test", "bootstrap", "connectors"]

RATE = 1.0  # requests per second for the whole job


def _answer(_request: RecordedRequest) -> dict[str, Any]:
    return claims(scan_incident(), evidence_event_ids=[])


def _most_in_any_window(stamps: list[float], seconds: float) -> int:
    return max(sum(1 for t in stamps[i:] if t < start + seconds) for i, start in enumerate(stamps))


def rate_figures(times: list[datetime]) -> dict[str, float]:
    """Requests, their mean rate over the busy period and the most in any 5 s."""
    stamps = sorted(t.timestamp() for t in times)
    busy = stamps[-1] - stamps[0]
    mean = (len(stamps) - 1) / busy if busy > 0 else float("inf")
    return {"requests": len(stamps), "busy_s": round(busy, 2), "mean_rps": round(mean, 3),
            "most_in_5s": _most_in_any_window(stamps, 5.0)}  # fmt: skip


@pytest.mark.slow  # about 3 minutes per run here (worker start-up on a loaded machine)
@pytest.mark.parametrize("workers", [1, 2])
def test_workers_share_one_rate_limit_per_provider(
    bootstrap: str, connectors: Path, tmp_path: Path, workers: int
) -> None:
    # 18 incidents: the six attacks of test_stream, three times, six hours apart.
    lines = [line for k in range(3) for _ts, line in attack_lines(START + timedelta(hours=6 * k))]
    with ProviderSimulator() as sim:
        sim.openai.respond_with(_answer)
        env = {**os.environ, **sim.environ()}
        topic = f"asa-{uuid.uuid4().hex[:8]}"
        create_topic(bootstrap, topic)
        group = f"g-{uuid.uuid4().hex[:6]}"
        extra = ["--analysts", "rules,openai", "--rate-limit", f"openai={RATE}", "--no-cache"]
        idle = 20.0 if workers == 1 else None  # two wait for each other: stopped when done
        procs = [
            start_worker(connectors, topic, group, tmp_path / f"w{i}", idle, extra=extra, env=env)
            for i in range(workers)
        ]
        wait_for_members(bootstrap, group, procs)
        produce(bootstrap, topic, [line.encode() for line in lines])
        send_end_of_input(bootstrap, topic)
        if workers == 1:
            counters = [finish(procs[0])]
        else:
            topics = StreamTopics(topic, "firewall")
            counters = stop_when_decided(bootstrap, group, topics, procs, decisions=18)
        times = [r.received_at for r in sim.requests if r.provider == "openai"]
    records = read_topic(bootstrap, StreamTopics(topic, "firewall").decisions)
    figures = rate_figures(times)
    shares = [c.get("decisions", 0) for c in counters]
    print(json.dumps({"workers": workers, "limit_rps": RATE, "decisions": shares, **figures}))
    assert len(records) == 18 and figures["requests"] == 18
    if workers == 2:
        assert min(shares) > 0, "both workers must decide for the test to mean anything"
    # Paced at RATE / workers each: the job's mean rate stays at the limit (a margin for the
    # gap between a request's slot and its arrival), and so does any 5 s (plus one request
    # per worker at the window's edges, and one for that gap).
    assert figures["mean_rps"] <= 1.25 * RATE
    assert figures["most_in_5s"] <= 5 * RATE + workers + 1


def test_group_members_are_read_from_the_broker(bootstrap: str) -> None:
    """The split's divisor: the live members of the consumer group, as the broker says."""
    import threading
    import time

    from confluent_kafka import Consumer

    from siem_consensus.stream._rate import GroupMembers

    topic = f"t-{uuid.uuid4().hex[:8]}"
    create_topic(bootstrap, topic, partitions=2)
    group = f"g-{uuid.uuid4().hex[:6]}"
    members = GroupMembers(bootstrap, group, {})
    assert members.read() == 1  # no group yet: this worker alone
    stops = [threading.Event(), threading.Event()]

    def member(stop: threading.Event) -> None:
        consumer = Consumer(
            {"bootstrap.servers": bootstrap, "group.id": group, "session.timeout.ms": 6000}
        )
        consumer.subscribe([topic])
        while not stop.is_set():
            consumer.poll(0.2)
        consumer.close()  # leaves the group

    threads = [threading.Thread(target=member, args=(stop,)) for stop in stops]
    for thread in threads:
        thread.start()
    try:
        wait_for_members(bootstrap, group, 2, timeout=60)
        assert members.read() == 2
        stops[0].set()
        threads[0].join(30)
        deadline = time.monotonic() + 30
        while members.read() != 1 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert members.count == 1
    finally:
        for stop in stops:
            stop.set()
        for thread in threads:
            thread.join(30)
