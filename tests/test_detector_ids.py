"""IdsCorrelator on alert frames built directly: grouping, floods, kinds, scores, membership."""

from __future__ import annotations

import random

import polars as pl
import pytest
from test_detector_ids_frames import (
    ATTACKER,
    C2,
    POPULATION_KEYS,
    STATS_KEYS,
    VICTIM,
    alert,
    campaign,
    correlate,
    frame,
    lines_of,
    members,
    noise,
)

from siem_consensus.detectors import get_detector
from siem_consensus.detectors.ids import IdsCorrelator, IdsThresholds
from siem_consensus.enrich.attack import is_valid_technique
from siem_consensus.enrich.intel import ThreatIntel
from siem_consensus.enrich.zones import Asset, AssetInventory
from siem_consensus.errors import UsageError
from siem_consensus.models import Severity

DAY = 86_400.0


def _campaigns(incidents: list) -> list:  # type: ignore[type-arg]
    return [i for i in incidents if i.kind == "campaign"]


def test_registered_under_ids() -> None:
    assert get_detector("ids") is IdsCorrelator


def test_campaign_in_noise_is_one_critical_incident_with_exactly_its_alerts() -> None:
    df = frame(campaign(), noise(random.Random(3)))
    detector, incidents = correlate(df, chunk=500)
    (incident,) = _campaigns(incidents)
    assert incident.severity is Severity.CRITICAL
    assert incident.stats["stages"] == [
        "reconnaissance", "initial_access", "execution", "command_and_control", "exfiltration"
    ]  # fmt: skip
    assert {"Reconnaissance", "Initial Access", "Execution", "Command and Control",
            "Exfiltration"} <= set(incident.stats["tactics"])  # fmt: skip
    assert incident.event_count == 9
    assert members(detector, df, incidents)[incident.id] == lines_of(df, ATTACKER, VICTIM, C2)
    assert incident.title.startswith(f"Multi-stage attack: {ATTACKER} -> {VICTIM}")
    assert incident.entities.source_ips == (ATTACKER,)
    assert all(is_valid_technique(ref.technique_id) for ref in incident.attack)


def test_noise_alone_gives_only_a_few_low_flood_groups() -> None:
    df = frame(noise(random.Random(4), scale=2))
    _, incidents = correlate(df, chunk=700)
    assert 1 <= len(incidents) <= 4
    assert all(i.kind == "alert_flood" for i in incidents)
    assert all(i.severity.rank <= Severity.LOW.rank for i in incidents)
    assert all(i.stats["flood"] for i in incidents)


def test_stats_keys_population_and_evidence() -> None:
    df = frame(campaign(), noise(random.Random(5)))
    _, incidents = correlate(df)
    for incident in incidents:
        assert set(incident.stats) >= STATS_KEYS, incident.kind
        assert set(incident.stats["population"]) == POPULATION_KEYS
        assert len(incident.evidence) == len(incident.evidence_event_ids) <= 50
        assert incident.id.startswith("ids-")
    (camp,) = _campaigns(incidents)
    stats = camp.stats
    assert stats["alerts"] == 9 and stats["stage_count"] == 5
    assert stats["max_severity"] == 4
    assert stats["severity_counts"] == {"4": 1, "3": 6, "2": 2, "1": 0, "unknown": 0}
    assert stats["sensors"] == ["suricata-dmz", "suricata-edge"]
    assert stats["signatures"][0] == ["ET WEB_SERVER Possible SQL Injection Attempt (OR 1=1)", 3]
    assert stats["flood"] is False and stats["intel_hits"] == []
    assert stats["narrative"] == (
        f"{ATTACKER} scanned {VICTIM}, attempted SQL injection and command injection, then "
        f"{VICTIM} connected out to {C2}:4444 and sent 2 large transfers."
    )
    seen = {camp.evidence[k].rule_name for k in range(len(camp.evidence))}
    assert len(seen) == stats["distinct_signatures"]  # every signature has evidence


def test_two_campaigns_stay_separate_in_entities_and_in_time() -> None:
    other = campaign(start=60, attacker="198.51.100.77", victim="10.1.60.9", c2="192.0.2.200")
    later = campaign(start=2 * DAY)
    df = frame(campaign(), other, later, noise(random.Random(6)))
    detector, incidents = correlate(df, chunk=800)
    camps = _campaigns(incidents)
    assert len(camps) == 3
    assert sorted(i.event_count for i in camps) == [9, 9, 9]
    assert len({i.id for i in camps}) == 3
    claimed = members(detector, df, incidents)
    groups = [claimed[i.id] for i in camps]
    assert sum(len(g) for g in groups) == len(set().union(*groups)) == 27


