"""Sweeps (one scan reported by several single-address hosts) and recurring single-stage findings.

Both thresholds are tested on both sides: ``sweep_min_hosts`` (3 hosts link, 2 do not) and
``recurrence_gap_s`` (episodes exactly that far apart merge, one second more does not).
"""

from __future__ import annotations

from datetime import timedelta

from test_detector_ids_frames import Row, alert, correlate, frame, members

from siem_consensus.detectors.ids import IdsThresholds

SCAN = "Wazuh: sshd: insecure connection attempt (scan)."
STOP = "AMiner: New service_stop parameter combination in Audit logs."
ENTROPY = "AMiner: High entropy in DNS domain."
UPDATE = "Wazuh: ClamAV database update"
WEEK = 7 * 86400


def host(seconds: float, ip: str, sig: str) -> Row:
    """A host-based alert: only the reporting host's address, no severity (AIT-ADS style)."""
    return alert(seconds, ip, None, sig, sev=None, sensor="wazuh")


def scans(hosts: int, per_host: int = 1, start: float = 0.0) -> list[Row]:
    return [host(start + k, f"10.9.0.{h + 1}", SCAN) for h in range(hosts) for k in range(per_host)]


# -- sweeps -----------------------------------------------------------------------------------


def test_three_hosts_reporting_one_scan_are_one_incident() -> None:
    detector, incidents = correlate(frame(scans(3)))
    (incident,) = incidents
    assert incident.kind == "single_stage" and incident.stats["stages"] == ["reconnaissance"]
    assert incident.stats["member_entities"] == ["10.9.0.1", "10.9.0.2", "10.9.0.3"]
    assert incident.event_count == 3
    assert sum(len(v) for v in members(detector, frame(scans(3)), incidents).values()) == 3


def test_two_hosts_are_not_yet_a_sweep() -> None:
    assert correlate(frame(scans(2, per_host=2)))[1] == []  # 2 + 2 alerts, never 3 together
    # with enough alerts each, two hosts stay two incidents
    incidents = correlate(frame(scans(2, per_host=3)))[1]
    assert sorted(len(i.stats["member_entities"]) for i in incidents) == [1, 1]
    # the threshold decides: at 2, two hosts are a sweep
    (linked,) = correlate(frame(scans(2, per_host=2)), cfg=IdsThresholds(sweep_min_hosts=2))[1]
    assert linked.stats["member_entities"] == ["10.9.0.1", "10.9.0.2"]


def test_a_sweep_joins_the_scanned_hosts_other_activity() -> None:
    rows = scans(3, per_host=3)
    rows += [host(60, "10.9.0.1", "Wazuh: Successful sudo to ROOT executed.") for _ in range(3)]
    (incident,) = correlate(frame(rows))[1]
    assert incident.kind == "campaign"
    assert incident.stats["stages"] == ["reconnaissance", "privilege_escalation"]


def test_scans_in_different_windows_are_not_linked() -> None:
    rows = [host(3600 * h * 3, f"10.9.0.{h + 1}", SCAN) for h in range(3)]
    assert correlate(frame(rows))[1] == []


def test_paired_scans_are_not_sweeps_and_spread_floods_count_paired_sources_only() -> None:
    paired = [
        alert(k, f"198.51.100.{k + 1}", "10.9.1.1", "ET SCAN Possible Nmap User-Agent Observed")
        for k in range(12)
    ]
    # 12 internet sources: background scanning, a flood (too small for a flood incident)
    assert correlate(frame(paired))[1] == []
    assert correlate(frame(paired), cfg=IdsThresholds(flood_min_sources=13))[1] != []
    (sweep,) = correlate(frame(scans(12)))[1]
    assert sweep.kind == "single_stage" and len(sweep.stats["member_entities"]) == 12


# -- recurring single-stage findings ----------------------------------------------------------


def stops(*days: float, ip: str = "10.9.2.1", sig: str = STOP) -> list[Row]:
    return [host(day * 86400, ip, sig) for day in days]


def test_recurring_service_stops_on_one_host_are_one_incident() -> None:
    df = frame(stops(0, 2, 5))
    detector, incidents = correlate(df)
    (incident,) = incidents
    assert incident.event_count == 3 and incident.stats["stages"] == ["impact"]
    episodes = incident.stats["episodes"]
    assert [e["alerts"] for e in episodes] == [1, 1, 1]
    assert [e["signatures"] for e in episodes] == [[STOP]] * 3
    assert any("3 episodes" in reason for reason in incident.reasons)
    assert len(members(detector, df, incidents)[incident.id]) == 3


def test_recurrence_gap_is_inclusive_and_zero_disables() -> None:
    week = WEEK / 86400
    assert len(correlate(frame(stops(0, week)))[1]) == 1
    assert len(correlate(frame(stops(0, week + 1 / 86400)))[1]) == 2
    assert len(correlate(frame(stops(0, 1)), cfg=IdsThresholds(recurrence_gap_s=0))[1]) == 2
    assert len(correlate(frame(stops(0, 1)), cfg=IdsThresholds(recurrence_gap_s=86399))[1]) == 2
    assert len(correlate(frame(stops(0, 1)), cfg=IdsThresholds(recurrence_gap_s=86400))[1]) == 1


def test_only_the_same_finding_on_the_same_host_recurs() -> None:
    other_host = frame(stops(0), stops(2, ip="10.9.2.2"))
    assert len(correlate(other_host)[1]) == 2
    entropy = [host(2 * 86400 + k, "10.9.2.1", ENTROPY) for k in range(3)]
    other_rule = frame(stops(0), entropy)
    assert sorted(i.stats["stages"][0] for i in correlate(other_rule)[1]) == [
        "exfiltration",
        "impact",
    ]


def test_episodes_keep_what_happened_in_each() -> None:
    rows = stops(0, 3) + [host(3 * 86400 + 60, "10.9.2.1", UPDATE)]
    (incident,) = correlate(frame(rows))[1]
    first, second = incident.stats["episodes"]
    assert first["signatures"] == [STOP] and set(second["signatures"]) == {STOP, UPDATE}
    assert first["first"] < second["first"]
    assert timedelta(days=3) <= incident.last_seen - incident.first_seen


def test_groups_of_several_hosts_never_recur() -> None:
    twice = frame(scans(3), scans(3, start=2 * 86400))
    assert [len(i.stats["episodes"]) for i in correlate(twice)[1]] == [1, 1]
