"""Splunk JSON export parser: ``_raw`` parsed by the registered parsers, nothing dropped."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from parser_checks import assert_accounted, mutated_lines

from siem_consensus.parsers import PARSERS
from siem_consensus.parsers.splunk import SplunkParser, _hint
from siem_consensus.sources import EventStream, detect_format

DATA = Path(__file__).parent / "data" / "parsers"
LOG = DATA / "ids" / "splunk_export.json"
ARRAY = DATA / "ids" / "splunk_results.json"
RAW = LOG.read_text(encoding="utf-8").splitlines()
SSHD = "Jan 15 02:33:15 web01 sshd[2231]: Invalid user oracle from 45.95.168.200 port 52345"
ASA = (
    "Jan 15 02:33:11 fw01 : %ASA-4-106023: Deny tcp src outside:45.95.168.200/52341 dst "
    'inside:10.1.50.10/22 by access-group "outside_in" [0x0, 0x0]'
)


def _parse(path: Path = LOG, **kwargs: Any) -> tuple[dict[int, dict[str, Any]], EventStream]:
    stream = EventStream([path], **kwargs)
    rows = {row["line"]: row for _, frame in stream for row in frame.iter_rows(named=True)}
    stats = stream.stats
    assert stats.events + stats.dead_letters + stats.skipped_lines == stats.lines
    return rows, stream


def test_fixture_accounting() -> None:
    rows, stream = _parse()
    stats = stream.stats
    assert stats.formats == {"splunk_export.json": "splunk"}
    assert (stats.lines, stats.events, stats.dead_letters, stats.skipped_lines) == (20, 10, 6, 4)
    assert sorted(rows) == [1, 2, 3, 4, 5, 6, 7, 10, 12, 20]
    assert {row["dataset"] for row in rows.values()} == {"splunk"}


def test_eve_raw_uses_the_suricata_mapping() -> None:
    row = _parse()[0][1]
    assert row["timestamp"] == datetime(2022, 1, 15, 2, 33, 9, 982113, UTC)  # EVE's, not _time
    assert (row["event_code"], row["rule_id"], row["event_severity"]) == ("alert", "2027758", 2)
    assert (row["rule_name"], row["dns_question"]) == (
        "ET INFO Observed DNS Query to .biz TLD",
        "qnnmxfqa.exfil-tunnel.biz",
    )
    assert (row["source_ip"], row["destination_port"], row["host_name"]) == (
        "192.168.131.109",
        53,
        "ids01",
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # year-less ASA and Snort lines take the year of _time
        (
            2,
            {
                "timestamp": datetime(2022, 1, 15, 2, 33, 11, tzinfo=UTC),
                "event_code": "ASA-4-106023",
                "event_action": "deny",
                "rule_name": "outside_in",
                "host_name": "fw01",
            },
        ),
        (
            3,
            {
                "timestamp": datetime(2022, 1, 15, 2, 33, 12, 250000, UTC),
                "event_code": "1:2001219:20",
                "rule_id": "2001219",
                "host_name": "ids02",
            },
        ),
        # sourcetype "syslog" gives no hint: found by sniffing the one line
        (4, {"rule_name": "IPTABLES-DROP", "destination_port": 23, "source_bytes": 60}),
        (5, {"event_code": "wazuh:5716", "user_name": "root", "host_name": "intranet_server"}),
        # an sshd line: found by sniffing, parsed by the openssh parser
        (
            6,
            {
                "message": SSHD.split(": ", 1)[1],
                "timestamp": datetime(2022, 1, 15, 2, 33, 15, tzinfo=UTC),
                "host_name": "web01",
                "event_code": None,
                "event_action": "invalid_user",
                "user_name": "oracle",
                "source_ip": "45.95.168.200",
            },
        ),
        (7, {"event_code": "alert", "source_port": 41528}),
        # hinted as ASA but truncated: still an event, with the Splunk fields
        (
            10,
            {
                "message": "Jan 15 02:33:18 fw01 : %ASA-4-106023: Deny tcp src outside:45.95.168",
                "host_name": "fw01",
                "event_code": None,
            },
        ),
        (12, {"timestamp": datetime(2022, 1, 15, 2, 33, 20, 500000, UTC), "host_name": "door-ctl"}),
        (20, {"event_code": "deny", "destination_port": 3389, "host_name": "PA-3220-fw01"}),
    ],
)
def test_variants(line: int, expected: dict[str, Any]) -> None:
    row = _parse()[0][line]
    assert {key: row[key] for key in expected} == expected


def test_dead_letter_reasons() -> None:
    reasons = {d.line: d.reason for d in _parse()[1].dead_letters}
    assert reasons[13] == "Splunk 'result' must be an object, got str"
    assert reasons[14].startswith("Splunk result has no _raw field (a table row")
    assert reasons[15] == "_time is not an ISO 8601 timestamp: 'last tuesday'"
    assert reasons[16] == "Splunk _raw must be a string, got list"
    assert reasons[17].startswith("invalid JSON at column")
    assert reasons[19] == "binary data (NUL byte) in a text log line"


def test_json_array_of_results() -> None:
    rows, stream = _parse(ARRAY, input_format="splunk")
    assert (stream.stats.lines, sorted(rows)) == (4, [1, 2])
    assert rows[1]["rule_id"] == "2027758" and rows[2]["message"] == SSHD.split(": ", 1)[1]
    assert [d.line for d in stream.dead_letters] == [3, 4]


def test_long_raw_is_clipped() -> None:
    row = SplunkParser().parse_record({"_raw": "x" * 5000, "_time": 1642214000})
    assert isinstance(row, dict) and len(row["message"]) == 1000


def test_learned_format_is_tried_first() -> None:
    parser = SplunkParser()
    parser.parse_record({"_raw": ASA, "sourcetype": "fw"})
    assert parser._learned == {"fw": "asa"}


@pytest.mark.parametrize(
    ("sourcetype", "expected"),
    [
        ("suricata", "suricata"),
        ("suricata:fast", "fastlog"),
        ("snort3:alert:fast", "fastlog"),
        ("cisco:asa", "asa"),
        ("pan:traffic", "paloalto"),
        ("wazuh-alerts", "wazuh"),
        ("bro:conn:json", "zeek-json"),
        ("zeek_conn", "zeek"),
        ("bro:dns:json", "zeek-dns-json"),
        ("zeek:ssh", "zeek-ssh"),
        ("linux_secure", None),
        ("", None),
    ],
)
def test_sourcetype_hints(sourcetype: str, expected: str | None) -> None:
    assert _hint(sourcetype) == expected


def test_detected_as_its_own_format() -> None:
    lines = [line for line in RAW if line.strip()][:20]
    assert detect_format(lines) == "splunk"
    others = {fmt: cls.sniff(lines) for fmt, cls in PARSERS.items() if fmt != "splunk"}
    assert max(others.values()) < 0.5, others


def test_export_of_firewall_logs_stays_splunk() -> None:
    """ASA's sniffer finds its tag inside ``_raw``; Splunk wins the tie."""
    result = {"_raw": ASA, "_time": "2022-01-15T02:33:11.000+00:00", "sourcetype": "cisco:asa"}
    lines = [json.dumps({"preview": False, "offset": n, "result": result}) for n in range(5)]
    assert PARSERS["asa"].sniff(lines) == 1.0
    assert detect_format(lines) == "splunk"


