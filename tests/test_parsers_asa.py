"""Cisco ASA parser: field mapping, header variants, dead-letter reasons and the fast path."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from parser_checks import run_in_december  # noqa: F401 (autouse: the time of the run)

from siem_consensus.parsers.asa import AsaParser
from siem_consensus.parsers.base import LineParser, ParsedChunk
from siem_consensus.sources import EventStream

ASA = Path(__file__).parent / "data" / "parsers" / "asa.log"
LINES = ASA.read_text(encoding="utf-8").splitlines()
YEAR = 2026  # the year of parser_checks.RUN_TIME


BODY = (
    "%ASA-4-106023: Deny tcp src outside:45.95.168.200/52341 dst inside:10.1.50.10/443 "
    'by access-group "outside_in" [0x0, 0x0]'
)


def _rows(path: Path) -> tuple[dict[int, dict[str, Any]], EventStream]:
    stream = EventStream([path])
    rows = {row["line"]: row for _, frame in stream for row in frame.iter_rows(named=True)}
    return rows, stream


def _ts(year: int, month: int, day: int, hour: int, minute: int, second: int) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_fixture_is_fully_accounted() -> None:
    rows, stream = _rows(ASA)
    stats = stream.stats
    assert stats.formats == {"asa.log": "asa"}
    assert (stats.lines, stats.events, stats.dead_letters, stats.skipped_lines) == (29, 22, 6, 1)
    assert stats.events + stats.dead_letters + stats.skipped_lines == stats.lines
    assert set(rows) == set(range(1, 21)) | {28, 29}


def test_deny_106023_fields() -> None:
    row = _rows(ASA)[0][1]
    assert row["timestamp"] == _ts(YEAR, 1, 18, 14, 23, 45)
    assert row["event_action"] == "deny"
    assert row["event_code"] == "ASA-4-106023"
    assert (row["source_ip"], row["source_port"]) == ("45.95.168.200", 52341)
    assert (row["destination_ip"], row["destination_port"]) == ("10.1.50.10", 443)
    assert row["network_transport"] == "tcp"
    assert row["rule_name"] == "outside_in"
    assert row["host_name"] == "firewall"
    assert row["dataset"] == "asa"
    assert row["message"].startswith("Deny tcp src outside:45.95.168.200/52341")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (3, {"timestamp": _ts(YEAR, 1, 8, 3, 4, 5), "network_transport": "udp"}),
        (4, {"network_transport": "icmp", "source_port": None, "destination_port": None}),
        (5, {"network_transport": "47", "destination_ip": "10.1.50.20"}),
        (6, {"user_name": "LOCAL\\alice", "source_ip": "10.1.30.15", "rule_name": "inside_out"}),
        (7, {"event_code": "ASA-2-106001", "host_name": None, "destination_port": 3389}),
        (8, {"timestamp": _ts(2026, 1, 18, 14, 24, 11), "host_name": "fw01", "source_port": 40000}),
        (9, {"event_code": "ASA-2-106007", "source_port": 53, "destination_port": 34567}),
        (10, {"event_code": "ASA-3-106014", "source_ip": "198.51.100.7", "source_port": None}),
        (11, {"event_code": "ASA-6-106015", "source_ip": "10.1.50.10", "event_action": "deny"}),
        (12, {"event_action": "deny", "rule_name": "outside_in", "destination_port": 8080}),
        (13, {"event_action": "allow", "rule_name": "inside_out", "network_transport": "udp"}),
        (14, {"event_action": "allow", "source_ip": "198.51.100.23", "destination_port": 443}),
        (15, {"source_ip": "10.1.30.15", "source_port": 52000, "destination_ip": "93.184.216.34"}),
        (16, {"timestamp": datetime(2026, 1, 18, 14, 24, 22, 250000, UTC), "source_port": 51001}),
        (17, {"event_action": "teardown", "source_bytes": 48213, "destination_bytes": None}),
        (18, {"event_code": "ASA-6-302016", "source_bytes": 128, "network_transport": "udp"}),
        (19, {"event_code": "ASA-3-710003", "destination_ip": "203.0.113.1", "rule_name": None}),
        (20, {"event_code": "FTD-4-106023", "source_ip": "2001:db8:bad::7", "host_name": "ftd01"}),
        (28, {"timestamp": None, "host_name": None, "destination_port": 21}),
        (29, {"source_bytes": 0, "event_action": "teardown"}),
    ],
)
def test_family_fields(line: int, expected: dict[str, Any]) -> None:
    row = _rows(ASA)[0][line]
    assert {key: row[key] for key in expected} == expected


def test_iso_offset_converted_to_utc() -> None:
    assert _rows(ASA)[0][15]["timestamp"] == _ts(2026, 1, 18, 14, 24, 21)


def test_dead_letter_reasons() -> None:
    _, stream = _rows(ASA)
    reasons = {letter.line: letter.reason for letter in stream.dead_letters}
    assert reasons == {
        22: "unsupported ASA message id 305011",
        23: "ASA 106023 line truncated: no destination",
        24: "ASA 106023 line truncated: no access-group",
        25: "invalid syslog timestamp 'Feb 30 14:25:33'",
        26: "source port 99999 is out of range 0-65535",
        27: "not an ASA syslog line (no %ASA-<severity>-<message id>: tag)",
    }
    assert all(letter.parser == "asa" for letter in stream.dead_letters)


@pytest.mark.parametrize(
    ("header", "timestamp", "host"),
    [
        ("Jan 18 14:23:45 firewall ", datetime(2024, 1, 18, 14, 23, 45, tzinfo=UTC), "firewall"),
        (
            "<166>Jan 18 14:23:45 firewall ",
            datetime(2024, 1, 18, 14, 23, 45, tzinfo=UTC),
            "firewall",
        ),
        ("Jan 18 2025 14:23:45 fw01 : ", datetime(2025, 1, 18, 14, 23, 45, tzinfo=UTC), "fw01"),
        ("<166>Jan 18 2025 14:23:45: ", datetime(2025, 1, 18, 14, 23, 45, tzinfo=UTC), None),
        ("Jan 18 14:23:45.123 fw01 ", datetime(2024, 1, 18, 14, 23, 45, 123000, UTC), "fw01"),
        ("2025-01-18T14:23:45Z fw01 ", datetime(2025, 1, 18, 14, 23, 45, tzinfo=UTC), "fw01"),
        (
            "2025-01-18T15:23:45.5+01:00 fw01 : ",
            datetime(2025, 1, 18, 14, 23, 45, 500000, UTC),
            "fw01",
        ),
        ("2025-01-18 14:23:45-0500 fw01 ", datetime(2025, 1, 18, 19, 23, 45, tzinfo=UTC), "fw01"),
        (
            "<166>1 2025-01-18T14:23:45.000Z fw01 - - - ",
            datetime(2025, 1, 18, 14, 23, 45, tzinfo=UTC),
            "fw01",
        ),
        ("fw01 : ", None, "fw01"),
        ("", None, None),
    ],
)
def test_header_variants(header: str, timestamp: datetime | None, host: str | None) -> None:
    parser = AsaParser(year=2024)
    line = header + BODY
    frame = parser.parse_chunk([line], 1, "h").events
    assert frame.height == 1
    assert (frame["timestamp"][0], frame["host_name"][0]) == (timestamp, host)
    reference = parser.parse_line(line)
    assert (reference["timestamp"], reference["host_name"]) == (timestamp, host)


def test_year_defaults_to_current_utc_year() -> None:
    line = "Jan 18 14:23:45 firewall " + BODY
    assert AsaParser().parse_line(line)["timestamp"].year == YEAR
    assert AsaParser(year=2019).parse_line(line)["timestamp"].year == 2019
    with_year = "Jan 18 2021 14:23:45 firewall " + BODY
    assert AsaParser(year=2019).parse_line(with_year)["timestamp"].year == 2021


def _generated(count: int) -> list[str]:
    headers = (
        "Jan 18 14:23:{s:02d} fw01 ",
        "<166>Jan  8 2026 09:0{d}:{s:02d}: ",
        "2026-01-18T14:23:{s:02d}Z fw ",
    )
    bodies = (
        "%ASA-4-106023: Deny tcp src outside:45.95.{d}.{s}/5{s:04d} dst inside:10.1.50.10/443 "
        'by access-group "outside_in" [0x0, 0x0]',
        "%ASA-2-106001: Inbound TCP connection denied from 198.51.{d}.{s}/4{s:04d} "
        "to 10.1.50.10/22 flags SYN  on interface outside",
        "%ASA-6-302013: Built inbound TCP connection {n} for outside:203.0.{d}.{s}/6{s:04d} "
        "(203.0.{d}.{s}/6{s:04d}) to inside:10.1.60.5/443 (192.0.2.5/443)",
        "%ASA-6-302014: Teardown TCP connection {n} for outside:203.0.{d}.{s}/6{s:04d} to "
        "inside:10.1.60.5/443 duration 0:00:{s:02d} bytes {n} TCP FINs",
    )
    out = []
    for n in range(count):
        values = {"s": n % 60, "d": n % 7, "n": n}
        out.append(headers[n % 3].format(**values) + bodies[n % 4].format(**values))
    return out


def test_fast_path_settles_common_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: AsaParser, line: str) -> dict[str, Any]:
        """Stand-in for parse_line that fails the test if the slow path runs."""
        raise AssertionError(f"per-line path used for {line!r}")

    monkeypatch.setattr(AsaParser, "parse_line", refuse)
    parsed = AsaParser(year=2026).parse_chunk(_generated(600), 101, "gen")
    assert parsed.events.height == 600
    assert parsed.events["line"].to_list() == list(range(101, 701))
    assert set(parsed.events["event_action"]) == {"deny", "allow", "teardown"}


def _same(fast: ParsedChunk, slow: ParsedChunk) -> None:
    assert fast.events.equals(slow.events)
    assert [(d.line, d.reason, d.raw_excerpt) for d in fast.dead_letters] == [
        (d.line, d.reason, d.raw_excerpt) for d in slow.dead_letters
    ]
    assert fast.skipped == slow.skipped


def test_fast_path_agrees_with_per_line_reference() -> None:
    parser = AsaParser(year=2026)
    lines = LINES + _generated(50)
    _same(parser.parse_chunk(lines, 1, "x"), LineParser.parse_chunk(parser, lines, 1, "x"))


_printable = st.characters(exclude_categories=["Cs"], exclude_characters="\n")


@st.composite
def _mutated(draw: st.DrawFn) -> str:
    line = draw(st.sampled_from([*LINES, *_generated(8)]))
    cut = draw(st.integers(0, len(line)))
    kind = draw(st.sampled_from(("truncate", "insert", "replace", "keep")))
    if kind == "truncate":
        return line[:cut]
    extra = draw(st.text(_printable, min_size=1, max_size=3))
    if kind == "insert":
        return line[:cut] + extra + line[cut:]
    if kind == "replace":
        return line[:cut] + extra + line[cut + len(extra) :]
    return line


@given(st.lists(_mutated(), min_size=1, max_size=12))
def test_fast_path_agrees_on_mutated_lines(lines: list[str]) -> None:
    parser = AsaParser(year=2026)
    _same(parser.parse_chunk(lines, 7, "m"), LineParser.parse_chunk(parser, lines, 7, "m"))


def test_sniff() -> None:
    assert AsaParser.sniff(LINES[:5]) == 1.0
    assert AsaParser.sniff(["Jan 18 14:23:45 host sshd[1]: Accepted password"]) == 0.0
    assert AsaParser.sniff([]) == 0.0


def _stream_rows(stream: EventStream) -> tuple[list[tuple[Any, ...]], list[tuple[int, str]]]:
    rows = [row for _, frame in stream for row in frame.drop("source").iter_rows()]
    return rows, [(d.line, d.reason) for d in stream.dead_letters]


@given(
    st.lists(_mutated(), min_size=1, max_size=20),
    st.integers(1, 6),
    st.sampled_from(["\n", "\r\n"]),
)
def test_file_reading_matches_lines(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str], chunk: int, end: str
) -> None:
    """A file read in bulk (series of ``chunk`` lines) parses as its decoded lines do."""
    path = tmp_path_factory.mktemp("asa") / "fw.log"
    path.write_bytes((end.join(lines) + end).encode("utf-8", errors="surrogatepass"))
    decoded = path.read_bytes().decode("utf-8", errors="replace").split("\n")[:-1]
    from_file = EventStream([path], input_format="asa", chunk_lines=chunk)
    from_lines = EventStream([[line.rstrip("\r") for line in decoded]], input_format="asa")
    from_lines.chunk_lines = chunk
    assert _stream_rows(from_file) == _stream_rows(from_lines)
    assert from_file.stats.lines == len(lines)
