"""Kafka connector against a real Kafka-protocol broker (noida-db), driven by kafka-python.

One ``noida-db`` process serves the whole module on 127.0.0.1. Topics holding records stamped
in 2024 are created with ``retention.ms=-1``: the broker applies time retention to record
timestamps, as Kafka does, and would otherwise delete them within seconds.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import socket
import struct
import sys
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from siem_consensus import ConnectorError, MissingDependencyError, analyze_firewall
from siem_consensus.connectors import get_connector
from siem_consensus.connectors._documents import decision_documents
from siem_consensus.errors import ConfigError, UsageError
from siem_consensus.report import Report

kafka = pytest.importorskip("kafka")
pytest.importorskip("noida_db")

from kafka.admin import KafkaAdminClient, NewTopic  # noqa: E402

from siem_consensus.connectors.kafka import KafkaConnector  # noqa: E402
from siem_consensus.testing.noida import NoidaServer  # noqa: E402

T0 = datetime(2024, 5, 1, tzinfo=UTC)
N_MESSAGES = 5_000
GARBAGE_AT = 2_500
ECS_SCANNER = "203.0.113.66"
ASA_SCANNER = "192.0.2.200"
KEEP = {"retention.ms": "-1"}  # records stamped 2024 would fall to time retention at once
SECRET = "s3cret-Pa55"


def _written(report: Report) -> list[dict[str, Any]]:
    """The documents a connector writes for the report, each with its ``_id``."""
    return [{"_id": d.doc_id, **d.source} for d in decision_documents(report)[0]]


@pytest.fixture(scope="module")
def bootstrap() -> Iterator[str]:
    """One noida-db Kafka broker on 127.0.0.1 for the whole module."""
    with NoidaServer(("kafka",)) as server:
        yield server.kafka_bootstrap


def _create(bootstrap: str, topic: str, partitions: int = 1, **configs: str) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(topic, partitions, 1, topic_configs=configs)])
    finally:
        admin.close()


def _produce(
    bootstrap: str, topic: str, messages: Sequence[tuple[bytes | None, bytes | None, int | None]]
) -> list[tuple[int, int]]:
    """Send ``(key, value, timestamp_ms)`` messages; their ``(partition, offset)`` in order."""
    producer = kafka.KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    try:
        futures = [
            producer.send(topic, key=key, value=value, timestamp_ms=ts)
            for key, value, ts in messages
        ]
        return [(meta.partition, meta.offset) for meta in (f.get(timeout=10) for f in futures)]
    finally:
        producer.close()


def _consume(bootstrap: str, topic: str) -> list[Any]:
    """Every record of a topic, read with a plain kafka-python consumer."""
    consumer = kafka.KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        tps = [kafka.TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(tps)
        consumer.seek_to_beginning()
        ends = consumer.end_offsets(tps)
        records: list[Any] = []
        deadline = time.monotonic() + 10
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            assert time.monotonic() < deadline, "topic not read within 10 s"
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def _asa(ts: datetime, src: str, dst: str, port: int) -> str:
    return (
        f"{_iso(ts)} fw01 %ASA-4-106023: Deny tcp src outside:{src}/40001 dst inside:{dst}/"
        f'{port} by access-group "outside_in" [0x0, 0x0]'
    )


def _value(i: int) -> bytes:
    """Message i: ECS JSON (even), Suricata EVE (every 250th), else a Cisco ASA line.

    Two vertical port scans hide in the background: one in the ECS documents, one in the ASA
    lines. Message GARBAGE_AT is binary junk.
    """
    ts = T0 + timedelta(seconds=i)
    if i == GARBAGE_AT:
        return b"\x00\x9f\x92\x96 binary junk \xff"
    if i % 2 == 0:
        scan = i % 10 == 0
        doc = {
            "@timestamp": _iso(ts),
            "source": {"ip": ECS_SCANNER if scan else f"198.51.100.{i % 50 + 1}"},
            "destination": {
                "ip": "10.0.0.5" if scan else "10.0.1.7",
                "port": 1 + i // 10 if scan else (443, 22, 3389)[i % 3],
            },
            "event": {"action": "deny"},
        }
        return json.dumps(doc).encode()
    if i % 250 == 1:
        eve = {
            "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S.000000+0000"),
            "event_type": "alert",
            "src_ip": "198.51.100.9",
            "src_port": 51000,
            "dest_ip": "10.0.1.8",
            "dest_port": 80,
            "proto": "TCP",
            "alert": {"action": "allowed", "gid": 1, "signature_id": 2001219, "rev": 1,
                      "signature": "ET SCAN Potential SSH Scan", "severity": 2,
                      "category": "Attempted Information Leak"},
        }  # fmt: skip
        return json.dumps(eve).encode()
    if i % 10 == 3:
        return _asa(ts, ASA_SCANNER, "10.0.0.6", 1 + i // 10).encode()
    return _asa(ts, f"198.51.100.{i % 50 + 1}", "10.0.1.9", 443).encode()


def _ms(i: int) -> int:
    return int((T0 + timedelta(seconds=i)).timestamp() * 1000)


@pytest.fixture(scope="module")
def mixed(bootstrap: str) -> dict[int, tuple[int, int]]:
    """Topic fw-mixed (3 partitions): the N_MESSAGES of _value, message i stamped T0 + i s.

    Returns where each message landed: ``{i: (partition, offset)}``.
    """
    _create(bootstrap, "fw-mixed", 3, **KEEP)
    sent = [(None, _value(i), _ms(i)) for i in range(N_MESSAGES)]
    return dict(enumerate(_produce(bootstrap, "fw-mixed", sent)))


def _ids(where: dict[int, tuple[int, int]], numbers: range) -> set[str]:
    return {f"fw-mixed:{where[i][0]}:{where[i][1]}" for i in numbers if i != GARBAGE_AT}


def test_every_message_becomes_an_event_or_a_dead_letter(
    bootstrap: str, mixed: dict[int, tuple[int, int]]
) -> None:
    with KafkaConnector(bootstrap, "fw-mixed", batch_size=700) as siem:
        events = list(siem.iter_events())
        letters = siem.dead_letters

    assert len(events) == N_MESSAGES - 1
    assert {e.event_id for e in events} == _ids(mixed, range(N_MESSAGES))
    partition, offset = mixed[GARBAGE_AT]
    [letter] = letters
    assert (letter.source, letter.line, letter.parser) == (f"fw-mixed:{partition}", offset, "kafka")
    assert "input_format" in letter.reason
    assert letter.raw_excerpt.startswith("\x00")
    # Each message's format was detected on its own: three formats in one topic.
    assert Counter(e.dataset for e in events) == {"ecs": 2499, "asa": 2480, "suricata": 20}
    # The three partitions are merged oldest first (message i is stamped T0 + i s).
    assert [e.event_id for e in events] == [
        "fw-mixed:{}:{}".format(*mixed[i]) for i in range(N_MESSAGES) if i != GARBAGE_AT
    ]
    scan = next(e for e in events if e.event_id == "fw-mixed:{}:{}".format(*mixed[30]))
    assert (scan.source_ip, scan.destination_port, scan.timestamp) == (
        ECS_SCANNER,
        4,
        T0 + timedelta(seconds=30),
    )


def test_read_stops_at_the_end_offsets_of_its_start(bootstrap: str) -> None:
    _create(bootstrap, "fw-growing", 2, **KEEP)
    first = [(None, _asa(T0, "198.51.100.1", "10.0.1.9", 443).encode(), None)] * 2000
    _produce(bootstrap, "fw-growing", first)
    with KafkaConnector(bootstrap, "fw-growing", batch_size=100) as siem:
        events = siem.iter_events()
        head = next(events)
        _produce(bootstrap, "fw-growing", first[:500])  # arrives while the read is running
        rest = list(events)
        assert 1 + len(rest) == 2000
        assert head.event_id not in {e.event_id for e in rest}
        assert sum(1 for _ in siem.iter_events()) == 2500  # the next read sees them


def test_skewed_partitions_are_merged_with_bounded_buffers(bootstrap: str) -> None:
    """Partition 0 holds January, partition 1 June: with batch_size 10 the merge may hold
    only about 100 messages, so June messages are released before January is fully read."""
    _create(bootstrap, "fw-skewed", 2, **KEEP)
    line = _asa(T0, "198.51.100.1", "10.0.1.9", 443).encode()
    january, june = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC)
    for partition, start in ((0, january), (1, june)):
        producer = kafka.KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
        for i in range(600):
            stamp = int((start + timedelta(seconds=i)).timestamp() * 1000)
            producer.send("fw-skewed", value=line, partition=partition, timestamp_ms=stamp)
        producer.close()
    with KafkaConnector(bootstrap, "fw-skewed", batch_size=10) as siem:
        ids = [e.event_id for e in siem.iter_events()]
    assert len(ids) == len(set(ids)) == 1200
    assert ids[0] == "fw-skewed:0:0"
    for p in (0, 1):
        assert [i for i in ids if i.startswith(f"fw-skewed:{p}:")] == [
            f"fw-skewed:{p}:{n}" for n in range(600)
        ]


class _ScriptedConsumer:
    """Stands in for KafkaConsumer in the merge: poll() returns the scripted batches in turn."""

    def __init__(self, batches: list[dict[Any, list[Any]]]) -> None:
        self.batches = batches
        self.positions: dict[Any, int] = {}

    def poll(self, timeout_ms: int, max_records: int) -> dict[Any, list[Any]]:
        batch = self.batches.pop(0) if self.batches else {}
        for tp, records in batch.items():
            self.positions[tp] = records[-1].offset + 1
        return batch

    def position(self, tp: Any) -> int:
        return self.positions.get(tp, 0)

    def pause(self, tp: Any) -> None:
        pass


def test_merge_stops_waiting_for_a_lagging_partition_when_its_buffers_are_full() -> None:
    """Partition 1 (June) arrives long before partition 0 (January): at most batch_size *
    10 messages wait for it, the rest is released, and nothing is lost or reordered within
    a partition."""
    record = kafka.consumer.fetcher.ConsumerRecord
    p0, p1 = kafka.TopicPartition("t", 0), kafka.TopicPartition("t", 1)

    def records(tp: Any, first: int, count: int, stamp: datetime) -> list[Any]:
        ms = int(stamp.timestamp() * 1000)
        fields = {"topic": "t", "partition": tp.partition, "leader_epoch": 0, "timestamp": ms}
        fields |= {"timestamp_type": 0, "key": None, "value": b"x", "headers": []}
        fields |= {"checksum": None, "serialized_key_size": -1, "serialized_value_size": 1}
        fields |= {"serialized_header_size": -1}
        return [record(offset=n, **fields) for n in range(first, first + count)]

    june, january = datetime(2024, 6, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC)
    consumer = _ScriptedConsumer(
        [{p1: records(p1, 0, 150, june)}, {p1: records(p1, 150, 150, june)}]
        + [{}] * 3
        + [{p0: records(p0, 0, 5, january)}]
    )
    siem = KafkaConnector("127.0.0.1:9", "t", batch_size=10)
    merged = [
        (r.partition, r.offset) for r in siem._records(consumer, "t", {p0: (0, 5), p1: (0, 300)})
    ]
    assert merged[:50] == [(1, n) for n in range(50)]  # 150 buffered, cap 100: 50 released
    assert merged[50:200] == [(1, n) for n in range(50, 200)]
    assert merged[200:] == [(0, n) for n in range(5)] + [(1, n) for n in range(200, 300)]


def test_members_path_needs_a_read_without_group(tmp_path: Any) -> None:
    """A group read commits its end offsets, so the members pass would read nothing."""
    siem = KafkaConnector("127.0.0.1:9", "t", group_id="triage")  # no broker needed
    assert not siem.rereadable and KafkaConnector("127.0.0.1:9", "t").rereadable
    with pytest.raises(UsageError, match="members_path needs a re-readable source"):
        analyze_firewall(siem.search(), members_path=tmp_path / "members.csv")


def test_time_bounds_use_the_kafka_timestamps(
    bootstrap: str, mixed: dict[int, tuple[int, int]]
) -> None:
    def read(start: int | None, end: int | None) -> set[str]:
        with KafkaConnector(bootstrap, "fw-mixed") as siem:
            events = siem.iter_events(
                start=None if start is None else T0 + timedelta(seconds=start),
                end=None if end is None else T0 + timedelta(seconds=end),
            )
            return {e.event_id for e in events}

    assert read(1000, 2000) == _ids(mixed, range(1000, 2000))
    assert read(4900, None) == _ids(mixed, range(4900, N_MESSAGES))
    assert read(None, 100) == _ids(mixed, range(100))
    assert read(N_MESSAGES, None) == set()


@pytest.fixture(scope="module")
def report(bootstrap: str, mixed: dict[int, tuple[int, int]]) -> Report:
    """The firewall analysis of fw-mixed, read through the connector."""
    with KafkaConnector(bootstrap, "fw-mixed") as siem:
        return analyze_firewall(siem.iter_events())


def test_end_to_end_analysis_and_idempotent_write_back(bootstrap: str, report: Report) -> None:
    sources = {ip for incident in report.incidents for ip in incident.entities.source_ips}
    assert {ECS_SCANNER, ASA_SCANNER} <= sources
    expected = {doc.pop("_id"): doc for doc in _written(report)}
    assert len(expected) == len(report.decisions) >= 2

    with KafkaConnector(bootstrap, "fw-mixed", target_topic="decisions-e2e") as siem:
        first = siem.write_decisions(report)
        messages = _consume(bootstrap, "decisions-e2e")
        second = siem.write_decisions(report)  # a re-run
    again = _consume(bootstrap, "decisions-e2e")[len(messages) :]

    assert first.ok and (first.connector, first.target) == ("kafka", "decisions-e2e")
    assert (first.attempted, first.created, first.updated) == (len(expected), len(expected), 0)
    assert second == first
    # One message per decision: key = the export's deterministic _id, value = its document.
    assert len(messages) == len(expected)
    assert {m.key.decode(): json.loads(m.value) for m in messages} == expected
    assert sorted(m.key for m in again) == sorted(m.key for m in messages)
    assert {m.key: m.value for m in again} == {m.key: m.value for m in messages}


def test_compacted_target_topic_keeps_one_message_per_incident(
    bootstrap: str, report: Report
) -> None:
    """The broker compacts closed segments only: a later message (here a marker) closes the
    segment of the re-run's messages, as traffic does on a live topic."""
    compact = {
        "cleanup.policy": "compact",
        "segment.ms": "100",
        "min.cleanable.dirty.ratio": "0.01",
    }
    _create(bootstrap, "decisions-compacted", 1, **compact)
    with KafkaConnector(bootstrap, "fw-mixed", target_topic="decisions-compacted") as siem:
        assert siem.write_decisions(report).ok
        time.sleep(0.2)
        assert siem.write_decisions(report).ok
    time.sleep(0.2)
    _produce(bootstrap, "decisions-compacted", [(b"marker", b"{}", None)])

    deadline = time.monotonic() + 15
    while len(records := _consume(bootstrap, "decisions-compacted")) > len(report.decisions) + 1:
        assert time.monotonic() < deadline, f"not compacted: {len(records)} messages"
        time.sleep(0.2)
    keys = Counter(r.key for r in records if r.key != b"marker")
    assert len(keys) == len(report.decisions) and set(keys.values()) == {1}
    assert min(r.offset for r in records) >= len(report.decisions)  # the re-run's messages


