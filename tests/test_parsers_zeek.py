"""Zeek conn.log parsers: TSV with # directives (``zeek``) and JSON lines (``zeek-json``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from siem_consensus.parsers.ecs import EcsParser
from siem_consensus.parsers.zeek import ZeekJsonParser, ZeekParser
from siem_consensus.sources import EventStream

DATA = Path(__file__).parent / "data" / "parsers"


def _parse(path: Path) -> tuple[dict[int, dict[str, Any]], EventStream]:
    stream = EventStream([path])
    rows = {row["line"]: row for _, frame in stream for row in frame.iter_rows(named=True)}
    return rows, stream


def test_tsv_accounting_skips_directives() -> None:
    rows, stream = _parse(DATA / "zeek_conn.log")
    stats = stream.stats
    assert stats.formats == {"zeek_conn.log": "zeek"}
    assert (stats.lines, stats.events, stats.dead_letters, stats.skipped_lines) == (21, 8, 3, 10)
    assert min(rows) == 9


def test_tsv_s0_row() -> None:
    row = _parse(DATA / "zeek_conn.log")[0][9]
    assert row["timestamp"] == datetime(2026, 1, 18, 14, 23, 45, 123456, UTC)
    assert (row["event_action"], row["event_code"]) == ("no_reply", "S0")
    assert (row["source_ip"], row["source_port"]) == ("45.95.168.200", 52341)
    assert (row["destination_ip"], row["destination_port"]) == ("10.1.50.10", 22)
    assert (row["network_transport"], row["source_bytes"], row["message"]) == ("tcp", None, None)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (10, {"event_action": "reject", "event_code": "REJ", "source_bytes": 0}),
        (
            11,
            {
                "event_action": "allow",
                "source_bytes": 2228,
                "destination_bytes": 5084,
                "message": "ssl",
            },
        ),
        (12, {"network_transport": "udp", "message": "dns"}),
        (15, {"event_action": "allow", "event_code": "RSTOS0"}),
        (16, {"source_ip": "2001:db8:bad::7", "event_action": "no_reply"}),
        (17, {"source_bytes": None, "event_code": "SH"}),
    ],
)
def test_tsv_variants(line: int, expected: dict[str, Any]) -> None:
    row = _parse(DATA / "zeek_conn.log")[0][line]
    assert {key: row[key] for key in expected} == expected


def test_tsv_dead_letters() -> None:
    reasons = {d.line: d.reason for d in _parse(DATA / "zeek_conn.log")[1].dead_letters}
    assert reasons == {
        18: "Zeek row truncated: 5 fields, #fields declares 21",
        19: "id.orig_p 99999 is out of range 0-65535",
        20: "ts is neither epoch seconds nor ISO 8601: 'not-a-time'",
    }


def test_custom_separator_and_field_order() -> None:
    parser = ZeekParser()
    lines = [
        "#separator \\x2c",
        "#unset_field,?",
        "#fields,id.resp_h,id.orig_h,ts,conn_state,id.resp_p",
        "10.0.0.2,10.0.0.1,1768746225.5,S0,?",
    ]
    parsed = parser.parse_chunk(lines, 1, "custom")
    assert parsed.skipped == 3
    row = parsed.events.row(0, named=True)
    assert (row["source_ip"], row["destination_ip"], row["destination_port"]) == (
        "10.0.0.1",
        "10.0.0.2",
        None,
    )


def test_default_fields_without_header() -> None:
    line = "1768746225.0\tC1\t10.0.0.1\t5\t10.0.0.2\t80\ttcp\thttp\t1.0\t10\t20\tSF"
    row = ZeekParser().parse_line(line + "\t-" * 9)
    assert isinstance(row, dict)
    assert (row["destination_port"], row["destination_bytes"]) == (80, 20)


def test_json_accounting_and_fields() -> None:
    rows, stream = _parse(DATA / "zeek_conn.json")
    stats = stream.stats
    assert stats.formats == {"zeek_conn.json": "zeek-json"}
    assert (stats.lines, stats.events, stats.dead_letters, stats.skipped_lines) == (11, 6, 4, 1)
    assert rows[2]["event_action"] == "reject"
    assert rows[5]["timestamp"] == datetime(2026, 1, 18, 14, 23, 48, 500000, UTC)
    assert (rows[6]["source_ip"], rows[6]["destination_port"]) == ("198.51.100.7", 0)
    reasons = {d.line: d.reason for d in stream.dead_letters}
    assert reasons[8] == "id.resp_p 70000 is out of range 0-65535"
    assert reasons[9] == "not a Zeek conn record: no id.resp_h"
    assert reasons[11] == "expected a JSON object, got list"


def test_zeek_json_is_not_taken_for_ecs() -> None:
    lines = [line for line in (DATA / "zeek_conn.json").read_text().splitlines() if line]
    assert ZeekJsonParser.sniff(lines[:6]) == 1.0
    assert EcsParser.sniff(lines[:6]) == 0.0
    ecs = (DATA / "ecs.jsonl").read_text().splitlines()[:2]
    assert ZeekJsonParser.sniff(ecs) == 0.0


_HEADER = [
    "#separator \\x09",
    "#set_separator\t,",
    "#empty_field\t(empty)",
    "#unset_field\t-",
    "#path\tconn",
    "#open\t2017-03-08-13-47-04",
    "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration"
    "\torig_bytes\tresp_bytes\tconn_state\tlabel",
    "#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring"
    "\tstring",
]


def test_relative_timestamps_and_a_long_header_are_detected_as_zeek() -> None:
    """Relabelled captures (Stratosphere) count ts from the capture's start, not the epoch."""
    from siem_consensus.parsers.detect import detect_format

    rows = [
        f"{19.9 + i:.6f}\tC{i}\t192.168.1.115\t{40000 + i}\t41.108.179.197\t1177\ttcp\t-"
        "\t3.0\t0\t0\tS0\tMalicious"
        for i in range(4)
    ]
    assert detect_format([*_HEADER, *rows]) == "zeek"
    assert ZeekParser.sniff(rows) == 1.0  # rows alone, with no header in the sample
