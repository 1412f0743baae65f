"""FirewallDetector on event frames built directly (no parser involved)."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siem_consensus.detectors import get_detector
from siem_consensus.detectors.firewall import FirewallDetector, FirewallThresholds
from siem_consensus.detectors.firewall._rules import internal_values
from siem_consensus.detectors.firewall._state import SlotStore, batch_partial
from siem_consensus.errors import UsageError
from siem_consensus.models import Incident, Severity
from siem_consensus.parsers.base import EVENT_SCHEMA

T0 = datetime(2026, 1, 18, 12, 0, tzinfo=UTC)
SCANNER, TARGET = "45.95.168.200", "10.1.50.10"
SCAN_PORTS = (21, 22, 23, 25, 80, 443, 445, 1433, 3306, 3389, 5432, 8080, 8443)
STATS_KEYS = {
    "events", "distinct_ports", "distinct_hosts", "ports", "sensitive_ports", "deny_ratio",
    "duration_s", "rate_per_min", "max_attempts_same_target", "internal_source", "windows",
    "beacon_cv", "beacon_interval_s", "population",
}  # fmt: skip
Row = dict[str, Any]


def ev(seconds: float, src: str | None, dst: str, port: int | None, **extra: Any) -> Row:
    """One event ``seconds`` after T0 (None keeps the timestamp null)."""
    row: Row = {
        "timestamp": T0 + timedelta(seconds=seconds),
        "source_ip": src,
        "destination_ip": dst,
        "destination_port": port,
        "network_transport": "tcp",
        "event_action": "deny",
        "rule_name": "outside_in",
        "source_port": 40000,
    }
    row.update(extra)
    return row


def frame(*groups: Iterable[Row], source: str = "fw.log") -> pl.DataFrame:
    """Rows sorted by time and numbered 1.. like a parsed file."""
    rows = sorted((r for g in groups for r in g), key=lambda r: r["timestamp"] or T0)
    for number, row in enumerate(rows, start=1):
        row["line"] = number
    columns = {name: [r.get(name) for r in rows] for name in EVENT_SCHEMA}
    return pl.DataFrame(columns, schema=EVENT_SCHEMA).with_columns(pl.lit(source).alias("source"))


def scan(start: float = 7200.0, src: str = SCANNER) -> list[Row]:
    return [
        ev(start + attempt * 120 + offset * 2, src, TARGET, port)
        for attempt in range(15)
        for offset, port in enumerate(SCAN_PORTS)
    ]


def dns(rng: random.Random, n: int = 180) -> list[Row]:
    return [
        ev(rng.uniform(0, 21600), "10.1.20.50", "8.8.8.8", 53, network_transport="udp",
           rule_name="no_external_dns")
        for _ in range(n)
    ]  # fmt: skip


def noise(rng: random.Random, hits: int = 1000) -> list[Row]:
    rows: list[Row] = []
    while len(rows) < hits:
        src = ".".join(str(rng.randint(11, 99)) for _ in range(4))
        start = rng.uniform(0, 21000)
        for k in range(rng.choice((1, 2))):
            dst = f"10.1.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            rows.append(ev(start + k * 30, src, dst, rng.choice((22, 23, 445, 3389))))
    return rows


def beacon(rng: random.Random, n: int = 60, every: float = 60.0, jitter: float = 3.0) -> list[Row]:
    times = [i * every + rng.uniform(-jitter, jitter) for i in range(n)]
    return [ev(1000 + t, "10.1.5.20", "203.0.113.9", 443, event_action="allow") for t in times]


def scenario(seed: int = 7) -> pl.DataFrame:
    rng = random.Random(seed)
    return frame(scan(), dns(rng), noise(rng))


def detect(
    df: pl.DataFrame, chunk: int | None = None, cfg: FirewallThresholds | None = None
) -> tuple[FirewallDetector, list[Incident]]:
    detector = FirewallDetector(cfg)
    step = chunk or max(df.height, 1)
    for start in range(0, df.height, step):
        detector.update(df.slice(start, step))
    return detector, detector.finish()


def ids(df: pl.DataFrame) -> set[str]:
    return set(df.select(pl.format("{}:{}", "source", "line")).to_series().to_list())


def test_registered_under_firewall() -> None:
    assert get_detector("firewall") is FirewallDetector


def test_scenario_1_is_exactly_one_high_port_scan() -> None:
    _, incidents = detect(scenario())
    assert len(incidents) == 1
    incident = incidents[0]
    assert incident.kind == "port_scan" and incident.detector == "firewall"
    assert incident.entities.source_ips == (SCANNER,)
    assert incident.entities.destination_ips == (TARGET,)
    assert incident.severity.rank >= Severity.HIGH.rank
    assert incident.event_count == 195
    assert incident.title == f"Port scan: {SCANNER} probed 13 ports on {TARGET}"
    assert "T1046" in {a.technique_id for a in incident.attack}
    assert incident.attack[0].tactic == "Reconnaissance"
    assert incident.stats.keys() >= STATS_KEYS
    assert incident.stats["ports"] == sorted(SCAN_PORTS)
    assert incident.stats["deny_ratio"] == 1.0
    assert incident.stats["internal_source"] is False
    assert incident.id.startswith("fw-") and incident.reasons


def test_population_describes_every_source_window() -> None:
    df = scenario()
    detector, incidents = detect(df)
    keys = df.select("source_ip", pl.col("timestamp").dt.truncate("1h")).unique().height
    population = incidents[0].stats["population"]
    assert population["keys"] == keys == detector.population["keys"]
    assert set(population["port_popularity"]) == set(SCAN_PORTS)
    assert population["port_popularity"][8443] == 1
    assert population["events_std"] > 0


def test_assign_returns_exactly_the_scan_events() -> None:
    df = scenario()
    detector, incidents = detect(df)
    members = detector.assign(df, incidents)
    expected = ids(df.filter(pl.col("source_ip") == SCANNER))
    assert len(expected) == 195
    assert set(members["event_id"]) == expected and members.height == 195
    assert set(members["incident_id"]) == {incidents[0].id}


def test_evidence_is_a_bounded_sample_of_real_events() -> None:
    df = scenario()
    _, (incident,) = detect(df)
    assert 13 <= len(incident.evidence_event_ids) <= 50
    assert set(incident.evidence_event_ids) <= ids(df.filter(pl.col("source_ip") == SCANNER))
    assert [e.event_id for e in incident.evidence] == list(incident.evidence_event_ids)
    assert {e.destination_port for e in incident.evidence} == set(SCAN_PORTS)
    assert all(e.event_action == "deny" and e.rule_name == "outside_in" for e in incident.evidence)


def test_dns_misconfiguration_and_noise_raise_nothing() -> None:
    rng = random.Random(3)
    _, incidents = detect(frame(dns(rng, 200), noise(rng)))
    assert incidents == []


def test_brute_force_on_ssh() -> None:
    attempts = [ev(i * 5, "198.51.100.7", TARGET, 22) for i in range(80)]
    other = [ev(i * 7, "198.51.100.7", "10.1.50.11", 80) for i in range(5)]
    df = frame(attempts, other)
    detector, incidents = detect(df)
    (incident,) = incidents
    assert incident.kind == "brute_force"
    assert [a.technique_id for a in incident.attack] == ["T1110"]
    assert incident.event_count == 80
    assert incident.stats["target"] == {
        "destination_ip": TARGET, "destination_port": 22, "transport": "tcp"
    }  # fmt: skip
    assert detector.assign(df, incidents).height == 80


def test_network_sweep_from_outside() -> None:
    df = frame([ev(i * 3, "203.0.113.66", f"10.1.60.{i + 1}", 445) for i in range(40)])
    (incident,) = detect(df)[1]
    assert incident.kind == "network_sweep"
    assert incident.stats["distinct_hosts"] == 40
    assert [a.technique_id for a in incident.attack] == ["T1595.001", "T1046"]
    assert len(incident.entities.destination_ips) == 40
    assert incident.title == "Network sweep: 203.0.113.66 probed 40 hosts on port 445"


def test_allowed_outbound_fan_out_is_not_a_sweep() -> None:
    browsing = [
        ev(i * 20, "10.1.5.20", f"93.184.{i}.10", 443, event_action="allow") for i in range(40)
    ]
    assert detect(frame(browsing))[1] == []
    counted = FirewallThresholds(count_allowed_outbound=True)
    assert [i.kind for i in detect(frame(browsing), cfg=counted)[1]] == ["network_sweep"]


def test_regular_outbound_connections_are_beaconing() -> None:
    (incident,) = detect(frame(beacon(random.Random(1))))[1]
    assert incident.kind == "beaconing"
    assert [a.technique_id for a in incident.attack] == ["T1071"]
    assert incident.stats["beacon_cv"] < 0.1
    assert incident.stats["beacon_interval_s"] == pytest.approx(60, abs=2)
    assert incident.stats["internal_source"] is True


def test_irregular_or_denied_connections_are_not_beaconing() -> None:
    rng = random.Random(2)
    times = [0.0]
    for _ in range(59):
        times.append(times[-1] + rng.expovariate(1 / 60))
    irregular = [ev(t, "10.1.5.20", "203.0.113.9", 443, event_action="allow") for t in times]
    denied = [{**r, "event_action": "deny"} for r in beacon(rng)]
    assert detect(frame(irregular))[1] == []
    assert detect(frame(denied))[1] == []


def test_scan_straddling_a_window_boundary_is_one_incident() -> None:
    df = frame(scan(start=2 * 3600 - 15 * 60))
    (incident,) = detect(df, chunk=50)[1]
    assert incident.stats["windows"] == 2
    assert incident.event_count == 195
    assert incident.first_seen == T0 + timedelta(seconds=2 * 3600 - 15 * 60)


@pytest.mark.parametrize("hops", [1, 2])
def test_overlapping_windows_give_the_same_scan(hops: int) -> None:
    cfg = FirewallThresholds(hops_per_window=hops)
    (incident,) = detect(scenario(), chunk=300, cfg=cfg)[1]
    assert (incident.kind, incident.event_count, incident.severity) == (
        "port_scan", 195, Severity.HIGH
    )  # fmt: skip


def test_raising_the_port_threshold_removes_the_scan() -> None:
    windows_only = FirewallThresholds(port_scan_ports=20, long_horizon_s=0)
    assert detect(scenario(), cfg=windows_only)[1] == []


def _mixed(seed: int) -> pl.DataFrame:
    rng = random.Random(seed)
    brute = [ev(3000 + i * 4, "198.51.100.7", TARGET, 3389) for i in range(70)]
    return frame(scan(), dns(rng, 150), noise(rng, 400), brute, beacon(rng))


def _summary(incidents: list[Incident]) -> list[tuple[Any, ...]]:
    return [
        (i.id, i.kind, i.severity, i.score, i.event_count, i.evidence_event_ids, i.stats)
        for i in incidents
    ]


EAGER = FirewallThresholds(max_open_rows=0)
"""Closes windows as soon as the lateness horizon passes: exercises flushing on small inputs."""


@pytest.mark.parametrize("cfg", [EAGER, FirewallThresholds()], ids=["eager", "default"])
def test_chunk_size_does_not_change_the_result(cfg: FirewallThresholds) -> None:
    df = _mixed(5)
    small, large = detect(df, chunk=100, cfg=cfg)[1], detect(df, chunk=100_000, cfg=cfg)[1]
    assert {i.kind for i in large} == {"port_scan", "brute_force", "beaconing"}
    assert _summary(small) == _summary(large)


@settings(max_examples=12, deadline=None)
@given(cuts=st.lists(st.integers(min_value=1, max_value=2300), max_size=6))
def test_any_chunking_gives_the_same_incidents(cuts: list[int]) -> None:
    df = _MIXED
    detector = FirewallDetector(EAGER)
    bounds = [0, *sorted(set(cuts)), df.height]
    for start, end in zip(bounds, bounds[1:], strict=False):
        detector.update(df.slice(start, max(end - start, 0)))
    assert _summary(detector.finish()) == _REFERENCE


_MIXED = _mixed(5)
_REFERENCE = _summary(detect(_MIXED)[1])


def test_incidents_are_sorted_most_severe_first() -> None:
    incidents = detect(_MIXED)[1]
    order = [(i.severity.rank, i.score) for i in incidents]
    assert order == sorted(order, reverse=True)


def test_null_timestamps_form_one_untimed_window_and_null_sources_are_counted() -> None:
    untimed = [{**r, "timestamp": None} for r in scan()]
    orphans = [ev(i, None, TARGET, 22) for i in range(7)]
    df = frame(untimed, orphans)
    detector, (incident,) = detect(df, chunk=64)
    assert incident.kind == "port_scan" and incident.first_seen is None
    assert incident.event_count == 195
    assert detector.counters["no_source_ip"] == 7
    assert detector.assign(df, [incident]).height == 195


def test_flows_without_an_action_count_and_actions_ignore_case() -> None:
    flows = [{**r, "event_action": None} for r in scan()]
    shouting = [ev(5000 + i, "10.1.1.1", "10.1.1.2", 80, event_action="TearDown") for i in range(9)]
    df = frame(flows, shouting)
    detector, (incident,) = detect(df)
    assert (incident.event_count, incident.stats["deny_ratio"]) == (195, 0.0)
    assert detector.counters["ignored_actions"] == 9
    assert detector.assign(df, [incident]).height == 195


def test_late_and_teardown_events_are_counted_not_used() -> None:
    detector = FirewallDetector(EAGER)
    detector.update(frame([ev(10 * 3600, "10.1.1.1", "10.1.1.2", 80)]))
    detector.update(frame(scan(start=0)))
    detector.update(frame([ev(10 * 3600 + 5, "10.1.1.1", "10.1.1.2", 80, event_action="teardown")]))
    assert detector.finish() == []
    assert detector.counters == {
        "events": 197, "ignored_actions": 1, "no_source_ip": 0, "late": 195,
        "horizon_evicted": 0, "horizon_late": 0,
    }  # fmt: skip


def test_inputs_out_of_time_order_are_exact_below_the_row_budget() -> None:
    rng = random.Random(9)
    later = frame(dns(rng, 150), source="fw2.log")
    earlier = frame(scan(start=0), noise(rng, 300), source="fw1.log")
    detector, (incident,) = detect(pl.concat([later, earlier]), chunk=100)
    assert (incident.kind, incident.event_count) == ("port_scan", 195)
    assert detector.counters["late"] == 0


def test_many_ports_on_a_handful_of_hosts_is_a_port_scan() -> None:
    rows = [ev(i * 0.5, "192.168.10.8", f"192.168.10.{10 + i % 11}", 1 + i) for i in range(500)]
    (incident,) = detect(frame(rows))[1]
    assert incident.kind == "port_scan"
    assert incident.title == "Port scan: 192.168.10.8 probed 500 ports on 11 hosts"
    assert [a.technique_id for a in incident.attack] == ["T1046"]
    assert "more than 10 ports per host" in incident.reasons[0]


def test_many_ports_on_many_hosts_is_a_port_scan_not_a_sweep() -> None:
    rows = [ev(i, "203.0.113.5", f"10.1.7.{i % 30 + 1}", 1000 + i % 7) for i in range(60)]
    (incident,) = detect(frame(rows))[1]
    assert (incident.kind, incident.stats["distinct_hosts"]) == ("port_scan", 30)


def test_invalid_thresholds_are_rejected() -> None:
    with pytest.raises(
        ValueError, match=r"internal_networks\s+Value error, '10\.0\.0\.0/33' does not appear"
    ):
        FirewallThresholds(internal_networks=("10.0.0.0/33",))
    with pytest.raises(ValueError, match="window_s .* must divide evenly by hops_per_window"):
        FirewallThresholds(window_s=1, hops_per_window=7)


def test_a_finished_detector_refuses_more_input() -> None:
    detector, _ = detect(frame(scan()))
    assert detector.finish() == detector.finish()
    with pytest.raises(UsageError, match="create a new one"):
        detector.update(frame(scan()))


def test_slot_store_consolidation_keeps_every_count() -> None:
    df = _MIXED
    hop = FirewallThresholds().hop_us
    cfg = FirewallThresholds()
    store = SlotStore(consolidate_rows=5)
    for start in range(0, df.height, 97):
        part = batch_partial(df.slice(start, 97), hop, cfg.deny_actions, cfg.ignored_actions)
        store.add(part)
    whole = batch_partial(df, hop, cfg.deny_actions, cfg.ignored_actions)
    merged = store.timed(None, None)
    assert merged is not None
    columns = ["slot", "source_ip", "destination_ip", "destination_port", "n", "deny", "g_n"]
    assert merged.select(columns).sort(columns).equals(whole.select(columns).sort(columns))


def test_internal_values_handles_ipv4_ipv6_and_junk() -> None:
    cfg = FirewallThresholds(internal_networks=("10.0.0.0/8", "172.16.0.0/12", "fd00::/8"))
    values = pl.Series(["10.1.2.3", "172.31.255.255", "172.32.0.1", "8.8.8.8", "999.1.1.1"])
    values = values.append(pl.Series(["fd00::1", "::1", None, "host-a", "10.1.2.3"]))
    assert sorted(internal_values(values, cfg).to_list()) == [
        "10.1.2.3", "172.31.255.255", "fd00::1"
    ]  # fmt: skip