def test_a_refused_message_is_reported_and_the_others_are_kept(
    bootstrap: str, report: Report
) -> None:
    big = report.decisions[0].model_copy(
        update={"reasons": (*report.decisions[0].reasons, "x" * 8000)}
    )
    heavy = report.model_copy(update={"decisions": (big, *report.decisions[1:])})
    sizes = [len(json.dumps(doc)) for doc in _written(heavy)]
    assert sizes[0] > 8000 and max(sizes[1:]) < 4500
    _create(bootstrap, "decisions-small", 1, **{"max.message.bytes": "6000"})

    with KafkaConnector(bootstrap, "fw-mixed", target_topic="decisions-small") as siem:
        result = siem.write_decisions(heavy)

    [failure] = result.failures
    big_id = _written(heavy)[0]["_id"]
    assert (failure.doc_id, failure.incident_id) == (big_id, big.incident_id)
    assert failure.error_type == "MessageSizeTooLargeError"
    assert "MESSAGE_SIZE_TOO_LARGE" in failure.reason
    assert (result.attempted, result.created) == (len(heavy.decisions), len(heavy.decisions) - 1)
    kept = {r.key.decode() for r in _consume(bootstrap, "decisions-small")}
    assert kept == {doc["_id"] for doc in _written(heavy)[1:]}