def test_alerts_from_two_sensors_about_one_pair_merge() -> None:
    first = campaign()
    copy = [{**row, "observer_name": "zeek-span"} for row in first]
    df = frame(first, copy)
    _, incidents = correlate(df)
    (incident,) = incidents
    assert incident.event_count == 18
    assert incident.stats["sensors"] == ["suricata-dmz", "suricata-edge", "zeek-span"]


def test_outbound_from_an_unrelated_host_does_not_join() -> None:
    rows = campaign()
    for row in rows:
        if row["source_ip"] == VICTIM:
            row["source_ip"] = "10.1.70.70"  # post-exploitation seen from another host
    df = frame(rows)
    _, incidents = correlate(df)
    kinds = sorted((i.kind, i.event_count) for i in incidents)
    assert kinds == [("campaign", 3), ("campaign", 6)]


def test_thresholds_are_configurable() -> None:
    df = frame(campaign(), noise(random.Random(7)))
    assert _campaigns(correlate(df, cfg=IdsThresholds(min_alerts=10))[1]) == []
    single = correlate(df, cfg=IdsThresholds(campaign_min_stages=6))[1]
    assert [i.kind for i in single if i.severity.rank >= Severity.MEDIUM.rank] == ["single_stage"]
    quiet = correlate(df, cfg=IdsThresholds(flood_min_alerts=10_000))[1]
    assert [i.kind for i in quiet] == ["campaign"]
    with pytest.raises(ValueError, match=r"unknown stages \['lunch'\]; valid: reconnaissance"):
        IdsThresholds(standalone_stages=frozenset({"lunch"}))


def test_flood_on_a_campaign_entity_belongs_to_the_campaign() -> None:
    rng = random.Random(8)
    flood = [alert(rng.uniform(0, 1200), ATTACKER, VICTIM, "SURICATA STREAM packet out of window")
             for _ in range(150)]  # fmt: skip
    others = [alert(rng.uniform(0, 1200), f"10.1.9.{k % 200 + 2}", "192.0.2.9",
                    "SURICATA STREAM packet out of window") for k in range(150)]  # fmt: skip
    df = frame(campaign(), flood, others)
    detector, incidents = correlate(df)
    (camp,) = _campaigns(incidents)
    (flood_incident,) = [i for i in incidents if i.kind == "alert_flood"]
    assert camp.event_count == 159 and camp.stats["flooded_alerts"] == 150
    assert flood_incident.event_count == 150
    claimed = members(detector, df, incidents)
    assert len(claimed[camp.id]) == 159 and len(claimed[flood_incident.id]) == 150


def test_host_only_alerts_group_per_host() -> None:
    def host(seconds: float, ip: str, sig: str) -> dict:  # type: ignore[type-arg]
        return alert(seconds, ip, None, sig, sev=None, sensor="wazuh")

    web = [host(t, "10.2.0.5", "Wazuh: Multiple web server 400 error codes from same source ip.")
           for t in range(0, 300, 10)]  # fmt: skip
    web += [host(400 + t, "10.2.0.5", "Wazuh: Successful sudo to ROOT executed.") for t in (0, 9)]
    web += [host(500, "10.2.0.5", "Wazuh: Common web attack.")]
    mail = [host(60 * t, "10.2.0.9", "Wazuh: PAM: User login failed.") for t in range(5)]
    df = frame(web, mail)
    detector, incidents = correlate(df)
    by_kind = {i.kind: i for i in incidents}
    camp, single = by_kind["campaign"], by_kind["single_stage"]
    assert camp.title.startswith("Multi-stage attack on 10.2.0.5")
    assert camp.stats["stages"] == ["reconnaissance", "initial_access", "privilege_escalation"]
    assert camp.severity is Severity.HIGH
    assert single.event_count == 5 and single.severity is Severity.MEDIUM
    assert single.stats["max_severity"] is None
    assert camp.stats["narrative"].startswith("10.2.0.5 raised wordlist scanning (30 alerts)")
    assert {k: len(v) for k, v in members(detector, df, incidents).items()} == {
        camp.id: 33, single.id: 5
    }  # fmt: skip


def test_a_single_impact_step_stands_alone_but_a_single_scan_does_not() -> None:
    stop = [alert(0, "10.3.0.7", None, "AMiner: New service_stop parameter combination")]
    scan = [alert(50, "10.3.0.8", None, "Wazuh: sshd: insecure connection attempt (scan).")]
    _, incidents = correlate(frame(stop, scan))
    (incident,) = incidents
    assert incident.kind == "single_stage" and incident.stats["stages"] == ["impact"]
    assert correlate(frame(stop), cfg=IdsThresholds(standalone_stages=frozenset()))[1] == []


