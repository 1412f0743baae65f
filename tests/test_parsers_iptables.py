"""Linux netfilter (iptables / ufw / nftables) kernel log parser."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from parser_checks import run_in_december  # noqa: F401 (autouse: the time of the run)

from siem_consensus.parsers.iptables import IptablesParser
from siem_consensus.sources import EventStream

LOG = Path(__file__).parent / "data" / "parsers" / "iptables.log"
YEAR = 2026  # the year of parser_checks.RUN_TIME


def _parse() -> tuple[dict[int, dict[str, Any]], EventStream]:
    stream = EventStream([LOG])
    rows = {row["line"]: row for _, frame in stream for row in frame.iter_rows(named=True)}
    return rows, stream


def test_fixture_accounting() -> None:
    _, stream = _parse()
    stats = stream.stats
    assert stats.formats == {"iptables.log": "iptables"}
    assert (stats.lines, stats.events, stats.dead_letters, stats.skipped_lines) == (16, 11, 4, 1)


def test_drop_line_fields() -> None:
    row = _parse()[0][1]
    assert row["timestamp"] == datetime(YEAR, 1, 18, 14, 23, 45, tzinfo=UTC)
    assert row["event_action"] == "deny"
    assert row["rule_name"] == "IPTABLES-DROP"
    assert (row["source_ip"], row["source_port"]) == ("45.95.168.200", 52341)
    assert (row["destination_ip"], row["destination_port"]) == ("10.1.50.10", 22)
    assert (row["network_transport"], row["source_bytes"], row["host_name"]) == ("tcp", 60, "web01")
    assert row["message"].startswith("IPTABLES-DROP: IN=eth0 OUT=")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (3, {"event_action": "deny", "rule_name": "UFW BLOCK", "destination_port": 3389}),
        (4, {"event_action": "reject", "network_transport": "udp", "source_bytes": 76}),
        (5, {"event_action": "allow", "rule_name": "FW-ACCEPT-SSH"}),
        (6, {"event_action": "log", "destination_ip": "93.184.216.34"}),
        (7, {"network_transport": "icmp", "source_port": None, "destination_port": None}),
        (8, {"source_ip": "10.1.50.1", "destination_ip": "10.1.50.10", "source_port": None}),
        (
            9,
            {
                "source_ip": "2001:db8:bad::7",
                "destination_ip": "2001:db8:1::10",
                "timestamp": datetime(2026, 1, 18, 14, 23, 53, 123456, UTC),
            },
        ),
        (
            10,
            {
                "rule_name": None,
                "event_action": "log",
                "host_name": "web02",
                "timestamp": datetime(2026, 1, 18, 14, 23, 54, tzinfo=UTC),
            },
        ),
        (11, {"timestamp": None, "host_name": None, "destination_port": 445}),
    ],
)
def test_variants(line: int, expected: dict[str, Any]) -> None:
    row = _parse()[0][line]
    assert {key: row[key] for key in expected} == expected


def test_dead_letter_reasons() -> None:
    reasons = {letter.line: letter.reason for letter in _parse()[1].dead_letters}
    assert reasons == {
        13: "netfilter line truncated: no DST= field",
        14: "DST is not an IP address: '10.1.50'",
        15: "not a netfilter log line (no 'IN=<interface> ' field)",
        16: "SPT 70000 is out of range 0-65535",
    }


def test_year_argument() -> None:
    line = LOG.read_text().splitlines()[0]
    assert IptablesParser(year=2020).parse_line(line)["timestamp"].year == 2020
