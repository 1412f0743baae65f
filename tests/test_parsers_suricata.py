"""Suricata EVE JSON parser: alerts and other event types, skips, dead letters, real captures."""

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
from siem_consensus.parsers.base import LineError
from siem_consensus.parsers.suricata import SuricataParser, eve_row
from siem_consensus.sources import EventStream, detect_format

DATA = Path(__file__).parent / "data" / "parsers"
LOG = DATA / "ids" / "suricata_eve.jsonl"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "suricata-eve"
RAW = LOG.read_text(encoding="utf-8").splitlines()
SIG_6271 = "ET WEB_SERVER Possible CVE-2014-6271 Attempt in HTTP Version Number"


def _parse(path: Path = LOG, **kwargs: Any) -> tuple[dict[int, dict[str, Any]], EventStream]:
    stream = EventStream([path], **kwargs)
    rows = {row["line"]: row for _, frame in stream for row in frame.iter_rows(named=True)}
    stats = stream.stats
    assert stats.events + stats.dead_letters + stats.skipped_lines == stats.lines
    return rows, stream


def test_fixture_accounting() -> None:
    rows, stream = _parse()
    stats = stream.stats
    assert stats.formats == {"suricata_eve.jsonl": "suricata"}
    assert (stats.lines, stats.events, stats.dead_letters, stats.skipped_lines) == (25, 14, 9, 2)
    assert set(rows) == set(range(1, 14)) | {23}  # 14 (stats) and 15 (blank) are skipped


def test_alert_fields() -> None:
    row = _parse()[0][1]
    assert row["timestamp"] == datetime(2017, 3, 25, 22, 49, 58, 856335, UTC)  # -0600 -> UTC
    assert (row["dataset"], row["event_code"], row["event_action"]) == (
        "suricata",
        "alert",
        "allowed",
    )
    assert (row["rule_id"], row["rule_name"], row["rule_category"], row["event_severity"]) == (
        "2000355",
        "ET CHAT IRC authorization message",
        "Misc activity",
        3,
    )
    assert (row["source_ip"], row["source_port"]) == ("84.92.227.177", 6668)
    assert (row["destination_ip"], row["destination_port"]) == ("10.192.19.6", 57966)
    assert (row["network_transport"], row["source_bytes"], row["destination_bytes"]) == (
        "tcp",
        708,
        4091,
    )
    assert row["observer_name"] is None and row["message"] is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            2,
            {
                "observer_name": "sensor-dmz",
                "url_original": "updates.example-cdn.net/agent/v2/check.php?id=4711&os=linux",
                "http_method": "GET",
                "http_status": 404,
                "user_agent": "curl/7.47.0",
                "event_severity": 2,
            },
        ),
        (3, {"dns_question": "qnnmxfqa.exfil-tunnel.biz", "observer_name": "ids-core"}),
        # to_client packet: source is the server, so it sent bytes_toclient
        (
            4,
            {
                "tls_sni": "covid19-relief-portal.info",
                "source_bytes": 4410,
                "destination_bytes": 517,
            },
        ),
        (
            5,
            {
                "timestamp": datetime(2019, 1, 2, 3, 50, 11, 315110, UTC),  # no offset: UTC
                "source_ip": "2001:db8::bad",
                "source_port": None,
                "network_transport": "ipv6-icmp",
            },
        ),
        (6, {"event_action": "blocked", "event_severity": 1, "observer_name": "ips-01"}),
        (
            7,
            {
                "rule_id": "2019236",
                "rule_name": SIG_6271,
                "event_severity": 1,
                "source_port": 5555,
                "message": "this_is_an_example",
                "observer_name": "suricata.com",
            },
        ),
        (8, {"event_code": "dns", "rule_id": None, "dns_question": "qnnmxfqa.exfil-tunnel.biz"}),
        (
            9,
            {
                "event_code": "http",
                "url_original": "intranet.example.local/wp-login.php",
                "http_method": "POST",
                "user_agent": "WPScan v3.8.22 (https://wpscan.com/wordpress-security-scanner)",
            },
        ),
        (10, {"event_code": "tls", "tls_sni": "github.com", "event_severity": None}),
        (11, {"event_code": "flow", "source_bytes": 2228, "destination_bytes": 5084}),
        (12, {"event_code": "fileinfo", "file_path": "/uploads/shell.php", "http_status": 200}),
        (13, {"event_code": "anomaly", "source_ip": "10.35.32.1", "rule_name": None}),
    ],
)
def test_variants(line: int, expected: dict[str, Any]) -> None:
    row = _parse()[0][line]
    assert {key: row[key] for key in expected} == expected


def test_attacker_payload_is_clipped_data() -> None:
    message = _parse()[0][6]["message"]
    assert len(message) == 1000
    assert message.startswith("GET /cgi-bin/test.cgi HTTP/1.1\r\nUser-Agent: () { :; };")
    assert "IGNORE PREVIOUS INSTRUCTIONS" not in message


def test_lone_surrogate_is_replaced() -> None:
    assert _parse()[0][23]["message"] == "uid=0(root) \ufffd gid=0(root)"