def test_severity_scales_are_normalised() -> None:
    wazuh = [alert(t, "10.4.0.1", None, "Wazuh: strange thing", sev=12, event_code="wazuh:5710",
                   rule_id="5710") for t in range(3)]  # fmt: skip
    relayed = [alert(t, "10.4.0.2", None, "ET MISC strange", sev=1, event_code="wazuh:86601",
                     rule_id="2100498") for t in range(3)]  # fmt: skip
    low = [alert(t, "10.4.0.3", None, "Wazuh: dull", sev=7, event_code="wazuh:1", rule_id="1")
           for t in range(3)]  # fmt: skip
    _, incidents = correlate(frame(wazuh, relayed, low))
    levels = {i.entities.destination_ips[0]: i.stats["max_severity"] for i in incidents}
    assert levels == {"10.4.0.1": 4, "10.4.0.2": 4}  # level 7 (2/4) is no attack step


def test_inventory_and_intel_raise_the_score() -> None:
    df = frame(campaign())
    plain = correlate(df)[1][0]
    inventory = AssetInventory([Asset(network=VICTIM, zone="dmz", criticality="critical")])
    intel = ThreatIntel()
    intel.add("185.220.101.0/24", "tor-exits")
    rich = correlate(df, inventory=inventory, intel=intel)[1][0]
    assert rich.stats["asset_criticality"] == "critical"
    assert rich.stats["intel_hits"] == [["185.220.101.0/24", "tor-exits"]]
    assert rich.score > plain.score
    assert any("Threat intel" in reason for reason in rich.reasons)


def test_intel_listed_peer_makes_a_lone_alert_an_attack_step() -> None:
    rows = [alert(t, "10.5.0.3", "192.0.2.66", "ET INFO odd but benign") for t in (0, 30, 60)]
    intel = ThreatIntel()
    intel.add("192.0.2.66", "c2-list")
    assert correlate(frame(rows))[1] == []
    (incident,) = correlate(frame(rows), intel=intel)[1]
    assert incident.kind == "single_stage"
    assert incident.stats["intel_hits"] == [["192.0.2.66", "c2-list"]]


def test_untimed_alerts_form_their_own_window() -> None:
    rows = [{**r, "timestamp": None} for r in campaign()]
    df = frame(rows)
    detector, (incident,) = correlate(df, chunk=4)
    assert incident.kind == "campaign" and incident.first_seen is None
    assert detector.assign(df, [incident]).height == 9


def test_non_alert_records_are_skipped() -> None:
    flows = [{**alert(t, "10.6.0.1", "10.6.0.2", "x"), "rule_name": None, "rule_id": None,
              "event_code": "flow"} for t in range(50)]  # fmt: skip
    detector, incidents = correlate(frame(flows, campaign()))
    assert detector.counters == {"events": 59, "alerts": 9, "late": 0}
    assert len(incidents) == 1


def test_ids_are_stable_and_incidents_sorted() -> None:
    df = frame(campaign(), noise(random.Random(9)))
    first, second = correlate(df)[1], correlate(df, chunk=333)[1]
    assert [i.id for i in first] == [i.id for i in second]
    order = [(i.severity.rank, i.score) for i in first]
    assert order == sorted(order, reverse=True)


def test_finished_correlator_refuses_more_input() -> None:
    detector, _ = correlate(frame(campaign()))
    with pytest.raises(UsageError, match="create a new one"):
        detector.update(frame(campaign()))
    assert detector.finish() == detector.finish()


def test_assign_ignores_other_detectors_and_empty_batches() -> None:
    df = frame(campaign())
    detector, incidents = correlate(df)
    foreign = incidents[0].model_copy(update={"detector": "firewall"})
    assert detector.assign(df, [foreign]).is_empty()
    assert detector.assign(df.clear(), incidents).is_empty()
    assert detector.assign(df, []).schema == pl.Schema(
        {"event_id": pl.String, "incident_id": pl.String}
    )


def test_every_threshold_and_the_mapping_table_are_documented() -> None:
    from pathlib import Path

    from siem_consensus.enrich.attack_map import rules_table

    text = (Path(__file__).resolve().parent.parent / "docs" / "ids.md").read_text("utf-8")
    missing = [name for name in IdsThresholds.model_fields if f"`{name}`" not in text]
    assert not missing, f"undocumented thresholds: {missing}"
    assert rules_table() in text, "docs/ids.md shows an outdated mapping table"