@pytest.mark.parametrize(
    "path",
    sorted(p for p in DATA.rglob("*") if p.is_file() and p not in (LOG, ARRAY)),
    ids=lambda p: p.name,
)
def test_does_not_claim_other_fixtures(path: Path) -> None:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert SplunkParser.sniff(lines[:20]) < 0.5


_SAMPLES = [line for line in RAW if line.strip()]


def _mutated() -> st.SearchStrategy[str]:
    return mutated_lines(_SAMPLES, '{}[]":,0123456789-.\\ \x00%*')


@settings(max_examples=80, deadline=None)
@given(lines=st.lists(_mutated(), max_size=10), first=st.integers(1, 10**6))
def test_mutated_lines_never_crash_and_are_accounted(lines: list[str], first: int) -> None:
    parsed = SplunkParser().parse_chunk(lines, first, "fuzz")
    assert_accounted(parsed, len(lines))


_TEXT = st.text(st.characters(exclude_characters="\n"), max_size=200)


@settings(max_examples=80, deadline=None)
@given(
    raw=_TEXT,
    tail=st.sampled_from(["", "\ud800", ' {"event_type": "alert"}']),
    sourcetype=st.sampled_from(["", "suricata", "cisco:asa", "snort", "wazuh", "x"]),
)
def test_any_raw_text_becomes_an_event(raw: str, tail: str, sourcetype: str) -> None:
    """Whatever ``_raw`` holds, a well-formed result is an event (or a skipped stats record)."""
    record = {"_raw": raw + tail, "_time": 1, "sourcetype": sourcetype}
    parsed = SplunkParser().parse_chunk([json.dumps(record)], 1, "fuzz")
    assert parsed.events.height + parsed.skipped == 1, parsed.dead_letters
    if parsed.events.height:
        assert parsed.events["timestamp"].null_count() == 0
