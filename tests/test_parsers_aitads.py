"""AIT Alert Data Set parser and label reader, on the fixture and on the real scenarios."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from parser_checks import assert_accounted, mutated_lines

from siem_consensus.parsers import PARSERS
from siem_consensus.parsers.aitads import AitAdsParser, _runs, read_ait_labels
from siem_consensus.parsers.base import LineParser
from siem_consensus.sources import EventStream, detect_format

DATA = Path(__file__).parent / "data" / "parsers"
LOG = DATA / "ids" / "ait_ads.csv"
RAW = LOG.read_text(encoding="utf-8").splitlines()
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "ait-ads"
SCENARIOS = sorted(SHARED.glob("*_alerts.csv.gz")) if SHARED.is_dir() else []
needs_data = pytest.mark.skipif(not SCENARIOS, reason="../shared/data/ait-ads not available")


def _parse(path: Path = LOG) -> tuple[dict[int, dict[str, Any]], EventStream]:
    stream = EventStream([path])
    rows = {row["line"]: row for _, frame in stream for row in frame.iter_rows(named=True)}
    stats = stream.stats
    assert stats.events + stats.dead_letters + stats.skipped_lines == stats.lines
    return rows, stream


def _gz_lines(path: Path) -> Iterator[str]:
    with gzip.open(path, "rb") as fh:
        for raw in fh:
            yield raw.decode("utf-8", errors="replace").rstrip("\r\n")


def test_fixture_accounting() -> None:
    rows, stream = _parse()
    stats = stream.stats
    assert stats.formats == {"ait_ads.csv": "ait-ads"}
    assert (stats.lines, stats.events, stats.dead_letters, stats.skipped_lines) == (16, 8, 5, 3)
    assert sorted(rows) == [2, 3, 4, 5, 6, 7, 8, 15]


def test_row_fields_and_no_labels() -> None:
    row = _parse()[0][3]
    assert row["timestamp"] == datetime(2022, 1, 18, 12, 17, 26, tzinfo=UTC)
    assert row["rule_name"] == "Suricata: Alert - SURICATA SMTP no server welcome message"
    assert (row["observer_name"], row["source_ip"]) == ("inet-firewall", "10.35.32.1")
    assert (row["event_code"], row["rule_category"]) == ("S-Smt-Wel", "Suricata/S-Smt-Wel")
    assert (row["dataset"], row["host_name"], row["rule_id"]) == ("ait-ads", None, None)
    values = {str(value) for value in row.values()}
    assert not values & {"service_scans", "service_scan", "false_positive"}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (2, {"rule_category": "Wazuh/W-Sys-Cav", "observer_name": "mail"}),
        (4, {"rule_category": "AMiner/A-Aud-Com6", "source_ip": "172.17.129.140"}),
        (6, {"timestamp": datetime(2022, 1, 18, 12, 17, 27, 500000, UTC)}),
        (
            7,
            {
                "rule_name": (
                    "Wazuh: Multiple IDS alerts for same id (ignoring now this id), again."
                ),
                "event_code": "W-All-Mul1",
            },
        ),
        (
            8,
            {
                "rule_name": (
                    "Suricata: Alert - ET SCAN Nmap Scripting Engine User-Agent, "
                    "Detected (Nmap Scripting Engine)"
                ),
                "source_ip": "2001:db8:1::10",
                "observer_name": "webserver6",
            },
        ),
        (15, {"source_ip": None, "event_code": "W-Sys-Cav"}),
    ],
)
def test_variants(line: int, expected: dict[str, Any]) -> None:
    row = _parse()[0][line]
    assert {key: row[key] for key in expected} == expected


def test_dead_letter_reasons() -> None:
    reasons = {d.line: d.reason for d in _parse()[1].dead_letters}
    expected_width = "expected 7 (time,name,ip,host,short,time_label,event_label)"
    assert reasons == {
        11: "ip is not an IP address: 'not-an-ip'",
        12: "time is not a valid epoch time: 'yesterday'",
        13: f"AIT-ADS row has 3 fields, {expected_width}",
        14: f"AIT-ADS row has 2 fields, {expected_width}",
        16: "binary data (NUL byte) in a text log line",
    }


def test_labels_join_on_line_numbers() -> None:
    labels = read_ait_labels(LOG)
    assert labels.schema == {
        "line": pl.Int64(),
        "time_label": pl.String(),
        "event_label": pl.String(),
    }
    assert labels["line"].to_list() == [2, 3, 4, 5, 6, 7, 8, 11, 12, 15]
    by_line = {row["line"]: row for row in labels.iter_rows(named=True)}
    assert (by_line[3]["time_label"], by_line[3]["event_label"]) == (
        "service_scans",
        "service_scan",
    )
    assert (by_line[5]["time_label"], by_line[5]["event_label"]) == ("false_positive", "dnsteal")
    assert set(_parse()[0]) <= set(by_line)


def test_labels_from_gzip(tmp_path: Path) -> None:
    packed = tmp_path / "x_alerts.csv.gz"
    packed.write_bytes(gzip.compress(LOG.read_bytes()))
    assert read_ait_labels(packed).equals(read_ait_labels(LOG))


def test_detected_as_its_own_format() -> None:
    lines = [line for line in RAW if line.strip()][:20]
    assert detect_format(lines) == "ait-ads"
    others = {fmt: cls.sniff(lines) for fmt, cls in PARSERS.items() if fmt != "ait-ads"}
    assert max(others.values()) < 0.5, others


@pytest.mark.parametrize(
    "path", sorted(p for p in DATA.rglob("*") if p.is_file() and p != LOG), ids=lambda p: p.name
)
def test_does_not_claim_other_fixtures(path: Path) -> None:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert AitAdsParser.sniff(lines[:20]) < 0.5


@needs_data
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name.split("_")[0])
def test_real_scenario_head(path: Path) -> None:
    lines = list(islice(_gz_lines(path), 5000))
    assert detect_format(lines[:200]) == "ait-ads"
    stream = EventStream([lines], input_format="ait-ads")
    frame = pl.concat([frame for _, frame in stream])
    stats = stream.stats
    assert (stats.lines, stats.skipped_lines, stats.dead_letters) == (5000, 1, 0)
    assert stats.events == frame.height == 4999
    assert (frame["timestamp"].dt.year() == 2022).all()
    assert frame["rule_category"].str.contains(r"^(Wazuh|Suricata|AMiner)/").all()
    # The finding documented in aitads.py: one address per reporting host.
    per_host = frame.group_by("observer_name").agg(pl.col("source_ip").n_unique())
    assert (per_host["source_ip"] == 1).all()


@needs_data
@pytest.mark.slow
def test_real_scenarios_complete_with_labels() -> None:
    for path in SCENARIOS:
        stream = EventStream([_gz_lines(path)], input_format="ait-ads")
        events = pl.concat([frame.select("line") for _, frame in stream])
        assert stream.stats.dead_letters == 0 and stream.stats.skipped_lines == 1
        labels = read_ait_labels(path)
        assert events["line"].to_list() == labels["line"].to_list()


_SAMPLES = [line for line in RAW if line.strip()]


def _mutated() -> st.SearchStrategy[str]:
    return mutated_lines(_SAMPLES, ',"\r\t\x1c\xa0\ud800:.-0123456789abcdef \x00')


@settings(max_examples=120, deadline=None)
@given(lines=st.lists(_mutated(), max_size=10), first=st.integers(1, 10**6))
def test_mutated_lines_never_crash_and_are_accounted(lines: list[str], first: int) -> None:
    parsed = AitAdsParser().parse_chunk(lines, first, "fuzz")
    assert_accounted(parsed, len(lines))


@settings(max_examples=120, deadline=None)
@given(lines=st.lists(_mutated() | st.sampled_from(_SAMPLES), max_size=12))
def test_vectorised_path_agrees_with_parse_line(lines: list[str]) -> None:
    fast = AitAdsParser().parse_chunk(lines, 7, "fuzz")
    slow = LineParser.parse_chunk(AitAdsParser(), lines, 7, "fuzz")
    assert fast.events.equals(slow.events)
    assert fast.dead_letters == slow.dead_letters and fast.skipped == slow.skipped


@pytest.mark.parametrize(
    ("indexes", "runs"),
    [([], []), ([3], [(3, 4)]), ([0, 1, 2, 5, 7, 8], [(0, 3), (5, 6), (7, 9)])],
)
def test_runs(indexes: list[int], runs: list[tuple[int, int]]) -> None:
    assert list(_runs(indexes)) == runs
