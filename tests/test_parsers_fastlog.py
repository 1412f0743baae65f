"""Snort / Suricata fast.log parser: variants, IPv6, year-less timestamps, dead letters."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from parser_checks import (  # run_in_december: autouse, the time of the run
    assert_accounted,
    mutated_lines,
    run_in_december,  # noqa: F401
)

from siem_consensus.parsers import PARSERS
from siem_consensus.parsers.fastlog import FastLogParser
from siem_consensus.sources import EventStream, detect_format

DATA = Path(__file__).parent / "data" / "parsers"
LOG = DATA / "ids" / "fastlog.log"
RAW = LOG.read_text(encoding="utf-8").splitlines()
YEAR = 2026  # the year of parser_checks.RUN_TIME


SUSPICIOUS_SSH = "ET SCAN Potential SSH Scan"


def _parse() -> tuple[dict[int, dict[str, Any]], EventStream]:
    stream = EventStream([LOG])
    rows = {row["line"]: row for _, frame in stream for row in frame.iter_rows(named=True)}
    stats = stream.stats
    assert stats.events + stats.dead_letters + stats.skipped_lines == stats.lines
    return rows, stream


def test_fixture_accounting() -> None:
    rows, stream = _parse()
    stats = stream.stats
    assert stats.formats == {"fastlog.log": "fastlog"}
    assert (stats.lines, stats.events, stats.dead_letters, stats.skipped_lines) == (19, 11, 7, 1)
    assert sorted(rows) == list(range(1, 12))


def test_suricata_alert_fields() -> None:
    row = _parse()[0][1]
    assert row["timestamp"] == datetime(2017, 3, 25, 16, 49, 58, 856335, UTC)
    assert (row["dataset"], row["event_action"]) == ("fastlog", "allowed")
    assert (row["rule_id"], row["event_code"]) == ("2000355", "1:2000355:5")
    assert (row["rule_name"], row["rule_category"], row["event_severity"]) == (
        "ET CHAT IRC authorization message",
        "Misc activity",
        3,
    )
    assert (row["source_ip"], row["source_port"]) == ("84.92.227.177", 6668)
    assert (row["destination_ip"], row["destination_port"]) == ("10.192.19.6", 57966)
    assert row["network_transport"] == "tcp"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (2, {"network_transport": "udp", "destination_port": 53, "event_severity": 2}),
        # Suricata prints ICMP type/code in the port slots: not ports
        (3, {"network_transport": "icmp", "source_port": None, "destination_port": None}),
        (4, {"event_action": "blocked", "event_severity": 1, "destination_port": 80}),
        (5, {"event_action": "allowed", "rule_name": SUSPICIOUS_SSH}),
        (
            6,
            {
                "source_ip": "2001:db8::bad",
                "source_port": 51234,
                "destination_ip": "2001:db8:1::10",
                "destination_port": 443,
            },
        ),
        (
            7,
            {
                "timestamp": datetime(YEAR, 3, 25, 16, 50, 2, 123456, UTC),
                "source_ip": "198.51.100.7",
                "source_port": None,
                "rule_id": "384",
            },
        ),
        (8, {"timestamp": datetime(2017, 3, 25, 16, 50, 3, 1, UTC), "destination_port": 23}),
        (
            9,
            {
                "source_ip": "2001:db8:bad::7",
                "source_port": 40022,
                "destination_ip": "2001:db8:1::10",
                "destination_port": 22,
            },
        ),
        (
            10,
            {
                "rule_name": "(icmp4) ICMP ping Nmap",
                "rule_category": None,
                "event_code": "116:434:1",
                "rule_id": "434",
            },
        ),
        (
            11,
            {
                "source_ip": "2001:db8:1::10",
                "source_port": 80,
                "destination_port": 40100,
                "event_severity": None,
            },
        ),
    ],
)
def test_variants(line: int, expected: dict[str, Any]) -> None:
    row = _parse()[0][line]
    assert {key: row[key] for key in expected} == expected


def test_dead_letter_reasons() -> None:
    reasons = {d.line: d.reason for d in _parse()[1].dead_letters}
    assert reasons == {
        13: "fast.log decoder-event alert (no addresses; its packet dump follows)",
        14: "fast.log alert truncated: no '{PROTO} source -> destination' after the message",
        15: "invalid fast.log timestamp '13/45/2022-02:38:02.000000'",
        16: "source address is not an IP address: '203.0.113.999'",
        17: "source port 99999 is out of range 0-65535",
        18: "binary data (NUL byte) in a text log line",
        19: ("not a fast.log alert (expected 'MM/DD[/YYYY]-hh:mm:ss.ffffff [**] [gid:sid:rev]')"),
    }


def test_year_keyword() -> None:
    line = RAW[6]
    assert FastLogParser(year=2019).parse_line(line)["timestamp"].year == 2019
    assert FastLogParser(year=2019).parse_line(RAW[0])["timestamp"].year == 2017


@pytest.mark.parametrize(
    ("endpoints", "transport", "expected"),
    [
        ("2001:db8::1:80 -> 10.0.0.1:5", "UDP", ("2001:db8::1", 80)),
        ("2001:db8::1:80 -> 10.0.0.1", "ICMP", ("2001:db8::1:80", None)),
        ("2001:db8:::80 -> 10.0.0.1:5", "TCP", ("2001:db8::", 80)),
        ("[2001:db8::1]:8080 -> 10.0.0.1:5", "SCTP", ("2001:db8::1", 8080)),
        ("2001:db8::ab -> 10.0.0.1:5", "GRE", ("2001:db8::ab", None)),
    ],
)
def test_ipv6_endpoints(endpoints: str, transport: str, expected: tuple[str, int | None]) -> None:
    line = (
        f"01/14/2022-02:36:13.001000  [**] [1:1:1] m [**] [Priority: 2] {{{transport}}} {endpoints}"
    )
    row = FastLogParser().parse_line(line)
    assert (row["source_ip"], row["source_port"]) == expected


@pytest.mark.timeout(30)  # a backtracking regex would take minutes on these lines
def test_pathological_line_is_rejected_quickly() -> None:
    line = "03/25/2017-16:49:58.856335  [**] [1:2:3] " + "[**] [x] " * 900
    parsed = FastLogParser().parse_chunk([line, line * 2], 1, "slow")
    assert len(parsed.dead_letters) == 2
    assert "under 2 KB" in parsed.dead_letters[1].reason


def test_detected_as_its_own_format() -> None:
    lines = [line for line in RAW if line.strip()][:20]
    assert detect_format(lines) == "fastlog"
    others = {fmt: cls.sniff(lines) for fmt, cls in PARSERS.items() if fmt != "fastlog"}
    assert max(others.values()) < 0.5, others


@pytest.mark.parametrize(
    "path", sorted(p for p in DATA.rglob("*") if p.is_file() and p != LOG), ids=lambda p: p.name
)
def test_does_not_claim_other_fixtures(path: Path) -> None:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert FastLogParser.sniff(lines[:20]) < 0.5


_SAMPLES = [line for line in RAW if line.strip()]


def _mutated() -> st.SearchStrategy[str]:
    return mutated_lines(_SAMPLES, "[]{}*:/.- >0123456789abcdefABCDEF\x00\t\ud800")


@settings(max_examples=120, deadline=None)
@given(lines=st.lists(_mutated(), max_size=10), first=st.integers(1, 10**6))
def test_mutated_lines_never_crash_and_are_accounted(lines: list[str], first: int) -> None:
    parsed = FastLogParser(year=2024).parse_chunk(lines, first, "fuzz")
    assert_accounted(parsed, len(lines))
