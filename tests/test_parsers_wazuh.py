"""Wazuh alerts.json parser: rule fields, decoded data, relayed Suricata alerts, dead letters."""

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
from siem_consensus.parsers.wazuh import WazuhParser
from siem_consensus.sources import EventStream, detect_format

DATA = Path(__file__).parent / "data" / "parsers"
LOG = DATA / "ids" / "wazuh_alerts.json"
RAW = LOG.read_text(encoding="utf-8").splitlines()
ASA = (
    "Jan 15 02:33:11 fw01 : %ASA-4-106023: Deny tcp src outside:45.95.168.200/52341 dst "
    'inside:10.1.50.10/22 by access-group "outside_in" [0x0, 0x0]'
)


def _parse() -> tuple[dict[int, dict[str, Any]], EventStream]:
    stream = EventStream([LOG])
    rows = {row["line"]: row for _, frame in stream for row in frame.iter_rows(named=True)}
    stats = stream.stats
    assert stats.events + stats.dead_letters + stats.skipped_lines == stats.lines
    return rows, stream


def test_fixture_accounting() -> None:
    rows, stream = _parse()
    stats = stream.stats
    assert stats.formats == {"wazuh_alerts.json": "wazuh"}
    assert (stats.lines, stats.events, stats.dead_letters, stats.skipped_lines) == (17, 8, 8, 1)
    assert sorted(rows) == list(range(1, 9))


def test_sshd_alert_fields() -> None:
    row = _parse()[0][1]
    assert row["timestamp"] == datetime(2022, 1, 15, 2, 33, 10, 454000, UTC)
    assert (row["dataset"], row["rule_id"], row["event_code"]) == ("wazuh", "5716", "wazuh:5716")
    assert (row["rule_name"], row["event_severity"]) == ("sshd: authentication failed.", 5)
    assert row["rule_category"] == "syslog,sshd,authentication_failed"
    assert (row["observer_name"], row["host_name"]) == ("intranet_server", "intranet_server")
    assert (row["source_ip"], row["source_port"], row["user_name"]) == (
        "45.95.168.200",
        52341,
        "root",
    )
    assert row["message"] == (
        "Jan 15 02:33:10 intranet-server sshd[811]: Failed password for root from "
        "45.95.168.200 port 52341 ssh2"
    )
    assert row["destination_ip"] is None and row["file_path"] is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (2, {"user_name": "jdoe", "rule_category": "syslog,sudo", "event_severity": 3}),
        (3, {"file_path": "/var/www/html/wp-content/uploads/shell.php", "event_severity": 7}),
        (
            6,
            {
                "http_method": "GET",
                "http_status": 200,
                "network_transport": None,
                "url_original": "/index.php?page=../../../../etc/passwd",
            },
        ),
        (
            7,
            {
                "timestamp": None,
                "event_action": "drop",
                "destination_ip": "10.35.32.1",
                "destination_port": 22,
                "network_transport": "tcp",
            },
        ),
        (8, {"event_severity": 10, "source_ip": "10.35.35.206"}),
    ],
)
def test_variants(line: int, expected: dict[str, Any]) -> None:
    row = _parse()[0][line]
    assert {key: row[key] for key in expected} == expected


def test_relayed_suricata_alert_in_data() -> None:
    row = _parse()[0][4]
    assert row["timestamp"] == datetime(2022, 1, 15, 2, 33, 9, 982113, UTC)  # EVE time
    assert (row["event_code"], row["rule_id"], row["event_severity"]) == (
        "wazuh:86601",
        "2027758",
        2,
    )
    assert (row["rule_name"], row["rule_category"]) == (
        "ET INFO Observed DNS Query to .biz TLD",
        "Potentially Bad Traffic",
    )
    assert (row["source_ip"], row["source_port"], row["destination_port"]) == (
        "192.168.131.109",
        41527,
        53,
    )
    assert (row["network_transport"], row["dns_question"], row["source_bytes"]) == (
        "udp",
        "qnnmxfqa.exfil-tunnel.biz",
        94,
    )
    assert (row["observer_name"], row["host_name"]) == ("internal_share", "internal_share")


