"""Zeek ssh.log parsers (TSV ``zeek-ssh`` and JSON ``zeek-ssh-json``) and ECS login events."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from parser_checks import assert_accounted, mutated_lines

from siem_consensus.parsers.zeek import ZeekJsonParser, ZeekParser
from siem_consensus.parsers.zeek_ssh import ZeekSshJsonParser, ZeekSshParser
from siem_consensus.sources import EventStream

DATA = Path(__file__).parent / "data" / "parsers"
STRATOSPHERE = Path(__file__).resolve().parents[2] / "shared" / "data" / "stratosphere"
TSV = (DATA / "zeek_ssh.log").read_text(encoding="utf-8").splitlines()
JSON = (DATA / "zeek_ssh.json").read_text(encoding="utf-8").splitlines()


def _rows(name: str) -> tuple[dict[int, dict[str, Any]], EventStream]:
    stream = EventStream([DATA / name])
    rows = {row["line"]: row for _, frame in stream for row in frame.iter_rows(named=True)}
    return rows, stream


def test_tsv_accounting_and_outcomes() -> None:
    rows, stream = _rows("zeek_ssh.log")
    stats = stream.stats
    assert stats.formats == {"zeek_ssh.log": "zeek-ssh"}
    assert (stats.lines, stats.events, stats.dead_letters, stats.skipped_lines) == (17, 5, 3, 9)
    picked = {
        n: (r["event_action"], r["event_outcome"], r["auth_attempts"]) for n, r in rows.items()
    }
    assert picked == {
        9: ("logon", "failure", 6),
        10: ("logon", "success", 1),
        11: ("logon", "success", 4),
        12: ("connection", None, 0),
        13: ("logon", "failure", 3),
    }
    first = rows[9]
    assert first["timestamp"] == datetime(2026, 3, 14, 14, 0, 0, 100000, UTC)
    assert (first["source_ip"], first["source_port"]) == ("203.0.113.9", 51234)
    assert (first["destination_ip"], first["destination_port"]) == ("10.1.50.10", 22)
    assert (
        first["message"]
        == "direction=INBOUND client=SSH-2.0-libssh_0.9.6 server=SSH-2.0-OpenSSH_9.6"
    )
    assert rows[10]["message"].startswith("client=")  # direction '-' is unset


def test_tsv_dead_letters() -> None:
    reasons = {letter.line: letter.reason for letter in _rows("zeek_ssh.log")[1].dead_letters}
    assert reasons == {
        14: "auth_success is not T/F or true/false: 'maybe'",
        15: "Zeek row truncated: 5 fields, #fields declares 12",
        16: "id.resp_h is not an IP address: '10.1.50.999'",
    }


def test_json_accounting_fields_and_dead_letters() -> None:
    rows, stream = _rows("zeek_ssh.json")
    assert stream.stats.formats == {"zeek_ssh.json": "zeek-ssh-json"}
    assert rows[2]["source_ip"] == "10.20.4.12" and rows[2]["event_outcome"] == "success"
    assert rows[3]["timestamp"] == datetime(2026, 3, 14, 14, 2, 0, 300000, UTC)
    assert (rows[3]["event_action"], rows[3]["event_outcome"]) == ("connection", None)
    reasons = {letter.line: letter.reason for letter in stream.dead_letters}
    assert reasons == {
        4: "auth_success is not T/F or true/false: 'yes'",
        5: "not a Zeek ssh record: no id.orig_h",
        6: "expected a JSON object, got list",
        7: "auth_attempts -1 is out of range",
    }


def test_conn_parsers_leave_ssh_logs_alone() -> None:
    assert ZeekParser.sniff(TSV[:14]) == 0.0 and ZeekSshParser.sniff(TSV[:14]) == 1.0
    assert ZeekJsonParser.sniff(JSON[:3]) == 0.0 and ZeekSshJsonParser.sniff(JSON[:3]) == 1.0
    conn = (DATA / "zeek_conn.log").read_text(encoding="utf-8").splitlines()[:12]
    assert ZeekSshParser.sniff(conn) == 0.0 and ZeekParser.sniff(conn) >= 0.5


def test_tsv_without_header_uses_default_order() -> None:
    row = ZeekSshParser().parse_line(TSV[8])
    assert row["event_outcome"] == "failure" and row["auth_attempts"] == 6


@given(st.lists(mutated_lines(TSV, "\t-#TF:.0123456789abc"), max_size=12))
def test_tsv_mutated_lines_are_accounted(lines: list[str]) -> None:
    assert_accounted(ZeekSshParser().parse_chunk(lines, 1, "fuzz"), len(lines))


@given(st.lists(mutated_lines(JSON, '{}[],:"-0123456789.truefalse'), max_size=12))
def test_json_mutated_lines_are_accounted(lines: list[str]) -> None:
    assert_accounted(ZeekSshJsonParser().parse_chunk(lines, 1, "fuzz"), len(lines))


def test_ecs_windows_logons() -> None:
    rows, stream = _rows("ecs_auth.jsonl")
    assert stream.stats.formats == {"ecs_auth.jsonl": "ecs"}
    failed, ok, flat = rows[1], rows[2], rows[3]
    assert (failed["event_code"], failed["event_action"], failed["event_outcome"]) == (
        "4625",
        "logon-failed",
        "failure",
    )
    assert (failed["user_name"], failed["source_ip"], failed["host_name"]) == (
        "svc-sql",
        "10.20.9.77",
        "dc01.corp.example",
    )
    assert failed["event_category"] == "authentication" and ok["event_outcome"] == "success"
    assert (flat["user_name"], flat["event_outcome"], flat["host_name"]) == (
        "bob",
        "failure",
        "vpn01",
    )
    assert [d.reason for d in stream.dead_letters] == [
        "source.ip is not an IP address: 'not-an-ip'"
    ]


@pytest.mark.skipif(not STRATOSPHERE.is_dir(), reason="../shared/data/stratosphere is absent")
@pytest.mark.parametrize(
    ("folder", "fmt", "events"),
    [("004-zeek-scenario-ssh", "zeek-ssh-json", 396), ("006-zeek-scenario-ssh", "zeek-ssh", 10)],
)
def test_stratosphere_ssh_logs(folder: str, fmt: str, events: int) -> None:
    stream = EventStream([STRATOSPHERE / folder / "ssh.log"])
    for _ in stream:
        pass
    assert stream.stats.formats == {"ssh.log": fmt}
    assert (stream.stats.events, stream.stats.dead_letters) == (events, 0)


def test_attempts_beyond_int32_are_a_dead_letter() -> None:
    line = TSV[8].replace("\tF\t6\t", "\tF\t3000000000\t")
    parsed = ZeekSshParser().parse_chunk([*TSV[:8], line], 1, "big")
    assert parsed.events.height == 0
    assert [d.reason for d in parsed.dead_letters] == ["auth_attempts 3000000000 is out of range"]
