"""CERT insider-threat parsers: detection, field mapping, header variants, dead letters, LDAP."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siem_consensus.errors import InputError
from siem_consensus.parsers import PARSERS
from siem_consensus.parsers.base import LineParser, ParsedChunk
from siem_consensus.parsers.cert import cert_format, cert_inputs, read_ldap
from siem_consensus.sources import EventStream, detect_format

DATA = Path(__file__).parent / "data" / "parsers"
CERT = DATA / "cert"
CERT_FORMATS = ("cert", "cert-device", "cert-email", "cert-file", "cert-http", "cert-logon")
FIXTURES = {
    "logon.csv": "cert-logon",
    "device.csv": "cert-device",
    "device_r6.csv": "cert-device",
    "file_r4.csv": "cert-file",
    "file_r6.csv": "cert-file",
    "http_r4.csv": "cert-http",
    "http_r6.csv": "cert-http",
    "http_headerless.csv": "cert-http",
    "email_r4.csv": "cert-email",
    "email_r6.csv": "cert-email",
    "combined.csv": "cert",
    "combined_header.csv": "cert",
}


def _events(path: Path, **kwargs: Any) -> tuple[pl.DataFrame, EventStream]:
    stream = EventStream([path], **kwargs)
    frames = [frame for _, frame in stream]
    stats = stream.stats
    assert stats.events + stats.dead_letters + stats.skipped_lines == stats.lines
    events = pl.concat(frames) if frames else pl.DataFrame()
    return events, stream


def _row(events: pl.DataFrame, line: int) -> dict[str, Any]:
    return events.filter(pl.col("line") == line).row(0, named=True)


def _lines(name: str) -> list[str]:
    return (CERT / name).read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_each_kind_is_detected_as_its_own_format(name: str) -> None:
    sample = [line for line in _lines(name) if line.strip()]
    assert detect_format(sample, name) == FIXTURES[name]
    others = {fmt: cls.sniff(sample) for fmt, cls in PARSERS.items() if fmt != FIXTURES[name]}
    assert all(score < 0.5 for score in others.values()), others
    assert cert_format(CERT / name) == FIXTURES[name]


def _foreign_fixtures() -> list[Path]:
    return sorted(path for path in [*DATA.glob("*.*"), *DATA.glob("ids/*.*")] if path.is_file())


@pytest.mark.parametrize("path", _foreign_fixtures(), ids=lambda path: path.name)
def test_cert_parsers_do_not_claim_other_formats(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    sample = [line for line in text.splitlines() if line.strip()][:20]
    scores = {fmt: PARSERS[fmt].sniff(sample) for fmt in CERT_FORMATS}
    assert all(score < 0.5 for score in scores.values()), scores


def test_logon_fields() -> None:
    events, stream = _events(CERT / "logon.csv")
    assert (stream.stats.events, stream.stats.skipped_lines) == (8, 1)
    first = _row(events, 2)
    assert first["timestamp"] == datetime(2010, 1, 2, 6, 49, tzinfo=UTC)
    assert (first["user_name"], first["host_name"]) == ("NGF0157", "PC-6056")
    assert (first["event_category"], first["event_action"]) == ("logon", "logon")
    assert first["dataset"] == "cert-logon" and first["message"] is None
    assert _row(events, 9)["event_action"] == "logoff"
    assert set(events["source"]) == {"logon.csv"}


@pytest.mark.parametrize("name", ["device.csv", "device_r6.csv"])
def test_device_fields_in_both_releases(name: str) -> None:
    events, _ = _events(CERT / name)
    assert set(events["event_category"]) == {"device"}
    assert events["event_action"].to_list()[:2] == ["connect", "disconnect"]
    assert events["file_path"].null_count() == events.height  # r6.2 file_tree is not kept


def test_file_r42_rows_are_copies_and_content_is_dropped() -> None:
    events, _ = _events(CERT / "file_r4.csv")
    first = _row(events, 2)
    assert first["file_path"] == "EYPC9Y08.doc"
    assert (first["event_category"], first["event_action"]) == ("file", "file_copy")
    assert first["message"] is None
    text = " ".join(str(value) for row in events.iter_rows() for value in row)
    assert "difficulty" not in text and "landed" not in text


def test_file_r62_activity_and_removable_media_flags() -> None:
    events, _ = _events(CERT / "file_r6.csv")
    actions = events.sort("line")["event_action"].to_list()
    assert actions == ["file_open", "file_copy", "file_write", "file_delete", "file_copy"]
    assert _row(events, 2)["file_path"] == "C:\\3NKG1C3M\\7AJ3TJ2D.doc"
    assert _row(events, 2)["message"] is None
    assert _row(events, 3)["message"] == "to_removable_media"
    assert _row(events, 6)["message"] == "from_removable_media"
    assert "coastal" not in str(events.to_dicts())


@pytest.mark.parametrize("name", ["http_r4.csv", "http_headerless.csv"])
def test_http_r42_with_and_without_header(name: str) -> None:
    events, stream = _events(CERT / name)
    rows = len(_lines(name)) - (name == "http_r4.csv")
    assert (stream.stats.events, stream.stats.dead_letters) == (rows, 0)
    assert set(events["event_category"]) == {"web"}
    assert set(events["event_action"]) == {"www_visit"}
    assert events.sort("line")["url_original"][0].startswith("http://msn.com/The_Human_Centipede")
    assert events["source_bytes"].null_count() == events["destination_bytes"].null_count() == rows


def test_http_r62_activities() -> None:
    events, _ = _events(CERT / "http_r6.csv")
    assert events.sort("line")["event_action"].to_list() == [
        "www_visit",
        "www_upload",
        "www_download",
    ]


def test_email_r42_recipients_size_and_attachment_count() -> None:
    events, _ = _events(CERT / "email_r4.csv")
    first = _row(events, 2)
    assert first["email_to"] == (
        "Dean.Flynn.Hines@dtaa.com,Wade_Harrison@lockheed.com,Nathaniel.Hunter.Heath@dtaa.com"
    )
    assert first["email_from"] == "Lynn.Adena.Pratt@dtaa.com"
    assert (first["source_bytes"], first["email_attachments"]) == (25830, 0)
    assert (first["event_category"], first["event_action"]) == ("email", "send")
    assert _row(events, 3)["email_attachments"] == 2
    assert _row(events, 4)["email_to"] == "Penelope_Colon@netzero.com,Quinn.Meredith@dtaa.com"
    assert "powerful" not in str(events.to_dicts())


def test_email_r62_activity_and_attachment_names() -> None:
    events, _ = _events(CERT / "email_r6.csv")
    sent, viewed = _row(events, 2), _row(events, 3)
    assert (sent["event_action"], sent["email_attachments"], sent["source_bytes"]) == (
        "send",
        2,
        34982,
    )
    assert (viewed["event_action"], viewed["email_attachments"]) == ("view", 0)
    assert viewed["email_to"] == "Beck.Tanek.Rasmussen@dtaa.com,Lee.Ross@dtaa.com"


def test_combined_without_header() -> None:
    events, stream = _events(CERT / "combined.csv")
    assert (stream.stats.events, stream.stats.skipped_lines) == (6, 0)
    categories = events.sort("line")["event_category"].to_list()
    assert categories == ["logon", "device", "file", "web", "email", "logon"]
    assert set(events["dataset"]) == {"cert"}
    assert _row(events, 3)["file_path"] == "EYPC9Y08.doc"
    assert _row(events, 5)["email_attachments"] == 1


def test_combined_with_per_kind_headers_and_bytes_extension() -> None:
    events, stream = _events(CERT / "combined_header.csv")
    assert (stream.stats.events, stream.stats.skipped_lines) == (4, 3)
    copy, upload = _row(events, 5), _row(events, 6)
    assert (copy["event_action"], copy["message"]) == ("file_copy", "to_removable_media")
    assert (copy["destination_bytes"], copy["source_bytes"]) == (52000, None)
    assert (upload["event_action"], upload["source_bytes"]) == ("www_upload", 73400320)
    assert upload["destination_bytes"] is None
    assert _row(events, 7)["email_to"] == "a@dtaa.com,b@dtaa.com,c@dtaa.com"


def test_combined_dead_letters() -> None:
    lines = [
        "mail,{A},01/02/2010 06:49:00,U1,PC-1,x@y,,,z@y,10,0,hi",
        "logon,id,date,user,pc,filename",
        "logon,{B},01/02/2010 06:49:00,U1,PC-1",
        "logon,{C},01/02/2010 06:49:00,U1,PC-1,Logon",
    ]
    parsed = PARSERS["cert"]().parse_chunk(lines, 1, "mixed")
    reasons = [letter.reason for letter in parsed.dead_letters]
    assert reasons == [
        "cert: unknown kind 'mail' in the first column "
        "(expected one of logon, device, file, http, email)",
        "cert logon header: header lacks column(s) activity",
        "cert logon row: expected 5 fields, got 4",
    ]
    assert parsed.events["line"].to_list() == [4]


def test_malformed_rows_become_specific_dead_letters() -> None:
    events, stream = _events(CERT / "malformed_logon.csv", input_format="cert-logon")
    reasons = {letter.line: letter.reason for letter in stream.dead_letters}
    assert reasons == {
        3: "cert-logon: expected 5 fields, got 3",
        4: "cert-logon: unparseable date '13/45/2010 25:00:00' (expected MM/DD/YYYY HH:MM:SS)",
        5: "cert-logon: unknown activity 'Plug' (expected Logon or Logoff)",
        7: "cert-logon: empty user",
        8: "cert-logon: expected 5 fields, got 6",
    }
    assert stream.stats.skipped_lines == 2  # header and blank line
    quoted, padded = _row(events, 9), _row(events, 10)
    assert (quoted["user_name"], quoted["event_action"]) == ("NGF0157", "logoff")
    assert padded["timestamp"] == datetime(2010, 1, 2, 17, 28, 18, tzinfo=UTC)
    assert (padded["user_name"], padded["host_name"]) == ("LRR0148", "PC-4124")


@pytest.mark.parametrize(
    ("fmt", "line", "reason"),
    [
        ("cert-device", "{A},01/02/2010 07:00:00,U1,PC-1,Plug", "unknown activity 'Plug'"),
        ("cert-email", "{A},01/02/2010 07:00:00,U1,PC-1,a@b,,,c@d,big,0,x", "size is not"),
        ("cert-email", "{A},01/02/2010 07:00:00,U1,PC-1,a@b,,,c@d,1,99999999999,x", "out of"),
        ("cert-http", "{A},01/02/2010 07:00:00,U1,PC-1,,x", "cert-http: empty url"),
        ("cert-file", "{A},02/30/2010 07:00:00,U1,PC-1,a.doc,x", "unparseable date '02/30"),
        ("cert-file", "{A},01/02/2010 07:00:00,U1,PC-1,a.doc", "expected at least 6 fields"),
    ],
)
def test_bad_values_are_dead_letters(fmt: str, line: str, reason: str) -> None:
    parsed = PARSERS[fmt]().parse_chunk([line], 1, "bad")
    assert parsed.events.height == 0
    assert reason in parsed.dead_letters[0].reason


def test_byte_counts_flags_and_spacing_on_the_per_line_path() -> None:
    header = "id,date,user,pc,filename,activity,to_removable_media,bytes,content"
    lines = [
        header,
        "{A},01/02/2010 07:00:00,U1,PC-1,a.doc,File Write,false,9223372036854775807,x",
        "{B},01/02/2010 07:00:00,U1,PC-1,a.doc,File Write,false,9223372036854775808,x",
        "{C},01/02/2010 07:00:00,U1,PC-1,a.doc,File Write,maybe,1,x",
        "{D},1/2/2010 7:00:00,U1,PC-1,a.doc,FILE  OPEN,TRUE,0012,x",
    ]
    parsed = PARSERS["cert-file"]().parse_chunk(lines, 1, "f")
    reasons = [letter.reason for letter in parsed.dead_letters]
    assert reasons == [
        "cert-file: bytes is not a byte count: '9223372036854775808'",
        "cert-file: to_removable_media is not True or False: 'maybe'",
    ]
    rows = {row["line"]: row for row in parsed.events.iter_rows(named=True)}
    assert rows[2]["source_bytes"] == 2**63 - 1 and rows[2]["destination_bytes"] is None
    assert (rows[5]["event_action"], rows[5]["destination_bytes"]) == ("file_open", 12)
    assert rows[5]["message"] == "to_removable_media"


def test_header_of_another_file_is_a_dead_letter() -> None:
    parsed = PARSERS["cert-logon"]().parse_chunk(_lines("file_r4.csv"), 1, "file.csv")
    assert parsed.dead_letters[0].reason == (
        "cert-logon: header lacks column(s) activity (is this logon.csv?)"
    )
    assert parsed.events.height == 0


def test_repeated_header_redefines_columns(tmp_path: Path) -> None:
    path = tmp_path / "file.csv"
    path.write_text("\n".join([*_lines("file_r4.csv"), *_lines("file_r6.csv")]) + "\n")
    events, stream = _events(path)
    assert (stream.stats.events, stream.stats.skipped_lines) == (8, 2)
    assert events.sort("line")["event_action"].to_list()[2:5] == [
        "file_copy",
        "file_open",
        "file_copy",
    ]


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_chunking_does_not_change_the_result(name: str) -> None:
    whole, _ = _events(CERT / name)
    pieces, _ = _events(CERT / name, chunk_lines=2)
    assert whole.equals(pieces)


def _reference(fmt: str, lines: list[str], first: int, source: str) -> ParsedChunk:
    """The base-class per-line loop, bypassing the vectorised ``parse_chunk``."""
    parser = PARSERS[fmt]()
    assert isinstance(parser, LineParser)
    return LineParser.parse_chunk(parser, lines, first, source)


def _same(fast: ParsedChunk, slow: ParsedChunk) -> None:
    assert fast.events.equals(slow.events)
    assert [(d.line, d.reason) for d in fast.dead_letters] == [
        (d.line, d.reason) for d in slow.dead_letters
    ]
    assert fast.skipped == slow.skipped


@pytest.mark.parametrize("name", [*sorted(FIXTURES), "malformed_logon.csv"])
def test_vectorised_path_matches_the_per_line_reference(name: str) -> None:
    fmt = FIXTURES.get(name, "cert-logon")
    lines = _lines(name)
    _same(
        PARSERS[fmt]().parse_chunk(lines, 7, name),
        _reference(fmt, lines, 7, name),
    )


_SAMPLES = [line for name in FIXTURES for line in _lines(name)]
_NOISE = st.text(st.sampled_from(',;:"\t /\\.-_0123456789TrueFalsLogfWXxaZ{}\x00'), max_size=5)


@st.composite
def _cert_line(draw: st.DrawFn) -> str:
    line = draw(st.sampled_from(_SAMPLES))
    cut = draw(st.integers(0, len(line)))
    mode = draw(st.sampled_from(("insert", "truncate", "replace", "keep")))
    if mode == "truncate":
        return line[:cut]
    if mode == "keep":
        return line
    end = cut if mode == "insert" else min(len(line), cut + draw(st.integers(1, 4)))
    return line[:cut] + draw(_NOISE) + line[end:]


@pytest.mark.parametrize("fmt", CERT_FORMATS)
@settings(max_examples=60, deadline=None)
@given(lines=st.lists(_cert_line(), max_size=12), first=st.integers(1, 10**6))
def test_mutated_rows_are_accounted_and_both_paths_agree(
    fmt: str, lines: list[str], first: int
) -> None:
    fast = PARSERS[fmt]().parse_chunk(lines, first, "fuzz")
    events, dead = fast.events["line"].to_list(), [d.line for d in fast.dead_letters]
    assert len(events) + len(dead) + fast.skipped == len(lines)
    assert set(events).isdisjoint(dead)
    _same(fast, _reference(fmt, lines, first, "fuzz"))
    PARSERS[fmt].sniff([line for line in lines if line.strip()])


def test_read_ldap_keeps_the_latest_record_and_the_months() -> None:
    ldap = read_ldap(CERT / "LDAP")
    assert ldap.columns == [
        "user_id",
        "employee_name",
        "email",
        "role",
        "business_unit",
        "functional_unit",
        "department",
        "team",
        "supervisor",
        "first_month",
        "last_month",
    ]
    rows = {row["user_id"]: row for row in ldap.iter_rows(named=True)}
    assert rows["NGF0157"]["role"] == "Manager"  # promoted in 2010-02: latest wins
    assert (rows["NGF0157"]["first_month"], rows["NGF0157"]["last_month"]) == (
        "2010-01",
        "2010-03",
    )
    latest = ldap["last_month"].max()
    left = ldap.filter(pl.col("last_month") < latest)["user_id"].to_list()
    assert left == ["LRR0148", "MOH0273"]
    assert rows["IRM0931"]["first_month"] == "2010-02"  # joined later
    assert read_ldap(CERT).equals(ldap)  # the directory holding LDAP/ works too


def test_read_ldap_single_file_and_errors(tmp_path: Path) -> None:
    one = read_ldap(CERT / "LDAP" / "2010-02.csv")
    assert one.height == 3 and set(one["last_month"]) == {"2010-02"}
    odd = tmp_path / "people.csv"
    odd.write_text((CERT / "LDAP" / "2010-01.csv").read_text())
    assert read_ldap(odd)["first_month"].null_count() == 3
    with pytest.raises(InputError, match="no LDAP snapshot"):
        read_ldap(tmp_path)
    bad = tmp_path / "2010-01.csv"
    bad.write_text("name,role\nA,B\n")
    with pytest.raises(InputError, match="without a user_id column"):
        read_ldap(bad)
    with pytest.raises(InputError, match="no such file"):
        read_ldap(tmp_path / "missing")


def test_cert_inputs_on_a_directory() -> None:
    inputs = cert_inputs(CERT)
    names = [path.name for path in inputs.event_files]
    assert names == [
        "logon.csv",
        "device.csv",
        "device_r6.csv",
        "file_r4.csv",
        "file_r6.csv",
        "http_headerless.csv",
        "http_r4.csv",
        "http_r6.csv",
        "email_r4.csv",
        "email_r6.csv",
        "combined.csv",
        "combined_header.csv",
    ]
    assert "psychometric.csv" not in names and "malformed_logon.csv" not in names
    assert inputs.ldap == CERT / "LDAP"


def test_cert_inputs_on_single_files(tmp_path: Path) -> None:
    files = [CERT / "http_r6.csv", CERT / "logon.csv", CERT / "LDAP" / "2010-01.csv"]
    inputs = cert_inputs(files)
    assert inputs.event_files == [CERT / "logon.csv", CERT / "http_r6.csv"]
    assert inputs.ldap == CERT / "LDAP" / "2010-01.csv"
    assert cert_inputs(str(CERT / "email_r4.csv")).ldap is None
    with pytest.raises(InputError, match="not a CERT insider-threat file"):
        cert_inputs([CERT / "psychometric.csv"])
    with pytest.raises(InputError, match="no such file"):
        cert_inputs(tmp_path / "nope.csv")
