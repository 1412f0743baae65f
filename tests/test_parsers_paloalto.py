"""PAN-OS TRAFFIC log parser (field order per the PAN-OS syslog field descriptions)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from siem_consensus.parsers.paloalto import PaloAltoParser
from siem_consensus.parsers.pfsense import PfsenseParser
from siem_consensus.sources import EventStream

LOG = Path(__file__).parent / "data" / "parsers" / "paloalto.log"


def _parse() -> tuple[dict[int, dict[str, Any]], EventStream]:
    stream = EventStream([LOG])
    rows = {row["line"]: row for _, frame in stream for row in frame.iter_rows(named=True)}
    return rows, stream


def test_fixture_accounting() -> None:
    _, stream = _parse()
    stats = stream.stats
    assert stats.formats == {"paloalto.log": "paloalto"}
    assert (stats.lines, stats.events, stats.dead_letters, stats.skipped_lines) == (13, 7, 5, 1)


def test_traffic_end_fields() -> None:
    row = _parse()[0][1]
    assert row["timestamp"] == datetime(2026, 1, 18, 14, 23, 44, tzinfo=UTC)
    assert (row["event_action"], row["event_code"]) == ("allow", "end")
    assert (row["source_ip"], row["source_port"]) == ("10.1.30.15", 52000)
    assert (row["destination_ip"], row["destination_port"]) == ("93.184.216.34", 443)
    assert (row["source_bytes"], row["destination_bytes"]) == (2228, 5084)
    assert (row["rule_name"], row["user_name"]) == ("allow-web", "corp\\alice")
    assert (row["network_transport"], row["host_name"]) == ("tcp", "PA-3220-fw01")
    assert row["message"] == "ssl trust->untrust allow"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (2, {"event_action": "deny", "event_code": "deny", "destination_port": 22}),
        (3, {"event_action": "deny", "event_code": "drop", "destination_port": 3389}),
        (4, {"network_transport": "udp", "destination_port": 53, "destination_bytes": 105}),
        (5, {"event_action": "reject", "host_name": None, "user_name": None}),
        (6, {"source_ip": "2001:db8:bad::7", "destination_ip": "2001:db8:1::10"}),
        (7, {"network_transport": "icmp", "user_name": "corp\\bob", "source_port": 0}),
    ],
)
def test_variants(line: int, expected: dict[str, Any]) -> None:
    row = _parse()[0][line]
    assert {key: row[key] for key in expected} == expected


def test_dead_letter_reasons() -> None:
    reasons = {letter.line: letter.reason for letter in _parse()[1].dead_letters}
    assert reasons == {
        8: "PAN-OS THREAT log: not a TRAFFIC record",
        9: "PAN-OS SYSTEM log: not a TRAFFIC record",
        11: "PAN-OS TRAFFIC record truncated: 31 fields, expected 34+",
        12: "invalid PAN-OS time '2026/13/18 14:23:55'",
        13: "not a PAN-OS log record (expected '1,YYYY/MM/DD hh:mm:ss,serial,TYPE,')",
    }


def test_csv_formats_do_not_steal_each_other() -> None:
    pan = [line for line in LOG.read_text().splitlines() if line][:7]
    assert PaloAltoParser.sniff(pan) == 1.0
    assert PfsenseParser.sniff(pan) == 0.0
    pf = (LOG.parent / "pfsense.log").read_text().splitlines()[:9]
    assert PaloAltoParser.sniff(pf) == 0.0
