"""Stage evidence after a foothold (``foothold_horizon_s``, ``follow_up`` mapping rules).

Both rules are tested on both sides of their boundary: a follow-up alert (AMiner's
"high entropy in Apache Access request") is an attack step exactly ``foothold_horizon_s``
after a foothold on its host and not one window later, nor before the foothold, nor on
another host; a post-exploitation step after a long gap joins the foothold's campaign within
the horizon and not beyond it; reconnaissance after a gap never does.
"""

from __future__ import annotations

import polars as pl
from test_detector_ids_frames import ATTACKER, C2, VICTIM, Row, alert, correlate, frame, members

from siem_consensus.detectors.ids import IdsCorrelator, IdsThresholds
from siem_consensus.enrich.attack_map import AttackMap, load_rules, rules_table

EXPLOIT = "Wazuh: Common web attack."
ENTROPY = "AMiner: High entropy in Apache Access request."
SUDO = "Wazuh: Successful sudo to ROOT executed."
SCAN = "Wazuh: sshd: insecure connection attempt (scan)."
HOST, OTHER = "10.9.3.4", "10.9.3.5"
HOUR, DAY = 3600, 86400


def host(seconds: float, sig: str, ip: str = HOST) -> Row:
    """A host-based alert: only the reporting host's address, no severity (AIT-ADS style)."""
    return alert(seconds, ip, None, sig, sev=None, sensor="wazuh")


def foothold(start: float = 0.0, ip: str = HOST) -> list[Row]:
    return [host(start + k, EXPLOIT, ip) for k in range(3)]


def entropy(at: float, n: int = 1, ip: str = HOST) -> list[Row]:
    return [host(at + k, ENTROPY, ip) for k in range(n)]


# -- follow-up alerts -------------------------------------------------------------------------


def test_a_follow_up_alert_alone_is_no_attack_step() -> None:
    # three high-entropy requests would be an incident if the rule were an ordinary one
    assert correlate(frame(entropy(0, n=3)))[1] == []
    unconditional = AttackMap(r.model_copy(update={"follow_up": False}) for r in AttackMap().rules)
    (incident,) = correlate(frame(entropy(0, n=3)), attack_map=unconditional)[1]
    assert incident.stats["stages"] == ["execution"]


def test_a_follow_up_alert_after_a_foothold_is_a_step_of_its_campaign() -> None:
    df = frame(foothold(), entropy(10 * HOUR))
    detector, incidents = correlate(df)
    (incident,) = incidents
    assert incident.kind == "campaign"
    assert incident.stats["stages"] == ["initial_access", "execution"]
    assert incident.event_count == 4
    assert set().union(*members(detector, df, incidents).values()) == {1, 2, 3, 4}


def test_the_horizon_boundary_in_whole_windows() -> None:
    # T0 is on the hour: the foothold is in window w, an alert 24 h later in w + 24
    inside = correlate(frame(foothold(), entropy(DAY)))[1]
    assert [i.event_count for i in inside] == [4]
    # three alerts one window later: were they steps, they would be an incident of their own
    outside = correlate(frame(foothold(), entropy(DAY + HOUR, n=3)))[1]
    assert [(i.kind, i.event_count) for i in outside] == [("single_stage", 3)]
    shorter = IdsThresholds(foothold_horizon_s=DAY - HOUR)
    late = correlate(frame(foothold(), entropy(DAY, n=3)), cfg=shorter)[1]
    assert [i.event_count for i in late] == [3]
    off = IdsThresholds(foothold_horizon_s=0)
    assert [i.event_count for i in correlate(frame(foothold(), entropy(HOUR)), cfg=off)[1]] == [3]


def test_a_follow_up_alert_before_the_foothold_or_on_another_host_is_not_a_step() -> None:
    before = correlate(frame(entropy(-2 * HOUR), foothold()))[1]
    assert [i.event_count for i in before] == [3]
    elsewhere = correlate(frame(foothold(), entropy(HOUR, n=3, ip=OTHER)))[1]
    assert [i.stats["member_entities"] for i in elsewhere] == [[HOST]]


def test_the_same_window_counts_in_either_order() -> None:
    (incident,) = correlate(frame(entropy(0), foothold(start=600)))[1]
    assert incident.stats["stages"] == ["initial_access", "execution"]


def test_a_follow_up_alert_does_not_renew_the_foothold() -> None:
    rows = [*foothold(), *entropy(20 * HOUR), *entropy(30 * HOUR)]
    (incident,) = correlate(frame(rows))[1]
    assert incident.event_count == 4  # the alert 30 h after the foothold stays out
    # nor does a step 30 h after the foothold join through the follow-up alert at 20 h
    sudo = [host(30 * HOUR + k, SUDO) for k in range(3)]
    incidents = correlate(frame(foothold(), entropy(20 * HOUR), sudo))[1]
    assert sorted(i.event_count for i in incidents) == [3, 4]


def test_the_victim_of_a_pair_is_compromised_not_the_attacker() -> None:
    exploit = [
        alert(k, ATTACKER, VICTIM, "ET WEB_SERVER Possible SQL Injection Attempt", cat="Web")
        for k in range(3)
    ]
    from_victim = alert(2 * HOUR, VICTIM, C2, ENTROPY, sev=None)
    from_attacker = alert(2 * HOUR, ATTACKER, "198.51.100.9", ENTROPY, sev=None)
    incidents = correlate(frame(exploit, [from_victim, from_attacker]))[1]
    (campaign,) = [i for i in incidents if i.kind == "campaign"]
    assert campaign.stats["member_entities"] == [VICTIM, ATTACKER, C2]
    assert all("198.51.100.9" not in i.stats["member_entities"] for i in incidents)


