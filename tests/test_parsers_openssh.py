"""OpenSSH sshd syslog parser (auth.log / secure)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from parser_checks import assert_accounted, mutated_lines

from siem_consensus.parsers.base import LineParser
from siem_consensus.parsers.openssh import OpenSshParser
from siem_consensus.sources import EventStream, detect_format

LOG = Path(__file__).parent / "data" / "parsers" / "openssh.log"
LOGHUB = Path(__file__).resolve().parents[2] / "shared" / "data" / "loghub-openssh"
LINES = [line for line in LOG.read_text(encoding="utf-8").splitlines() if line]


def _rows() -> tuple[dict[int, dict[str, Any]], EventStream]:
    stream = EventStream([LOG], input_format=None)
    rows = {row["line"]: row for _, frame in stream for row in frame.iter_rows(named=True)}
    return rows, stream


def test_fixture_accounting() -> None:
    _, stream = _rows()
    stats = stream.stats
    assert stats.formats == {"openssh.log": "openssh"}
    assert (stats.lines, stats.events, stats.dead_letters, stats.skipped_lines) == (25, 19, 5, 1)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (1, {"event_action": "invalid_user", "event_outcome": None, "user_name": "webadm"}),
        (
            4,
            {
                "event_action": "invalid_user",
                "event_outcome": "failure",
                "user_name": "webadm",
                "source_ip": "198.51.100.23",
                "source_port": 40022,
                "event_code": "password",
                "host_name": "bastion01",
                "event_category": "authentication",
            },
        ),
        (6, {"event_action": "logon", "event_outcome": "failure", "auth_attempts": None}),
        (7, {"event_action": "logon", "event_outcome": "failure", "auth_attempts": 5}),
        (8, {"event_action": "too_many_failures", "user_name": "root", "event_outcome": None}),
        (9, {"event_action": "logon", "event_outcome": "success", "event_code": "publickey"}),
        (10, {"event_action": "session_opened", "user_name": "alice"}),
        (11, {"event_action": None, "event_category": None, "host_name": "bastion01"}),
        (
            14,
            {
                "event_outcome": "success",
                "source_ip": "2001:db8:bad::7",
                "timestamp": datetime(2026, 3, 14, 13, 10, 12, 1000, UTC),
            },
        ),
        (15, {"event_action": "disconnect", "source_ip": "203.0.113.9", "source_port": 51234}),
        (17, {"event_action": "reverse_mapping_failed", "source_ip": "192.0.2.45"}),
        (18, {"event_action": None, "event_category": "authentication"}),
        (25, {"event_action": "invalid_user", "user_name": None, "event_code": "none"}),
    ],
)
def test_variants(line: int, expected: dict[str, Any]) -> None:
    row = _rows()[0][line]
    assert {key: row[key] for key in expected} == expected


def test_bsd_timestamp_takes_the_given_year() -> None:
    row = OpenSshParser(year=2020).parse_line(LINES[0])
    assert row["timestamp"] == datetime(2020, 3, 14, 14, 5, 1, tzinfo=UTC)


def test_dead_letter_reasons() -> None:
    reasons = {letter.line: letter.reason for letter in _rows()[1].dead_letters}
    assert reasons == {
        19: "source address is not an IP address: '203.0.113.300'",
        20: "not a syslog line (expected 'MMM dd hh:mm:ss host program[pid]:')",
        21: "port 99999 is out of range 0-65535",
        22: "invalid syslog timestamp 'Feb 30 14:12:02'",
        23: "message repeated 0 times is out of range",
    }


def test_sniff_needs_sshd() -> None:
    assert OpenSshParser.sniff(LINES[:10]) >= 0.9
    cron_only = [line for line in LINES if "CRON" in line or "sudo" in line]
    assert OpenSshParser.sniff(cron_only) == 0.0
    kernel = (
        "Jan 18 14:23:45 web01 kernel: [1.2] IPTABLES-DROP: IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8"
    )
    assert OpenSshParser.sniff([kernel, LINES[0]]) == 0.5


@given(st.lists(mutated_lines(LINES, " :[]0123456789.abcXYZ\t"), max_size=12))
def test_mutated_lines_are_accounted(lines: list[str]) -> None:
    parsed = OpenSshParser(year=2026).parse_chunk(lines, 1, "fuzz")
    assert_accounted(parsed, len(lines))
    outcomes = set(parsed.events["event_outcome"].drop_nulls().to_list())
    assert outcomes <= {"success", "failure"}
    attempts = parsed.events.filter(parsed.events["event_outcome"].is_null())
    assert attempts["auth_attempts"].null_count() == attempts.height


@pytest.mark.skipif(not LOGHUB.is_dir(), reason="../shared/data/loghub-openssh is absent")
def test_loghub_sample_every_line_an_event() -> None:
    path = LOGHUB / "OpenSSH_2k.log"
    head = path.read_text(encoding="utf-8").splitlines()[:20]
    assert detect_format(head) == "openssh"
    stream = EventStream([path])
    failures = sum(
        int(frame.filter(frame["event_outcome"] == "failure")["auth_attempts"].fill_null(1).sum())
        for _, frame in stream
    )
    assert (stream.stats.events, stream.stats.dead_letters) == (2000, 0)
    # E9 + E10 (Failed password, 383 + 135), E8 (Failed none, 4) and E14 (message repeated
    # 5 times, 2 lines): the template labels of the structured CSV.
    assert failures == 383 + 135 + 4 + 2 * 5


_FAST_SAMPLES = [
    *LINES,
    "Mar 14 14:06:10 bastion01 sshd[9]: Failed password for invalid user ad min from"
    " 203.0.113.9 port 51234 ssh2",
    "Mar 14 14:06:11 bastion01 sshd[1]: Invalid user  from 203.0.113.9",
    "Mar 14 14:06:12 bastion01 sshd[1]: Received disconnect from 203.0.113.9: 11: Bye [preauth]",
    "Mar 14 14:06:13 bastion01 sshd[1]: Received disconnect from 203.0.113.9 port 22:11: Bye",
    "Mar 14 14:06:14 bastion01 sshd[1]: Connection closed by 203.0.113.9 port 2 [preauth]",
    "<34>1 2026-03-14T14:06:15Z bastion01 sshd[1]: Accepted publickey for a from 10.0.0.1 port 1",
]


@given(st.lists(mutated_lines(_FAST_SAMPLES, " :[]0123456789.abcXYZ\t\x1f"), max_size=12))
def test_fast_path_agrees_with_the_line_parser(lines: list[str]) -> None:
    parser = OpenSshParser(year=2026)
    fast = parser.parse_chunk(lines, 7, "m")
    slow = LineParser.parse_chunk(OpenSshParser(year=2026), lines, 7, "m")
    assert fast.events.equals(slow.events)
    assert fast.dead_letters == slow.dead_letters and fast.skipped == slow.skipped


def test_fast_path_takes_the_common_lines() -> None:
    from siem_consensus.parsers.openssh._fast import fast_rows

    taken: list[list[tuple[int, str]]] = []

    def slow(numbered: list[tuple[int, str]]) -> tuple[list[dict[str, Any]], list[Any], int]:
        taken.append(numbered)
        return OpenSshParser(year=2026).parse_numbered(numbered, "s")

    fast, *_ = fast_rows(_FAST_SAMPLES[-6:], 1, 2026, slow)
    assert fast.height == 6 and taken == [[]]


@pytest.mark.parametrize(
    "line",
    [
        # the first " from " has a bad address: the line parser rejects it, the fast path
        # must not find the later, valid one
        "Mar 14 14:06:10 h sshd[1]: Failed password for a from 1.2.3.400 port 2 ssh2: x from"
        " 1.2.3.4 port 3 ssh2",
        # the line parser's address runs on through the colon ("1.2.3.4::1", not an address)
        "Mar 14 14:06:10 h sshd[1]: Received disconnect from 1.2.3.4::1: x",
    ],
)
def test_fast_path_leaves_ambiguous_lines_to_the_line_parser(line: str) -> None:
    fast = OpenSshParser(year=2026).parse_chunk([line], 1, "a")
    slow = LineParser.parse_chunk(OpenSshParser(year=2026), [line], 1, "a")
    assert fast.events.height == 0 and len(fast.dead_letters) == 1
    assert fast.dead_letters == slow.dead_letters