def test_analysis_of_a_search_accounts_every_message_and_delivers(
    bootstrap: str, mixed: dict[int, tuple[int, int]]
) -> None:
    with KafkaConnector(bootstrap, "fw-mixed", target_topic="decisions-run") as siem:
        report = analyze_firewall(siem.search(), sinks=[siem])
    assert (report.input.lines, report.input.events) == (N_MESSAGES, N_MESSAGES - 1)
    assert report.input.dead_letters == 1
    [delivery] = report.deliveries
    assert delivery.ok and delivery.created == len(report.decisions)


def test_group_id_resumes_where_the_last_read_ended(bootstrap: str) -> None:
    _create(bootstrap, "fw-group", 2, **KEEP)
    line = _asa(T0, "198.51.100.1", "10.0.1.9", 443).encode()
    _produce(bootstrap, "fw-group", [(None, line, None)] * 10)
    with KafkaConnector(bootstrap, "fw-group", group_id="triage") as siem:
        assert sum(1 for _ in siem.iter_events()) == 10
        assert sum(1 for _ in siem.iter_events()) == 0
        _produce(bootstrap, "fw-group", [(None, line, None)] * 5)
        assert sum(1 for _ in siem.iter_events()) == 5
    with KafkaConnector(bootstrap, "fw-group") as siem:  # no group: nothing committed, all read
        assert sum(1 for _ in siem.iter_events()) == 15
    with KafkaConnector(bootstrap, "fw-group", group_id="another") as siem:
        assert sum(1 for _ in siem.iter_events()) == 15