def test_dead_letter_reasons() -> None:
    reasons = {d.line: d.reason for d in _parse()[1].dead_letters}
    assert reasons[16].startswith("invalid JSON at column")
    assert reasons[17] == "expected a JSON object, got list"
    assert reasons[18] == "Suricata alert record without an 'alert' object"
    assert reasons[19] == "not a Suricata EVE record: no event_type"
    assert reasons[20] == "src_port 70000 is out of range 0-65535"
    assert reasons[21] == "timestamp is not an ISO 8601 timestamp: 'yesterday'"
    assert reasons[22] == "alert.severity is not an integer: 'high'"
    assert reasons[24] == "binary data (NUL byte) in a text log line"
    assert reasons[25] == "Suricata alert without alert.signature_id"


def test_json_array_file_goes_element_by_element(tmp_path: Path) -> None:
    records = [json.loads(RAW[0]), json.loads(RAW[13]), "oops", json.loads(RAW[7])]
    path = tmp_path / "eve.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    rows, stream = _parse(path, input_format="suricata")
    assert sorted(rows) == [1, 4]
    assert (stream.stats.skipped_lines, stream.dead_letters[0].line) == (1, 3)


def test_absolute_url_and_query_variants() -> None:
    base = {"timestamp": "2023-01-01T00:00:00Z", "event_type": "http"}
    row = eve_row({**base, "http": {"hostname": "a.example", "url": "http://b.example/x"}})
    assert row["url_original"] == "http://b.example/x"
    row = eve_row({**base, "event_type": "dns", "dns": {"queries": [{"rrname": "c.example"}]}})
    assert row["dns_question"] == "c.example"
    with pytest.raises(LineError, match="http.status 1000 is out of range 0-999"):
        eve_row({**base, "http": {"status": 1000}})


def test_detected_as_its_own_format() -> None:
    lines = [line for line in RAW if line.strip()][:20]
    assert detect_format(lines) == "suricata"
    others = {fmt: cls.sniff(lines) for fmt, cls in PARSERS.items() if fmt != "suricata"}
    assert max(others.values()) < 0.5, others


@pytest.mark.parametrize(
    "path", sorted(p for p in DATA.rglob("*") if p.is_file() and p != LOG), ids=lambda p: p.name
)
def test_does_not_claim_other_fixtures(path: Path) -> None:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert SuricataParser.sniff(lines[:20]) < 0.5


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/suricata-eve not available")
def test_real_eve_alerts_all_become_events() -> None:
    paths = sorted(SHARED.glob("*.alerts.json"))
    assert len(paths) == 4
    expected = sum(len(json.loads(path.read_text(encoding="utf-8"))) for path in paths)
    stream = EventStream(paths, input_format="suricata")
    frames = [frame for _, frame in stream]
    assert (stream.stats.events, stream.stats.dead_letters) == (expected, 0)
    for frame in frames:
        assert frame["event_code"].unique().to_list() == ["alert"]
        for column in ("rule_id", "rule_name", "rule_category", "event_severity", "timestamp"):
            assert frame[column].null_count() == 0, column
        assert frame["event_severity"].is_between(1, 4).all()
        assert frame["source_ip"].null_count() == frame["destination_ip"].null_count() == 0
        assert frame["network_transport"].is_in(["tcp", "udp", "icmp", "ipv6-icmp"]).all()


_SAMPLES = [line for line in RAW if line.strip()]


def _mutated() -> st.SearchStrategy[str]:
    return mutated_lines(_SAMPLES, '{}[]":,0123456789-.eE\\ \x00nulltrue')


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
_PATHS = (
    *(("timestamp",), ("event_type",), ("src_ip",), ("src_port",), ("proto",), ("host",)),
    *(("alert",), ("alert", "severity"), ("alert", "signature_id"), ("alert", "category")),
    *(("flow",), ("flow", "bytes_toserver"), ("http",), ("http", "status"), ("http", "url")),
    *(("dns",), ("dns", "query"), ("tls", "sni"), ("payload_printable",), ("direction",)),
)


@settings(max_examples=80, deadline=None)
@given(lines=st.lists(_mutated(), max_size=10), first=st.integers(1, 10**6))
def test_mutated_lines_never_crash_and_are_accounted(lines: list[str], first: int) -> None:
    parsed = SuricataParser().parse_chunk(lines, first, "fuzz")
    assert_accounted(parsed, len(lines))


@settings(max_examples=80, deadline=None)
@given(base=st.sampled_from(_SAMPLES[:13]), path=st.sampled_from(_PATHS), value=_JSON)
def test_any_value_in_any_field_is_a_row_or_a_line_error(
    base: str, path: tuple[str, ...], value: Any
) -> None:
    record = json.loads(base)
    parent = record
    for key in path[:-1]:
        parent = parent.setdefault(key, {}) if isinstance(parent.get(key, {}), dict) else {}
    parent[path[-1]] = value
    try:
        row = SuricataParser().parse_record(record)
    except LineError:
        return
    assert isinstance(row, dict) or repr(row) == "SKIP"
