"""The firewall detector's long horizon: slow scans and sweeps, internet background scanning."""

from __future__ import annotations

import random

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siem_consensus.detectors.firewall import FirewallDetector, FirewallThresholds
from siem_consensus.detectors.firewall._horizon import _BUCKET_KEY, _MERGE, _fold, smallest_sources
from siem_consensus.models import Severity
from tests.test_detector_firewall import Row, detect, ev, frame, noise, scenario

EXPOSED = "10.1.50.10"
HOUR = 3600.0


def slow_scan(src: str, ports: int, *, dst: str = EXPOSED, start: float = 0.0) -> list[Row]:
    """``ports`` ports of one host, one probe every 20 minutes: 3 an hour, far under any window."""
    return [ev(start + i * 1200, src, dst, 1000 + i) for i in range(ports)]


def slow_sweep(src: str, hosts: int, start: float = 0.0) -> list[Row]:
    return [ev(start + i * 1500, src, f"10.1.60.{i + 1}", 445) for i in range(hosts)]


def test_a_slow_scan_is_invisible_to_the_windows() -> None:
    windows_only = FirewallThresholds(long_horizon_s=0)
    assert detect(frame(slow_scan("198.51.100.7", 30)), cfg=windows_only)[1] == []


def test_a_slow_external_scan_becomes_one_internet_scan_incident() -> None:
    (incident,) = detect(frame(slow_scan("198.51.100.7", 30)))[1]
    assert incident.kind == "internet_scan"
    assert incident.severity is Severity.LOW
    assert incident.entities.source_ips == ("198.51.100.7",)
    assert incident.entities.destination_ips == (EXPOSED,)
    assert incident.stats["distinct_ports"] == 30
    assert incident.stats["sources"] == 1
    assert [a.technique_id for a in incident.attack] == ["T1595"]
    assert incident.title.startswith(f"Internet scanning of {EXPOSED}: 1 source probed 30 ports")


def test_scanners_of_one_host_share_one_incident_per_host_and_day() -> None:
    rows = [
        *slow_scan("198.51.100.7", 30),
        *slow_scan("198.51.100.8", 12, start=600),
        *slow_scan("203.0.113.50", 15, start=900),
        *slow_scan("203.0.113.51", 20, dst="10.1.50.11"),
    ]
    incidents = detect(frame(rows))[1]
    by_host = {i.entities.destination_ips: i for i in incidents}
    assert [i.kind for i in incidents] == ["internet_scan", "internet_scan"]
    assert set(by_host[(EXPOSED,)].entities.source_ips) == {
        "198.51.100.7", "198.51.100.8", "203.0.113.50"
    }  # fmt: skip
    assert by_host[(EXPOSED,)].stats["sources"] == 3
    assert by_host[("10.1.50.11",)].entities.source_ips == ("203.0.113.51",)


def test_each_day_of_scanning_is_its_own_incident() -> None:
    rows = [*slow_scan("198.51.100.7", 30), *slow_scan("198.51.100.9", 30, start=30 * HOUR)]
    incidents = detect(frame(rows))[1]
    assert [i.kind for i in incidents] == ["internet_scan", "internet_scan"]
    assert {i.entities.source_ips for i in incidents} == {("198.51.100.7",), ("198.51.100.9",)}


@pytest.mark.parametrize(("ports", "found"), [(9, False), (10, True)])
def test_slow_scan_port_threshold_boundary(ports: int, found: bool) -> None:
    # slow_min_events is 10 too: give the 9-port source enough events to be judged
    rows = slow_scan("198.51.100.7", ports) + [ev(40 * 1200, "198.51.100.7", EXPOSED, 1000)]
    assert bool(detect(frame(rows))[1]) is found


def test_slow_min_events_skips_quiet_sources() -> None:
    assert (
        detect(frame(slow_scan("198.51.100.7", 12)), cfg=FirewallThresholds(slow_min_events=13))[1]
        == []
    )


def test_an_exposed_sensitive_port_makes_it_medium() -> None:
    rows = slow_scan("198.51.100.7", 30) + [
        ev(5 * HOUR, "198.51.100.7", EXPOSED, 22, event_action="allow")
    ]
    (incident,) = detect(frame(rows))[1]
    assert incident.severity is Severity.MEDIUM
    assert incident.stats["exposed_sensitive_ports"] == [22]


def test_an_internal_slow_scanner_is_its_own_high_incident() -> None:
    (incident,) = detect(frame(slow_scan("10.1.9.9", 30, dst="10.1.50.20")))[1]
    assert incident.kind == "port_scan"
    assert incident.title.startswith("Slow port scan: 10.1.9.9 probed 30 ports")
    assert incident.severity.rank >= Severity.HIGH.rank
    assert incident.stats["horizon"] == "long"


def test_a_slow_external_sweep_is_its_own_incident() -> None:
    (incident,) = detect(frame(slow_sweep("198.51.100.7", 25)))[1]
    assert incident.kind == "network_sweep"
    assert incident.title.startswith("Slow network sweep: 198.51.100.7 probed 25 hosts")


def test_a_fast_scan_is_reported_once_by_the_windows() -> None:
    incidents = detect(scenario())[1]
    assert [(i.kind, i.title.startswith("Port scan")) for i in incidents] == [("port_scan", True)]


def test_background_noise_of_one_or_two_hits_is_never_an_incident() -> None:
    assert detect(frame(noise(random.Random(3), 5000)))[1] == []