@pytest.fixture(scope="module")
def odd(bootstrap: str) -> list[tuple[int, int]]:
    """Topic fw-odd: an ASA line, an ECS document, a tombstone and an empty message."""
    ecs = {"@timestamp": _iso(T0), "source": {"ip": "198.51.100.1"}, "event": {"action": "deny"}}
    return _produce(
        bootstrap,
        "fw-odd",
        [
            (None, _asa(T0, "198.51.100.1", "10.0.1.9", 443).encode(), None),
            (None, json.dumps(ecs).encode(), None),
            (b"deleted", None, None),
            (None, b"", None),
        ],
    )


def test_forced_input_format_and_messages_without_an_event(
    bootstrap: str, odd: list[tuple[int, int]]
) -> None:
    with KafkaConnector(bootstrap, "fw-odd") as siem:
        detected = [e.dataset for e in siem.iter_events()]
        reasons = [letter.reason for letter in siem.dead_letters]
    assert detected == ["asa", "ecs"]
    assert reasons == [
        "message has no value (a tombstone, i.e. a deletion marker)",
        "empty message",
    ]

    with KafkaConnector(bootstrap, "fw-odd", input_format="asa") as siem:
        assert [e.event_id for e in siem.iter_events("*")] == [f"fw-odd:0:{odd[0][1]}"]
    with KafkaConnector(bootstrap, "elsewhere", input_format="asa") as siem:
        forced = list(siem.iter_events("fw-odd"))  # the query names the topic
        letters = siem.dead_letters
    assert [e.dataset for e in forced] == ["asa"]
    assert [(d.line, d.parser) for d in letters] == [
        (odd[1][1], "asa"),
        (odd[2][1], "kafka"),
        (odd[3][1], "kafka"),
    ]


