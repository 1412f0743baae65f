"""Zeek log types: each Zeek parser reads its own log type, and a Zeek log of a type no parser
reads (http, ssl, files, weird, x509, ...) is refused by name, never read as a conn.log."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from parser_checks import assert_accounted

from siem_consensus.errors import UnknownFormatError
from siem_consensus.parsers import PARSERS
from siem_consensus.parsers._zeek_tsv import log_type
from siem_consensus.parsers.detect import detect_format
from siem_consensus.parsers.zeek import ZeekJsonParser, ZeekParser
from siem_consensus.sources import EventStream

STRATOSPHERE = Path(__file__).resolve().parents[2] / "shared" / "data" / "stratosphere"

# Zeek's default #fields of the log types not read here (Zeek 3-6), first columns and the
# columns that tell them apart
_OTHER_FIELDS = {
    "http": "ts uid id.orig_h id.orig_p id.resp_h id.resp_p trans_depth method host uri "
    "referrer version user_agent request_body_len response_body_len status_code status_msg",
    "ssl": "ts uid id.orig_h id.orig_p id.resp_h id.resp_p version cipher curve server_name "
    "resumed last_alert next_protocol established ssl_history",
    "files": "ts fuid uid id.orig_h id.orig_p id.resp_h id.resp_p source depth analyzers "
    "mime_type filename duration local_orig is_orig seen_bytes total_bytes missing_bytes",
    "weird": "ts uid id.orig_h id.orig_p id.resp_h id.resp_p name addl notice peer source",
    "x509": "ts fingerprint certificate.version certificate.serial certificate.subject "
    "certificate.issuer san.dns basic_constraints.ca",
    "notice": "ts uid id.orig_h id.orig_p id.resp_h id.resp_p fuid proto note msg sub src dst "
    "p n peer_descr actions suppress_for",
}


def _tsv(kind: str, *, path: bool = True, rows: int = 4) -> list[str]:
    fields = _OTHER_FIELDS[kind].split()
    header = ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-"]
    header += [f"#path\t{kind}"] if path else []
    header += ["#open\t2018-05-14-16-27-31", "#fields\t" + "\t".join(fields)]
    row = ["187.535914", "CdcB2k1JTIu3hNzVse", "192.168.1.116", "49167", "93.184.216.34", "80"]
    padded = row + ["-"] * (len(fields) - len(row))
    return [*header, *["\t".join(padded)] * rows, "#close\t2018-05-14-16-30-00"]


@pytest.mark.parametrize("kind", sorted(_OTHER_FIELDS))
@pytest.mark.parametrize("path", [True, False], ids=["path", "fields-only"])
def test_a_log_type_not_read_here_is_refused_by_name(kind: str, path: bool) -> None:
    lines = _tsv(kind, path=path)
    assert {fmt: cls.sniff(lines) for fmt, cls in PARSERS.items() if cls.sniff(lines)} == {}
    with pytest.raises(UnknownFormatError) as caught:
        detect_format(lines, "capture/x.log")
    message = str(caught.value)
    named = f"#path {kind}" if path else "by its #fields"
    assert message.startswith(f"capture/x.log: a Zeek {kind}.log ({named}), a Zeek log type")
    assert (
        "Zeek logs read: conn.log (zeek, zeek-json), dns.log (zeek-dns, zeek-dns-json)" in message
    )


def test_http_json_records_are_refused_by_name() -> None:
    record = {"ts": 1526315187.5, "uid": "C1", "id.orig_h": "192.168.1.116", "id.orig_p": 49167}
    record |= {"id.resp_h": "93.184.216.34", "id.resp_p": 80, "method": "GET", "uri": "/a"}
    lines = [json.dumps(record)] * 3
    assert ZeekJsonParser.sniff(lines) == 0.0
    with pytest.raises(UnknownFormatError, match=r"x\.json: Zeek http\.log records \(JSON\)"):
        detect_format(lines, "x.json")
    # a record with only the common fields is still read as a conn record
    common = {k: v for k, v in record.items() if k not in ("method", "uri")}
    assert ZeekJsonParser.sniff([json.dumps(common)]) == 1.0


def test_forced_conn_format_makes_rows_of_another_type_dead_letters() -> None:
    lines = _tsv("http")
    parsed = ZeekParser().parse_chunk(lines, 1, "http.log")
    assert_accounted(parsed, len(lines))
    assert (parsed.events.height, parsed.skipped) == (0, 8)
    reasons = {d.reason for d in parsed.dead_letters}
    assert reasons == {
        "a record of a Zeek http.log, not of a conn.log: no parser here reads that type"
    }


def test_forced_conn_json_on_dns_records_names_the_dns_formats() -> None:
    record = {"ts": 1.5, "id.orig_h": "10.0.0.1", "id.resp_h": "10.0.0.53", "query": "a.example"}
    parsed = ZeekJsonParser().parse_chunk([json.dumps(record | {"rcode": 3})], 1, "x")
    assert [d.reason for d in parsed.dead_letters] == [
        "a record of a Zeek dns.log, not of a conn.log: read it as zeek-dns or zeek-dns-json"
    ]


@pytest.mark.parametrize(
    ("names", "path", "expected"),
    [
        ((), "conn", "conn"),
        ((), "conn_long", "conn"),  # a filter's path of a conn log
        (("ts", "uid", "method"), "conn-internal", "conn"),  # the path decides
        (("ts", "uid", "id.orig_h", "conn_state"), "my_filter", "conn"),  # else the fields
        (("ts", "uid", "id.orig_h", "method", "uri"), None, "http"),
        (("ts", "uid", "id.orig_h", "auth_attempts"), None, "ssh"),
        (("ts", "uid", "id.orig_h", "query", "rcode"), None, "dns"),
        (("ts", "uid", "id.orig_h", "query"), None, None),  # a query alone tells nothing
        (("ts", "uid", "id.orig_h", "id.resp_h"), None, None),
        (("ts", "uid"), "my_log", "my_log"),
    ],
)
def test_log_type(names: tuple[str, ...], path: str | None, expected: str | None) -> None:
    assert log_type(names, path) == expected


@given(st.lists(st.sampled_from(sorted(_OTHER_FIELDS)), min_size=1, max_size=3), st.booleans())
def test_no_zeek_parser_reads_a_log_of_another_type(kinds: list[str], path: bool) -> None:
    """Whatever Zeek parser is forced on such logs, every row is a dead letter."""
    for fmt in ("zeek", "zeek-ssh", "zeek-dns"):
        lines = [line for kind in kinds[:1] for line in _tsv(kind, path=path)]
        parsed = PARSERS[fmt]().parse_chunk(lines, 1, "x")
        assert_accounted(parsed, len(lines))
        assert parsed.events.height == 0


@pytest.mark.skipif(not STRATOSPHERE.is_dir(), reason="../shared/data/stratosphere not here")
def test_stratosphere_http_log_is_not_read_as_a_conn_log() -> None:
    """Capture 005 holds an http.log beside its conn.log and dns.log (it was read as conn)."""
    folder = STRATOSPHERE / "005-zeek-scenario-malicious"
    stream = EventStream([folder])
    events = sum(frame.height for _, frame in stream)
    stats = stream.stats
    assert stats.formats == {
        "005-zeek-scenario-malicious/conn.log": "zeek",
        "005-zeek-scenario-malicious/dns.log": "zeek-dns",
    }
    assert (events, stats.dead_letters) == (1_984, 0)
    failure = stats.failures["005-zeek-scenario-malicious/http.log"]
    assert "a Zeek http.log (#path http), a Zeek log type not read here" in failure


def test_splunk_zeek_records_go_to_their_own_log_type() -> None:
    """A Splunk ``bro:*:json`` sourcetype hints zeek-json; records of other types are not
    taken for connections (an http record stays a message, a dns record reads as dns)."""
    from siem_consensus.parsers.splunk import SplunkParser

    common = {"ts": 1526315187.5, "uid": "C1", "id.orig_h": "192.168.1.116", "id.orig_p": 49167}
    common |= {"id.resp_h": "8.8.8.8", "id.resp_p": 53}
    http = json.dumps(common | {"method": "GET", "uri": "/a", "status_code": 200})
    dns = json.dumps(common | {"proto": "udp", "query": "qwxz.example", "rcode_name": "NXDOMAIN"})
    parser = SplunkParser()
    row = parser.parse_record({"_raw": http, "sourcetype": "bro:http:json"})
    assert isinstance(row, dict)
    assert (row.get("source_ip"), row["message"]) == (None, http)
    row = parser.parse_record({"_raw": dns, "sourcetype": "bro:dns:json"})
    assert isinstance(row, dict)
    assert (row["dns_question"], row["event_code"]) == ("qwxz.example", "NXDOMAIN")