def test_memory_is_bounded_and_the_slow_scanner_survives_eviction() -> None:
    cfg = FirewallThresholds(long_horizon_max_rows=1000, max_open_rows=0)
    rng = random.Random(5)
    rows = noise(rng, 6000) + slow_scan("198.51.100.7", 30, start=60)
    df = frame(rows)
    detector = FirewallDetector(cfg)
    held = []
    for start in range(0, df.height, 500):
        detector.update(df.slice(start, 500))
        held.append(detector._horizon.rows if detector._horizon else 0)
    incidents = detector.finish()
    assert max(held) <= 1000
    assert detector.counters["horizon_evicted"] > 0
    assert [i.entities.source_ips for i in incidents] == [("198.51.100.7",)]


def test_days_are_evaluated_and_dropped_as_the_input_moves_on() -> None:
    cfg = FirewallThresholds(allowed_lateness_s=HOUR, max_open_rows=0)
    detector = FirewallDetector(cfg)
    detector.update(frame(slow_scan("198.51.100.7", 30)))
    assert detector._horizon is not None and detector._horizon.rows == 30
    detector.update(frame([ev(50 * HOUR, "10.1.1.1", "10.1.1.2", 80)]))
    assert detector._horizon.rows == 1  # the first day was judged and forgotten
    (incident,) = detector.finish()
    assert incident.kind == "internet_scan"


def test_members_of_an_internet_scan_are_every_sources_events() -> None:
    rows = [*slow_scan("198.51.100.7", 12), *slow_scan("198.51.100.8", 11, start=600)]
    df = frame(rows)
    detector, (incident,) = detect(df)
    members = detector.assign(df, [incident])
    assert members.height == 23
    assert set(members["incident_id"]) == {incident.id}


def test_long_horizon_shorter_than_a_window_is_refused() -> None:
    with pytest.raises(ValueError, match="long_horizon_s must be at least window_s"):
        FirewallThresholds(window_s=7200, long_horizon_s=3600)


def test_events_for_a_judged_day_are_late_and_unused() -> None:
    cfg = FirewallThresholds(allowed_lateness_s=HOUR, max_open_rows=0)
    detector = FirewallDetector(cfg)
    detector.update(frame([ev(50 * HOUR, "10.1.1.1", "10.1.1.2", 80)]))
    detector.update(frame(slow_scan("198.51.100.7", 30)))
    assert detector.counters["late"] == 30  # refused before either horizon sees them
    assert detector.finish() == []


def _sorted_doomed(sizes: pl.DataFrame, excess: int) -> set[tuple[int, str]]:
    """The eviction rule written plainly: (bucket, len, source) order, a running total."""
    ordered = sizes.sort("bucket", "len", "source_ip").with_columns(
        pl.col("len").cum_sum().alias("upto")
    )
    doomed = ordered.filter(pl.col("upto") - pl.col("len") < excess)
    return set(doomed.select("bucket", "source_ip").iter_rows())


@settings(max_examples=60)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 40), st.integers(1, 4)),
        min_size=1,
        max_size=60,
        unique_by=lambda t: (t[0], t[1]),
    ),
    st.integers(1, 300),
)
def test_eviction_takes_the_smallest_sources_of_the_oldest_bucket_first(
    sources: list[tuple[int, int, int]], excess: int
) -> None:
    sizes = pl.DataFrame(
        {
            "bucket": [b for b, _, _ in sources],
            "source_ip": [f"198.51.100.{s}" for _, s, _ in sources],
            "len": pl.Series([n for _, _, n in sources], dtype=pl.UInt32),
        }
    )
    got = smallest_sources(sizes, excess)
    assert set(got.iter_rows()) == _sorted_doomed(sizes, excess)
    assert got.height == len(set(got.iter_rows()))


@settings(max_examples=40)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 5), st.integers(0, 3)), max_size=40))
def test_folding_pending_rows_equals_grouping_everything(rows: list[tuple[int, int, int]]) -> None:
    def part(chunk: list[tuple[int, int, int]], first_line: int) -> pl.DataFrame:
        frame = pl.DataFrame(
            {
                "bucket": [b for b, _, _ in chunk],
                "source_ip": pl.Series([f"10.0.0.{s}" for _, s, _ in chunk], dtype=pl.String),
                "destination_ip": pl.Series(["10.9.9.9"] * len(chunk), dtype=pl.String),
                "destination_port": pl.Series([p for _, _, p in chunk], dtype=pl.Int32),
                "network_transport": pl.Series(["tcp"] * len(chunk), dtype=pl.String),
            },
            schema_overrides={"bucket": pl.Int64},
        )
        line = pl.int_range(first_line, first_line + pl.len(), dtype=pl.Int64)
        return frame.with_columns(
            pl.lit(1, pl.Int64).alias("n"),
            pl.lit(0, pl.Int64).alias("deny"),
            pl.lit(0, pl.Int64).alias("silent"),
            pl.from_epoch(line, time_unit="s").dt.replace_time_zone("UTC").alias("t_first"),
            pl.from_epoch(line, time_unit="s").dt.replace_time_zone("UTC").alias("t_last"),
            pl.lit("in.log").alias("f_input"),
            line.alias("f_line"),
            pl.lit(None, pl.Int32).alias("f_sport"),
            pl.lit("deny").alias("f_action"),
            pl.lit(None, pl.String).alias("f_rule"),
        )

    half = len(rows) // 2
    old, new = part(rows[:half], 0), part(rows[half:], 1000)
    state = _fold(None, old)
    plain = pl.concat([state, new]).group_by(_BUCKET_KEY).agg(*_MERGE).sort(_BUCKET_KEY)
    assert _fold(state, new).sort(_BUCKET_KEY).equals(plain)