def test_sasl_plain_settings_reach_the_broker(bootstrap: str, odd: list[tuple[int, int]]) -> None:
    """noida-db accepts SASL/PLAIN with any credentials on its plaintext listener."""
    siem = KafkaConnector(
        bootstrap,
        "fw-odd",
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="PLAIN",
        sasl_plain_username="triage",
        sasl_plain_password=SECRET,
    )
    with siem:
        assert len(list(siem.iter_events())) == 2


def test_unknown_topic(bootstrap: str) -> None:
    with (
        KafkaConnector(bootstrap, "no-such-topic") as siem,
        pytest.raises(ConnectorError, match=r"topic 'no-such-topic' not found on Kafka at 127"),
    ):
        list(siem.iter_events())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _failure(call: Callable[[], object]) -> tuple[str, float]:
    """The ConnectorError message of ``call`` and the seconds it took to fail.

    kafka-python 3.0.12 does not close the sockets of failed connection attempts (refused,
    TLS handshake): they are collected here, with their ResourceWarning ignored, instead of
    failing whichever later test the garbage collector happens to run in. Its log records
    refer to them, so they are kept from pytest's log capture meanwhile.
    """
    logger = logging.getLogger("kafka")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "unclosed", ResourceWarning)
        logger.propagate = False
        started = time.monotonic()
        try:
            try:
                call()
            except ConnectorError as exc:
                return str(exc), time.monotonic() - started
            raise AssertionError("no ConnectorError")
        finally:
            logger.propagate = True
            gc.collect()


