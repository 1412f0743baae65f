"""pfSense filterlog parser (field order per the pfSense raw filter log documentation)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from parser_checks import run_in_december  # noqa: F401 (autouse: the time of the run)

from siem_consensus.parsers.pfsense import PfsenseParser
from siem_consensus.sources import EventStream

LOG = Path(__file__).parent / "data" / "parsers" / "pfsense.log"
YEAR = 2026  # the year of parser_checks.RUN_TIME


def _parse() -> tuple[dict[int, dict[str, Any]], EventStream]:
    stream = EventStream([LOG])
    rows = {row["line"]: row for _, frame in stream for row in frame.iter_rows(named=True)}
    return rows, stream


def test_fixture_accounting() -> None:
    _, stream = _parse()
    stats = stream.stats
    assert stats.formats == {"pfsense.log": "pfsense"}
    assert (stats.lines, stats.events, stats.dead_letters, stats.skipped_lines) == (15, 10, 4, 1)


def test_ipv4_tcp_block() -> None:
    row = _parse()[0][1]
    assert row["timestamp"] == datetime(YEAR, 1, 18, 14, 23, 45, tzinfo=UTC)
    assert row["event_action"] == "deny"
    assert (row["source_ip"], row["source_port"]) == ("45.95.168.200", 52341)
    assert (row["destination_ip"], row["destination_port"]) == ("10.1.50.10", 22)
    assert (row["network_transport"], row["source_bytes"]) == ("tcp", 60)
    assert (row["rule_name"], row["host_name"]) == ("1000000103", "pfsense")
    assert row["message"] == "block in on em0 (match)"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (3, {"event_action": "allow", "network_transport": "udp", "destination_port": 53}),
        (4, {"network_transport": "icmp", "source_port": None, "destination_port": None}),
        (5, {"event_action": "reject", "source_port": 40000, "destination_port": 161}),
        (6, {"source_ip": "2001:db8:bad::7", "destination_port": 443, "source_bytes": 40}),
        (7, {"network_transport": "ipv6-icmp", "destination_ip": "ff02::1", "host_name": None}),
        (
            8,
            {
                "host_name": "pfsense.example.net",
                "destination_port": 3389,
                "timestamp": datetime(2026, 1, 18, 14, 23, 52, 123456, UTC),
            },
        ),
        (9, {"timestamp": None, "host_name": None, "destination_port": 445}),
        (10, {"network_transport": "gre", "source_port": None, "rule_name": "0"}),
    ],
)
def test_variants(line: int, expected: dict[str, Any]) -> None:
    row = _parse()[0][line]
    assert {key: row[key] for key in expected} == expected


def test_dead_letter_reasons() -> None:
    reasons = {letter.line: letter.reason for letter in _parse()[1].dead_letters}
    assert reasons == {
        11: "filterlog tcp record truncated: no ports",
        13: "filterlog tcp record truncated: no ports",
        14: "unknown filterlog action 'drop' (pass/block/reject)",
        15: "not a filterlog record: 1 CSV fields, expected 9 or more",
    }


def test_rule_number_when_no_tracker() -> None:
    body = "7,,,,em0,match,pass,in,4,0x0,,64,1,0,DF,17,udp,60,10.0.0.1,10.0.0.2,1000,53,40"
    assert PfsenseParser().parse_line(body)["rule_name"] == "7"
