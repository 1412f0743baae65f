"""The stream job's pieces without a broker: parsing, keys, detection, decision, markers."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

from siem_consensus import analyze_firewall
from siem_consensus.cli import main
from siem_consensus.detectors.firewall import FirewallDetector
from siem_consensus.errors import ConfigError
from siem_consensus.generators.firewall import scenario_1
from siem_consensus.stream import (
    DecideSettings,
    StreamTopics,
    decide_incidents,
    detect_session,
    get_family,
)
from siem_consensus.stream._codec import RowParser, event_time_ms, session_frame
from siem_consensus.stream._control import END_OF_TIME_MS, end_gate, murmur2, partition_key

kafka_partitioner = pytest.importorskip("kafka.partitioner.default")


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    parser = RowParser("asa")
    parsed = [parser.parse(line.encode(), "asa:3", n) for n, line in enumerate(scenario_1())]
    assert all(p.row is not None for p in parsed)
    return [p.row for p in parsed if p.row is not None]


def test_murmur2_is_the_java_clients_partitioner() -> None:
    rng = random.Random(5)
    for _ in range(500):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40)))
        assert murmur2(data) & 0xFFFFFFFF == kafka_partitioner.murmur2(data) & 0xFFFFFFFF


@pytest.mark.parametrize("partitions", [1, 3, 8, 12])
def test_partition_key_lands_on_its_partition(partitions: int) -> None:
    for partition in range(partitions):
        key = partition_key(partition, partitions).encode()
        assert (kafka_partitioner.murmur2(key) & 0x7FFFFFFF) % partitions == partition


def test_a_message_becomes_an_event_row_with_the_connectors_id(rows: list[dict[str, Any]]) -> None:
    first = rows[0]
    assert (first["source"], first["line"]) == ("asa:3", 0)
    assert first["source_ip"] and first["destination_port"]
    assert event_time_ms(first) == first["timestamp"] // 1000
    assert None not in first.values()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"\x00\x01 binary", "NUL byte"),
        (b"\xff\xfe", "not UTF-8"),
        (None, "null value"),
        (b"x" * 1_048_577, "over the 1,048,576 limit"),
        (b'{"event": "not an ASA line"}', "ASA"),
    ],
)
def test_a_poison_message_becomes_a_dead_letter(value: bytes | None, reason: str) -> None:
    parsed = RowParser("asa").parse(value, "asa:0", 41)
    assert parsed.row is None and parsed.dead is not None
    assert (parsed.dead.source, parsed.dead.line) == ("asa:0", 41)
    assert reason in parsed.dead.reason


def test_undetectable_formats_are_dead_letters_not_crashes() -> None:
    parsed = RowParser(None).parse(b"hello there, not a log line", "t:0", 7)
    assert parsed.dead is not None and "could not detect" in parsed.dead.reason


def test_entity_keys() -> None:
    row = {"source_ip": "10.0.0.2", "destination_ip": "10.0.0.1", "user_name": "Bob.E"}
    assert get_family("firewall").entity(row) == "10.0.0.2"
    assert get_family("ids").entity(row) == get_family("ids").entity(
        {"source_ip": "10.0.0.1", "destination_ip": "10.0.0.2"}
    )
    assert get_family("insider").entity(row) == "bob.e"
    assert get_family("firewall").entity({"destination_ip": "10.0.0.1"}) is None
    with pytest.raises(ConfigError, match="firewall, ids, insider"):
        get_family("auth")


def test_session_gap_keeps_a_chain_of_windows_in_one_session() -> None:
    fw = get_family("firewall")
    assert fw.gap_s == 2 * FirewallDetector().thresholds.window_s


def test_a_session_is_detected_as_the_batch_detector_does(rows: list[dict[str, Any]]) -> None:
    scanner = [r for r in rows if r["source_ip"] == "45.95.168.200"]
    batch = FirewallDetector()
    batch.update(session_frame(scanner))
    expected = [i.model_dump(mode="json") for i in batch.finish()]
    assert detect_session(get_family("firewall"), scanner) == expected
    assert expected and expected[0]["evidence_event_ids"][0].startswith("asa:3:")


def test_a_redelivered_event_counts_once(rows: list[dict[str, Any]]) -> None:
    scanner = [r for r in rows if r["source_ip"] == "45.95.168.200"]
    once = detect_session(get_family("firewall"), scanner)
    twice = detect_session(get_family("firewall"), [*scanner, *scanner[:50]])
    assert twice == once


def test_sessions_too_small_to_fire_skip_the_detector(rows: list[dict[str, Any]]) -> None:
    fw = get_family("firewall")
    assert detect_session(fw, rows[: fw.min_events - 1]) == []
    assert fw.min_events == 10  # FirewallThresholds: min_events 10, beacon_min_connections 10


def test_decide_runs_the_batch_graph() -> None:
    lines = scenario_1()
    batch = analyze_firewall(lines, input_format="asa")
    assert batch.incidents
    for incident, decision in zip(batch.incidents, batch.decisions, strict=True):
        raw = incident.model_dump(mode="json")
        report = decide_incidents(get_family("firewall"), [raw], DecideSettings(threshold=0.8))
        got = report.decisions[0]
        assert (got.incident_id, got.outcome, got.confidence) == (
            decision.incident_id,
            decision.outcome,
            decision.confidence,
        )
        assert [v.analyst for v in got.verdicts] == ["rules", "baseline"]


class _State(dict[str, Any]):
    def set(self, key: str, value: Any) -> None:
        self[key] = value


def _markers(order: list[int]) -> Iterator[dict[str, Any]]:
    for partition in order:
        yield {"kind": "control", "from": partition}


def test_end_of_input_closes_a_partition_once_every_input_partition_ended() -> None:
    state = _State()
    passed = [end_gate(m, state, 3) for m in _markers([2, 0, 2, 1, 0, 1])]
    assert passed == [False, False, False, True, False, False]
    assert end_gate({"kind": "event", "row": {}}, state, 3)


def test_stream_topics_are_named_after_input_and_family() -> None:
    topics = StreamTopics("asa", "firewall")
    assert (topics.events, topics.decisions) == ("asa.firewall.events", "asa.firewall.decisions")


def test_cli_refuses_a_non_kafka_connection(tmp_path: Any, capsys: Any) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[connectors.os]\ntype = "opensearch"\nhosts = ["http://x:9200"]\n')
    code = main(["stream", "firewall", "--connectors", str(config), "--from", "os", "t"])
    assert code == 2
    assert "a stream job reads Kafka; 'os' is a opensearch connection" in capsys.readouterr().err


def test_stream_front_door_is_sorted_and_importable() -> None:
    import siem_consensus.stream as stream

    assert stream.__all__ == sorted(stream.__all__)
    for name in stream.__all__:
        assert getattr(stream, name) is not None


def test_importing_the_stream_package_loads_no_engine() -> None:
    import subprocess
    import sys

    code = "import sys, siem_consensus.stream; print('quixstreams' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_worker_without_the_engine_says_how_to_install_it(monkeypatch: Any) -> None:
    import sys

    from siem_consensus.errors import MissingDependencyError
    from siem_consensus.stream import StreamSettings, StreamWorker

    monkeypatch.setitem(sys.modules, "quixstreams", None)
    with pytest.raises(MissingDependencyError, match=r"siem-consensus\[stream\]"):
        StreamWorker(StreamSettings("firewall", "127.0.0.1:9", "t"))


def test_cli_refuses_a_kafka_setting_without_a_value(tmp_path: Any, capsys: Any) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[connectors.k]\ntype = "kafka"\nbootstrap_servers = "127.0.0.1:9"\n')
    args = ["stream", "firewall", "--connectors", str(config), "--from", "k", "t"]
    assert main([*args, "--kafka-setting", "batch.num.messages"]) == 2
    assert "expected KEY=VALUE" in capsys.readouterr().err
    assert main([*args, "--budget", "lots"]) == 2
    assert "neither tokens" in capsys.readouterr().err


CHANGELOG = "changelog__g-1--asa-1.firewall.candidates--default"


@pytest.mark.parametrize(
    ("topic", "exc", "skipped"),
    [
        (CHANGELOG, KeyError(CHANGELOG), True),  # the engine's stray state record
        ("asa-1", KeyError("asa-1"), False),  # the same error on input: a real failure
        (CHANGELOG, KeyError("rule"), False),  # a stage's own KeyError on such a record
        (CHANGELOG, ValueError(CHANGELOG), False),
    ],
)
def test_only_a_state_changelog_record_read_as_input_is_skipped(
    topic: str, exc: Exception, skipped: bool
) -> None:
    """``skip_changelog_echo`` (the worker's processing-error callback) suppresses exactly the
    engine's ``KeyError`` for a changelog topic and counts it; anything else stops the worker."""
    pytest.importorskip("quixstreams")
    import logging
    from collections import Counter
    from types import SimpleNamespace

    from siem_consensus.stream._worker import skip_changelog_echo

    counters: Counter[str] = Counter()
    row = SimpleNamespace(topic=topic, partition=3, offset=0)
    logger = logging.getLogger("test.stream.echo")
    assert skip_changelog_echo(counters, exc, row, logger) is skipped
    assert counters["changelog_echoes"] == int(skipped)


class _Transaction:
    """The engine's partition transaction as the session window uses it: event time only."""

    def __init__(self) -> None:
        self.stored = 0

    def advance_partition_timestamp(self, timestamp_ms: int) -> int:
        self.stored = max(self.stored, timestamp_ms)
        return self.stored

    def iter_prefixes(self) -> list[bytes]:
        return [b"k"]


def test_sessions_see_their_partitions_event_time_in_whole_ticks() -> None:
    from siem_consensus.stream._sessions import CLOSE_TICK_MS, _Ticked

    inner = _Transaction()
    ticked = _Ticked(inner, CLOSE_TICK_MS)
    seen = [ticked.advance_partition_timestamp(t) for t in (59_999, 60_000, 119_999, 90_000)]
    assert seen == [0, 60_000, 60_000, 60_000]  # moves only when a tick is crossed
    assert inner.stored == 119_999  # what the engine stores stays exact
    assert ticked.iter_prefixes() == [b"k"]  # everything else is the engine's
    assert ticked.advance_partition_timestamp(END_OF_TIME_MS) > END_OF_TIME_MS - CLOSE_TICK_MS
