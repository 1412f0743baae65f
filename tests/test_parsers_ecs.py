"""ECS JSON parser: flattened and nested names, timestamps, validation, records and arrays."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from siem_consensus.parsers.base import LineError
from siem_consensus.parsers.ecs import EcsParser
from siem_consensus.sources import EventStream

LOG = Path(__file__).parent / "data" / "parsers" / "ecs.jsonl"


def _parse() -> tuple[dict[int, dict[str, Any]], EventStream]:
    stream = EventStream([LOG])
    rows = {row["line"]: row for _, frame in stream for row in frame.iter_rows(named=True)}
    return rows, stream


def test_fixture_accounting() -> None:
    _, stream = _parse()
    stats = stream.stats
    assert stats.formats == {"ecs.jsonl": "ecs"}
    assert (stats.lines, stats.events, stats.dead_letters, stats.skipped_lines) == (15, 6, 8, 1)


def test_flattened_record() -> None:
    row = _parse()[0][1]
    assert row["timestamp"] == datetime(2026, 1, 18, 14, 23, 45, 123000, UTC)
    assert (row["event_action"], row["event_code"], row["dataset"]) == ("deny", "106023", "ecs")
    assert (row["source_ip"], row["source_port"]) == ("45.95.168.200", 52341)
    assert (row["destination_ip"], row["destination_port"]) == ("10.1.50.10", 22)
    assert (row["network_transport"], row["rule_name"], row["host_name"]) == (
        "tcp",
        "outside_in",
        "fw01",
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            2,
            {
                "timestamp": datetime(2026, 1, 18, 14, 23, 46, tzinfo=UTC),
                "event_outcome": "failure",
                "event_code": "106023",
                "destination_port": 23,
            },
        ),
        (
            4,
            {
                "timestamp": datetime(2026, 1, 18, 14, 23, 47, tzinfo=UTC),
                "user_name": "root",
                "host_name": "web01",
                "event_action": "authentication_failure",
            },
        ),
        (
            5,
            {
                "timestamp": datetime(2026, 1, 18, 14, 23, 48, 500000, UTC),
                "source_port": 52000,
                "source_bytes": 2228,
                "destination_bytes": 5084,
            },
        ),
        (6, {"timestamp": None, "user_name": "CORP\\bob", "host_name": "ws-042"}),
        (7, {"source_ip": "2001:db8:bad::7", "destination_port": 443}),
    ],
)
def test_variants(line: int, expected: dict[str, Any]) -> None:
    row = _parse()[0][line]
    assert {key: row[key] for key in expected} == expected


def test_dead_letter_reasons() -> None:
    reasons = {d.line: d.reason for d in _parse()[1].dead_letters}
    assert reasons[8] == "destination.port 70000 is out of range 0-65535"
    assert reasons[9] == "@timestamp is not ISO 8601 or epoch milliseconds: 'yesterday'"
    assert reasons[10] == "source.ip is not an IP address: 'not-an-ip'"
    assert reasons[11] == "event.action must be a string, got list"
    assert reasons[12].startswith("no ECS fields in record (keys: kind, seq)")
    assert reasons[13].startswith("invalid JSON at column")
    assert reasons[14] == "expected a JSON object, got list"
    assert reasons[15] == "source.port is not a port number: True"


def test_dict_records_default_to_ecs() -> None:
    records: list[dict[str, Any]] = [
        {"@timestamp": "2026-01-18T14:23:45Z", "source": {"ip": "10.0.0.1"}, "event.action": "x"},
        {"source.ip": "bad"},
    ]
    stream = EventStream([records])
    frames = [frame for _, frame in stream]
    assert stream.stats.formats == {"records": "ecs"}
    assert frames[0]["source"].to_list() == ["records"] and frames[0]["line"].to_list() == [1]
    assert stream.dead_letters[0].line == 2


def test_dotted_key_wins_over_nested() -> None:
    row = EcsParser().parse_record({"source.ip": "10.0.0.1", "source": {"ip": "10.0.0.2"}})
    assert row["source_ip"] == "10.0.0.1"


@pytest.mark.parametrize("value", [1768746225000, 1768746225000.0, "1768746225000"])
def test_epoch_millis(value: object) -> None:
    row = EcsParser().parse_record({"@timestamp": value})
    assert row["timestamp"] == datetime(2026, 1, 18, 14, 23, 45, tzinfo=UTC)


def test_boolean_timestamp_rejected() -> None:
    with pytest.raises(LineError, match="@timestamp must be a string or a number"):
        EcsParser().parse_record({"@timestamp": True})
