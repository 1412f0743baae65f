"""Zeek dns.log parsers (TSV ``zeek-dns`` and JSON ``zeek-dns-json``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from parser_checks import assert_accounted, mutated_lines

from siem_consensus.parsers.zeek import ZeekJsonParser, ZeekParser
from siem_consensus.parsers.zeek_dns import ZeekDnsJsonParser, ZeekDnsParser
from siem_consensus.parsers.zeek_ssh import ZeekSshParser
from siem_consensus.sources import EventStream

DATA = Path(__file__).parent / "data" / "parsers"
STRATOSPHERE = Path(__file__).resolve().parents[2] / "shared" / "data" / "stratosphere"
TSV = (DATA / "zeek_dns.log").read_text(encoding="utf-8").splitlines()
JSON = (DATA / "zeek_dns.json").read_text(encoding="utf-8").splitlines()


def _rows(name: str) -> tuple[dict[int, dict[str, Any]], EventStream]:
    stream = EventStream([DATA / name])
    rows = {row["line"]: row for _, frame in stream for row in frame.iter_rows(named=True)}
    return rows, stream


def _picked(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["dns_question"], row["event_code"], row["event_outcome"], row["message"])


def test_tsv_accounting_and_fields() -> None:
    rows, stream = _rows("zeek_dns.log")
    stats = stream.stats
    assert stats.formats == {"zeek_dns.log": "zeek-dns"}
    assert (stats.lines, stats.events, stats.dead_letters, stats.skipped_lines) == (17, 5, 3, 9)
    assert {n: _picked(r) for n, r in rows.items()} == {
        9: ("www.example.com", "NOERROR", "success", "qtype=A answers=2"),
        10: ("qwxzkvjy.example", "NXDOMAIN", "failure", "qtype=A answers=0"),
        11: ("printer.local", None, None, "qtype=A"),  # no reply seen
        12: ("cdn.example.net", "NOERROR", "success", "qtype=AAAA answers=0 rejected"),
        13: (None, "SERVFAIL", "failure", "qtype=SOA answers=0"),
    }
    first = rows[9]
    assert first["timestamp"] == datetime(2026, 3, 14, 14, 0, 0, 100000, UTC)
    assert (first["source_ip"], first["source_port"]) == ("10.1.20.7", 50001)
    assert (first["destination_ip"], first["destination_port"]) == ("10.1.0.53", 53)
    assert (first["event_action"], first["network_transport"]) == ("dns-query", "udp")
    assert rows[12]["source_ip"] == "2001:db8::7" and rows[13]["network_transport"] == "tcp"


def test_tsv_dead_letters() -> None:
    reasons = {letter.line: letter.reason for letter in _rows("zeek_dns.log")[1].dead_letters}
    assert reasons == {
        14: "Zeek row truncated: 10 fields, #fields declares 24",
        15: "id.orig_h is not an IP address: '10.1.20.999'",
        16: "rejected is not T/F or true/false: 'maybe'",
    }


def test_json_accounting_fields_and_dead_letters() -> None:
    rows, stream = _rows("zeek_dns.json")
    assert stream.stats.formats == {"zeek_dns.json": "zeek-dns-json"}
    assert _picked(rows[1]) == ("www.example.com", "NOERROR", "success", "qtype=A answers=1")
    # nested id, ISO time, only the rcode number: named from RFC 1035
    assert rows[2]["source_ip"] == "10.1.20.7"
    assert rows[2]["timestamp"] == datetime(2026, 3, 14, 14, 0, 1, 200000, UTC)
    assert _picked(rows[2])[1:3] == ("NXDOMAIN", "failure")
    assert _picked(rows[3])[1:] == (None, None, "qtype=A")
    assert rows[7]["message"] == "answers=1"  # a string of answers is one answer
    assert {letter.line: letter.reason for letter in stream.dead_letters} == {
        4: "rcode is not an integer: 'three'",
        5: "not a Zeek dns record: no id.orig_h",
        6: "expected a JSON object, got list",
        8: "answers is not a list: '5'",
    }


def test_conn_and_ssh_parsers_leave_dns_logs_alone() -> None:
    assert ZeekParser.sniff(TSV[:14]) == 0.0 and ZeekDnsParser.sniff(TSV[:14]) == 1.0
    assert ZeekSshParser.sniff(TSV[:14]) == 0.0
    assert ZeekJsonParser.sniff(JSON[:3]) == 0.0 and ZeekDnsJsonParser.sniff(JSON[:3]) == 1.0
    conn = (DATA / "zeek_conn.log").read_text(encoding="utf-8").splitlines()[:12]
    assert ZeekDnsParser.sniff(conn) == 0.0 and ZeekParser.sniff(conn) >= 0.5
    conn_json = (DATA / "zeek_conn.json").read_text(encoding="utf-8").splitlines()[:3]
    assert ZeekDnsJsonParser.sniff(conn_json) == 0.0


def test_tsv_without_header_uses_default_order() -> None:
    row = ZeekDnsParser().parse_line(TSV[9])
    assert (row["dns_question"], row["event_code"]) == ("qwxzkvjy.example", "NXDOMAIN")


def test_overlong_query_is_a_dead_letter() -> None:
    line = TSV[9].replace("qwxzkvjy.example", "a" * 1025)
    parsed = ZeekDnsParser().parse_chunk([*TSV[:8], line], 1, "long")
    assert parsed.events.height == 0
    assert [d.reason for d in parsed.dead_letters] == [
        "query is longer than 1024 characters (1025)"
    ]


@given(st.lists(mutated_lines(TSV, "\t-#TF:.,0123456789abc"), max_size=12))
def test_tsv_mutated_lines_are_accounted(lines: list[str]) -> None:
    assert_accounted(ZeekDnsParser().parse_chunk(lines, 1, "fuzz"), len(lines))


@given(st.lists(mutated_lines(JSON, '{}[],:"-0123456789.truefalse'), max_size=12))
def test_json_mutated_lines_are_accounted(lines: list[str]) -> None:
    assert_accounted(ZeekDnsJsonParser().parse_chunk(lines, 1, "fuzz"), len(lines))


@pytest.mark.skipif(not STRATOSPHERE.is_dir(), reason="../shared/data/stratosphere is absent")
@pytest.mark.parametrize(
    ("folder", "events"),
    [("003-zeek-scenario-malicious", 1), ("005-zeek-scenario-malicious", 992)],
)
def test_stratosphere_dns_logs(folder: str, events: int) -> None:
    stream = EventStream([STRATOSPHERE / folder / "dns.log"])
    for _ in stream:
        pass
    assert stream.stats.formats == {"dns.log": "zeek-dns"}
    assert (stream.stats.events, stream.stats.dead_letters) == (events, 0)
