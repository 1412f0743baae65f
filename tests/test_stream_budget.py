"""One LLM budget shared by the workers of a stream job (``--budget``; stream/_ledger.py).

The ledger is checked alone (two ledgers claiming at once from threads against one broker),
then end to end: two worker processes whose LLM analyst talks over real HTTP to the provider
simulator, under a token budget that each worker alone would use in full.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("quixstreams")
pytest.importorskip("noida_db")

from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402
from llm_helpers import claims, scan_incident  # noqa: E402
from stream_helpers import (  # noqa: E402
    START,
    _no_worker_outlives_its_test,
    attack_lines,
    bootstrap,
    connectors,
    create_topic,
    produce,
    read_topic,
    start_worker,
    stop_when_decided,
    wait_for_members,
)

from siem_consensus.stream import StreamTopics, send_end_of_input  # noqa: E402
from siem_consensus.stream._ledger import BudgetLedger  # noqa: E402
from siem_consensus.testing import ProviderSimulator, RecordedRequest  # noqa: E402

# fixtures shared with test_stream
__all__ = ["_no_worker_outlives_its_test", "bootstrap", "connectors"]


def _ledger_topic(bootstrap: str) -> str:
    topic = f"ledger-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, 1, 1)]).values():
        future.result(10)
    return topic


def test_concurrent_claims_are_granted_within_the_limit_and_agreed_by_all(bootstrap: str) -> None:
    topic = _ledger_topic(bootstrap)
    ledgers = [BudgetLedger(bootstrap, topic, "g", 1000, "tokens", {}) for _ in range(2)]
    grants: list[list[float]] = [[], []]

    def claim(n: int) -> None:
        for _ in range(6):
            grants[n].append(ledgers[n].claim(120, 50))

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    granted = sum(map(sum, grants))
    # 12 claims of 120 would be 1,440: the ledger granted 8 (960), then 40 was left, under
    # every later claim's minimum of 50: refused.
    assert granted == 960
    assert sorted(g for worker in grants for g in worker).count(0.0) == 4
    ledgers[0].release(200)
    assert ledgers[1].claim(150, 150) == 150  # a release gives capacity back: 90 left
    assert ledgers[1].claim(100, 95) == 0  # under the minimum
    assert ledgers[0].claim(100, 60) == 90  # at least the minimum: what is left
    other = BudgetLedger(bootstrap, topic, "another-group", 500, "tokens", {})
    assert other.claim(500, 500) == 500  # a budget per consumer group
    for ledger in [*ledgers, other]:
        ledger.close()


def _answer(_request: RecordedRequest) -> dict[str, Any]:
    return claims(scan_incident(), evidence_event_ids=[])


def _llm_tokens(records: list[tuple[str, dict[str, Any], int, int]]) -> tuple[int, int]:
    """(calls answered, tokens billed) over the LLM verdicts of the decisions."""
    calls = tokens = 0
    for _key, value, *_ in records:
        for verdict in value["decision"]["verdicts"]:
            usage = verdict.get("usage")
            if verdict["analyst"] == "openai" and usage and not usage.get("cached"):
                calls += 1
                tokens += usage["input_tokens"] + usage["output_tokens"]
    return calls, tokens


@pytest.mark.slow  # two worker processes: an acceptance run
def test_two_workers_spend_one_budget(bootstrap: str, connectors: Path, tmp_path: Path) -> None:
    # 18 incidents: the six attacks of test_stream, three times, six hours apart.
    lines = [line for k in range(3) for _ts, line in attack_lines(START + timedelta(hours=6 * k))]
    with ProviderSimulator() as sim:
        sim.openai.respond_with(_answer)
        env = {**os.environ, **sim.environ()}
        call = 2_000 + 1_024  # about one call's reservation: its prompt plus the output cap
        limit = 5 * call
        topic = f"asa-{uuid.uuid4().hex[:8]}"
        create_topic(bootstrap, topic)
        group = f"g-{uuid.uuid4().hex[:6]}"
        extra = ["--analysts", "rules,openai", "--budget", f"{limit}tok", "--no-cache"]
        procs = [
            start_worker(connectors, topic, group, tmp_path / f"w{i}", None, extra=extra, env=env)
            for i in range(2)
        ]
        wait_for_members(bootstrap, group, procs)
        produce(bootstrap, topic, [line.encode() for line in lines])
        send_end_of_input(bootstrap, topic)
        topics = StreamTopics(topic, "firewall")
        counters = stop_when_decided(bootstrap, group, topics, procs, decisions=18)
        requests = len(sim.requests)
    records = read_topic(bootstrap, StreamTopics(topic, "firewall").decisions)
    calls, tokens = _llm_tokens(records)
    print(json.dumps({"limit": limit, "calls": calls, "tokens": tokens, "workers": counters}))
    assert len(records) == 18
    assert calls == requests > 0
    assert tokens <= limit  # the job, not each worker, stayed within the budget
    # Unshared, each worker would have had the whole budget: both decided as many incidents
    # as the job could pay for, so together they would have spent about twice the limit.
    assert all(c["decisions"] >= calls for c in counters), counters
    assert 2 * tokens > limit
    assert sum(c["budget_granted"] for c in counters) <= limit
    refused = [
        v
        for _k, value, *_ in records
        for v in value["decision"]["verdicts"]
        if v["analyst"] == "openai" and "budget exhausted" in (v.get("error") or "")
    ]
    assert len(refused) == 18 - calls  # the others: a degraded needs_review, never a guess
    assert all(value["decision"]["outcome"] != "dismiss" for _k, value, *_ in records)