def test_relayed_suricata_alert_in_full_log() -> None:
    row = _parse()[0][5]
    assert (row["rule_id"], row["rule_name"], row["event_severity"]) == (
        "2024897",
        "ET USER_AGENTS Go HTTP Client User-Agent",
        3,
    )
    assert (row["url_original"], row["user_agent"]) == (
        "172.17.130.37/wp-admin/admin-ajax.php",
        "Go-http-client/1.1",
    )
    assert row["message"].startswith('{"timestamp":"2022-01-15T02:34:00.114420+0000"')
    assert row["observer_name"] == "wazuh.manager"


def test_attacker_controlled_full_log_is_clipped() -> None:
    assert len(_parse()[0][8]["message"]) == 1000


def test_dead_letter_reasons() -> None:
    reasons = {d.line: d.reason for d in _parse()[1].dead_letters}
    assert reasons[10].startswith("invalid JSON at column")
    assert reasons[11] == "expected a JSON object, got str"
    assert reasons[12] == "not a Wazuh alert: no rule.id"
    assert reasons[13] == "rule.level 99 is out of range 0-16"
    assert reasons[14] == "data.srcip is not an IP address: 'unknown'"
    assert reasons[15] == "rule.groups must be a list of strings, got '[1, 2]'"
    assert reasons[16] == "data.src_ip is not an IP address: '192.168.131.999'"
    assert reasons[17] == "binary data (NUL byte) in a text log line"


def test_detected_as_its_own_format() -> None:
    lines = [line for line in RAW if line.strip()][:20]
    assert detect_format(lines) == "wazuh"
    others = {fmt: cls.sniff(lines) for fmt, cls in PARSERS.items() if fmt != "wazuh"}
    assert max(others.values()) < 0.5, others


def test_relayed_firewall_logs_stay_wazuh() -> None:
    """ASA's sniffer finds its tag inside ``full_log``; Wazuh wins the tie."""
    alert = json.loads(RAW[6])
    lines = [json.dumps({**alert, "full_log": ASA}) for _ in range(5)]
    assert PARSERS["asa"].sniff(lines) == 1.0
    assert detect_format(lines) == "wazuh"


@pytest.mark.parametrize(
    "path", sorted(p for p in DATA.rglob("*") if p.is_file() and p != LOG), ids=lambda p: p.name
)
def test_does_not_claim_other_fixtures(path: Path) -> None:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert WazuhParser.sniff(lines[:20]) < 0.5


_SAMPLES = [line for line in RAW if line.strip()]
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
_PATHS = (
    *(("timestamp",), ("rule",), ("rule", "id"), ("rule", "level"), ("rule", "groups")),
    *(("rule", "description"), ("agent",), ("agent", "name"), ("full_log",), ("syscheck",)),
    *(("data",), ("data", "srcip"), ("data", "srcport"), ("data", "protocol"), ("data", "id")),
    *(("data", "event_type"), ("data", "alert"), ("data", "src_ip"), ("decoder", "name")),
)


def _mutated() -> st.SearchStrategy[str]:
    return mutated_lines(_SAMPLES, '{}[]":,0123456789-.\\ \x00null')


@settings(max_examples=80, deadline=None)
@given(lines=st.lists(_mutated(), max_size=10), first=st.integers(1, 10**6))
def test_mutated_lines_never_crash_and_are_accounted(lines: list[str], first: int) -> None:
    parsed = WazuhParser().parse_chunk(lines, first, "fuzz")
    assert_accounted(parsed, len(lines))


@settings(max_examples=100, deadline=None)
@given(base=st.sampled_from(_SAMPLES[:8]), path=st.sampled_from(_PATHS), value=_JSON)
def test_any_value_in_any_field_is_a_row_or_a_line_error(
    base: str, path: tuple[str, ...], value: Any
) -> None:
    record = json.loads(base)
    parent = record
    for key in path[:-1]:
        parent = parent.setdefault(key, {}) if isinstance(parent.get(key, {}), dict) else {}
    parent[path[-1]] = value
    try:
        row = WazuhParser().parse_record(record)
    except LineError:
        return
    assert isinstance(row, dict)