def test_footholds_are_remembered_across_closed_windows_and_then_forgotten() -> None:
    cfg = IdsThresholds(max_open_rows=0)
    detector = IdsCorrelator(cfg)
    detector.update(frame(foothold()))
    detector.update(frame(entropy(5 * HOUR), source="later.json"))  # closes the foothold's
    assert detector._footholds.last  # the foothold window is closed and remembered
    detector.update(frame([host(3 * DAY, SUDO, OTHER)], source="much-later.json"))
    detector.update(frame([host(3 * DAY + 3 * HOUR, SUDO, OTHER)], source="last.json"))
    assert HOST not in detector._footholds.last  # older than the horizon: forgotten
    incidents = detector.finish()
    assert [i.event_count for i in incidents if HOST in i.stats["member_entities"]] == [4]


# -- post-exploitation steps join the foothold's campaign -------------------------------------


def test_a_later_privilege_escalation_joins_the_foothold_campaign() -> None:
    rows = [*foothold(), *(host(10 * HOUR + k, SUDO) for k in range(3))]
    (incident,) = correlate(frame(rows))[1]
    assert incident.kind == "campaign"
    assert incident.stats["stages"] == ["initial_access", "privilege_escalation"]
    off = correlate(frame(rows), cfg=IdsThresholds(foothold_horizon_s=0))[1]
    assert sorted(i.kind for i in off) == ["single_stage", "single_stage"]


def test_the_join_boundary_and_reconnaissance_after_a_gap() -> None:
    def sudo(at: float) -> list[Row]:
        return [host(at + k, SUDO) for k in range(3)]

    assert len(correlate(frame(foothold(), sudo(DAY)))[1]) == 1
    assert len(correlate(frame(foothold(), sudo(DAY + HOUR)))[1]) == 2
    scans = [host(10 * HOUR + k, SCAN) for k in range(3)]
    assert len(correlate(frame(foothold(), scans))[1]) == 2


def test_a_foothold_on_one_host_does_not_join_another_hosts_steps() -> None:
    rows = [*foothold(), *(host(10 * HOUR + k, SUDO, OTHER) for k in range(3))]
    assert len(correlate(frame(rows))[1]) == 2


def test_chunking_does_not_change_the_result() -> None:
    df = frame(foothold(), entropy(10 * HOUR), [host(10 * HOUR + 60 + k, SUDO) for k in range(3)])
    whole = correlate(df)[1]
    assert [(i.id, i.event_count, i.stats["stages"]) for i in correlate(df, chunk=2)[1]] == [
        (i.id, i.event_count, i.stats["stages"]) for i in whole
    ]


# -- the mapping table ------------------------------------------------------------------------


def test_follow_up_rules_load_from_toml_and_show_in_the_table(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "rules.toml"
    path.write_text(
        '[[rule]]\nname = "odd_request"\npattern = "odd request"\ntechnique = "T1059"\n'
        'tactic = "execution"\nlabel = "odd request"\nfollow_up = true\n'
    )
    (rule,) = load_rules(path)
    assert rule.follow_up
    assert "| execution (after a foothold) |" in rules_table([rule])
    amap = AttackMap.from_file(path)
    df = frame([host(k, "Odd request seen") for k in range(3)])
    assert correlate(df, attack_map=amap)[1] == []
    assert len(correlate(pl.concat([frame(foothold()), df]), attack_map=amap)[1]) == 1


# -- two hosts' scans are one when the scan leads to a foothold -------------------------------


def _two_scans(exploit_at: float | None) -> list[Row]:
    """OTHER reports one scan alert; HOST three in the same window, then maybe a foothold."""
    rows = [host(5, SCAN, OTHER), *(host(10 + k, SCAN) for k in range(3))]
    return rows + (foothold(start=exploit_at) if exploit_at is not None else [])


def test_two_hosts_scanned_before_a_foothold_are_one_group() -> None:
    (incident,) = correlate(frame(_two_scans(600)))[1]
    assert incident.kind == "campaign"
    assert incident.stats["member_entities"] == [HOST, OTHER]
    assert incident.event_count == 7
    # no foothold: two hosts are not yet a sweep, the lone scan stays out
    (alone,) = correlate(frame(_two_scans(None)))[1]
    assert alone.stats["member_entities"] == [HOST]


def test_the_scan_must_come_before_the_foothold_within_the_horizon() -> None:
    within = correlate(frame(_two_scans(DAY)))[1]
    assert any(OTHER in i.stats["member_entities"] for i in within)
    beyond = correlate(frame(_two_scans(DAY + HOUR)))[1]
    assert all(OTHER not in i.stats["member_entities"] for i in beyond)
    before = correlate(frame(_two_scans(-2 * HOUR)))[1]
    assert all(OTHER not in i.stats["member_entities"] for i in before)
    off = correlate(frame(_two_scans(600)), cfg=IdsThresholds(foothold_horizon_s=0))[1]
    assert all(OTHER not in i.stats["member_entities"] for i in off)