@pytest.mark.timeout(120)  # connect_timeout is 5 s: an unbounded retry would hang here
def test_unreachable_broker_fails_fast_with_a_clear_error() -> None:
    address = f"127.0.0.1:{_free_port()}"
    with KafkaConnector(address, "fw") as siem:
        assert siem.connect_timeout == 5.0  # the default; waiting it out would cost 5 s
    with KafkaConnector(address, "fw", connect_timeout=1) as siem:
        read, _ = _failure(lambda: list(siem.iter_events()))
    with KafkaConnector(address, "fw", connect_timeout=2) as siem:
        write, _ = _failure(lambda: siem.write_decisions(Report()))
    assert f"cannot reach Kafka at {address} within 1 s" in read
    assert f"cannot reach Kafka at {address} within 2 s" in write
    for message in (read, write):
        assert "ECONNREFUSED" in message and "bootstrap_servers (host:port)" in message


class _RejectingBroker:
    """A proxy to the broker that refuses every SASL authentication (error 58), as a broker
    with SASL users does for a wrong password; noida-db itself accepts any credentials."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.rsplit(":", 1)
        self.upstream = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self.sockets: list[socket.socket] = []
        self.threads = [threading.Thread(target=self._accept, daemon=True)]

    def __enter__(self) -> _RejectingBroker:
        self.threads[0].start()
        return self

    def __exit__(self, *exc: object) -> None:
        for sock in [self.listener, *self.sockets]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for thread in self.threads:
            thread.join(timeout=5)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            self.sockets += [client, upstream]
            thread = threading.Thread(target=self._serve, args=(client, upstream), daemon=True)
            self.threads.append(thread)
            thread.start()

    @staticmethod
    def _read(sock: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = sock.recv(size - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def _frame(self, sock: socket.socket) -> bytes:
        (size,) = struct.unpack(">i", self._read(sock, 4))
        return self._read(sock, size)

    def _serve(self, client: socket.socket, upstream: socket.socket) -> None:
        try:
            while True:
                request = self._frame(client)
                api_key, version, correlation = struct.unpack(">hhi", request[:8])
                if api_key == 36:  # SaslAuthenticate
                    response = self._refusal(version, correlation)
                else:
                    upstream.sendall(struct.pack(">i", len(request)) + request)
                    response = self._frame(upstream)
                client.sendall(struct.pack(">i", len(response)) + response)
        except (ConnectionError, OSError):
            return

    @staticmethod
    def _refusal(version: int, correlation: int) -> bytes:
        text = b"Authentication failed: Invalid username or password"
        if version >= 2:  # flexible version: compact strings and tagged fields
            return (
                struct.pack(">ibh", correlation, 0, 58)
                + bytes([len(text) + 1])
                + text
                + bytes([1])  # empty auth bytes
                + struct.pack(">qb", 0, 0)
            )
        body = struct.pack(">ihh", correlation, 58, len(text)) + text + struct.pack(">i", 0)
        return body + (struct.pack(">q", 0) if version == 1 else b"")


@pytest.mark.timeout(120)
def test_rejected_credentials_are_named_without_the_password(bootstrap: str) -> None:
    with _RejectingBroker(bootstrap) as broker:
        siem = KafkaConnector(
            broker.address,
            "fw-odd",
            security_protocol="SASL_PLAINTEXT",
            sasl_mechanism="PLAIN",
            sasl_plain_username="triage",
            sasl_plain_password=SECRET,
            connect_timeout=2,
        )
        with siem:
            message, _ = _failure(lambda: list(siem.iter_events()))
    assert f"Kafka at {broker.address} rejected the SASL PLAIN credentials" in message
    assert "Invalid username or password" in message and "sasl_plain_password" in message
    assert SECRET not in message


def test_unsupported_sasl_mechanism(bootstrap: str) -> None:
    siem = KafkaConnector(
        bootstrap,
        "fw-odd",
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_plain_username="triage",
        sasl_plain_password=SECRET,
        connect_timeout=1.5,
    )
    with siem:
        message, _ = _failure(lambda: siem.write_decisions(Report()))
    assert "does not accept sasl_mechanism SCRAM-SHA-512" in message
    assert "Enabled mechanisms: ['PLAIN']" in message and SECRET not in message


def test_tls_against_a_plaintext_listener(bootstrap: str) -> None:
    with KafkaConnector(bootstrap, "fw-odd", security_protocol="SSL", connect_timeout=1) as siem:
        message, _ = _failure(lambda: list(siem.iter_events()))
    assert f"TLS handshake with Kafka at {bootstrap} failed" in message
    assert "ssl_cafile" in message


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"security_protocol": "SASL"}, "security_protocol 'SASL' is not one of"),
        ({"security_protocol": "SASL_SSL"}, "needs sasl_mechanism, one of PLAIN"),
        (
            {
                "security_protocol": "SASL_SSL",
                "sasl_mechanism": "PLAIN",
                "sasl_plain_password": SECRET,
            },
            "SASL PLAIN needs sasl_plain_username",
        ),
        ({"sasl_plain_password": SECRET}, "sasl_plain_password need security_protocol SASL_SSL"),
        ({"ssl_cafile": "/etc/ca.pem"}, "ssl_cafile only apply with security_protocol SSL"),
        ({"input_format": "syslog"}, "unknown input format 'syslog'"),
        ({"request_timeout": 0}, "request_timeout must be positive"),
        ({"batch_size": 0}, "batch_size must be positive"),
        ({"retries": -1}, "retries must be zero or more"),
        ({"topic": ""}, "must not be empty"),
    ],
)
def test_settings_that_do_not_go_together(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as failure:
        KafkaConnector(**{"bootstrap_servers": "127.0.0.1:9", "topic": "fw", **settings})
    assert SECRET not in str(failure.value)


def test_query_must_name_a_topic() -> None:
    siem = KafkaConnector("127.0.0.1:9", "fw")
    with pytest.raises(ConfigError, match="Kafka has no query language"):
        next(siem.iter_events({"term": {"source.ip": "1.2.3.4"}}))


def test_from_settings_builds_it_from_a_toml_table(
    bootstrap: str, odd: list[tuple[int, int]]
) -> None:
    table = {
        "bootstrap_servers": [bootstrap],
        "topic": "fw-odd",
        "target_topic": "decisions-toml",
        "security_protocol": "PLAINTEXT",
        "request_timeout": 10,
        "connect_timeout": 2.5,
        "retries": 2,
        "batch_size": 50,
    }
    siem = get_connector("kafka").from_settings(table, where="conf.toml [connectors.kafka]")
    assert isinstance(siem, KafkaConnector)
    with siem:
        assert len(list(siem.iter_events())) == 2
    with pytest.raises(ConfigError, match="unknown kafka setting.*brokers.*accepted: "):
        KafkaConnector.from_settings({**table, "brokers": "x"})


def test_missing_kafka_python_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "kafka", None)
    with pytest.raises(MissingDependencyError, match=r'pip install "siem-consensus\[kafka\]"'):
        KafkaConnector("127.0.0.1:9092", "fw")
