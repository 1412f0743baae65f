"""The AIT-ADS evaluation: its scoring on a tiny synthetic file, a slice and (slow) a scenario."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from pathlib import Path

import pytest

from siem_consensus.analysts.rules import KIND_RULES
from siem_consensus.evaluation.ait_ads import DEFAULT_DATA, evaluate, evaluate_scenario, main

T = 1_700_000_000
HEADER = "time,name,ip,host,short,time_label,event_label"
_DATA = pytest.mark.skipif(not DEFAULT_DATA.is_dir(), reason="AIT-ADS not in ../shared/data")


def _write(path: Path) -> Path:
    rows = [HEADER]
    for k in range(150):  # a routine flood on the mail server
        rows.append(f"{T + 20 * k},Wazuh: Dovecot Authentication Success.,10.0.0.9,mail,W,"
                    "false_positive,-")  # fmt: skip
    for k in range(5):
        rows.append(f"{T + 600 + k},Wazuh: Multiple web server 400 error codes from same source "
                    "ip.,10.0.0.5,web,W,dirb,dirb")  # fmt: skip
    rows.append(f"{T + 700},Wazuh: Web server 400 error code.,10.0.0.5,web,W,dirb,-")
    rows.append(f"{T + 900},Wazuh: Successful sudo to ROOT executed.,10.0.0.5,web,W,"
                "privilege_escalation,escalated_sudo_command")  # fmt: skip
    rows.append(f"{T + 950},Wazuh: ClamAV database update,10.0.0.9,mail,W,privilege_escalation,-")
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(rows) + "\n")
    return path


def test_scores_a_synthetic_scenario(tmp_path: Path) -> None:
    result = evaluate_scenario(_write(tmp_path / "tiny_alerts.csv.gz"))
    assert result["alerts"] == 158 and result["dead_letters"] == 0
    assert result["by_kind"] == {"alert_flood": 1, "campaign": 1}
    assert result["alerts_per_incident"] == 79.0
    phases = result["time_phases"]
    assert (phases["phases"], phases["covered_medium"], phases["covered_any"]) == (2, 2, 2)
    assert phases["detail"]["privilege_escalation"] == {
        "alerts": 2,
        "alert": 0,
        "review": 1,
        "medium": 1,
        "any": 1,
        "incidents": {"alert": 0, "needs_review": 1, "dismissed": 0},
        "degraded": 0,
        "severity": "medium",
    }
    assert phases["detail"]["dirb"]["severity"] == "medium"
    # the flood holds only false-positive alerts; the campaign holds the attack
    assert result["false_incidents"] == {"alert": 0, "review": 1, "medium": 0, "any": 1}
    # The campaign goes to a human; so does the flood: rules call it routine (successful
    # logins) but a population of a few keys is too small for the baseline, which abstains.
    assert result["decisions"] == {
        "alert": 0,
        "needs_review": 2,
        "dismissed": 0,
        "decisions": 2,
        "degraded": 0,
        "errors": 0,
        "review_load": 2,
        "review_load_per_day": 2.0,
        "attack_incidents_dismissed": 0,
    }
    assert (phases["covered_review"], phases["covered_alert"]) == (2, 0)
    assert result["alerts_per_review"] == 79.0 and result["embedded_errors"] == []
    events = result["event_label"]["medium"]
    assert events == {"members": 7, "precision": round(6 / 7, 4), "recall": 1.0}
    # 140 flood alerts fall in the first hour (a flood window); the last 10 in the next hour
    # (too few to flood) and the lone ClamAV update belong to no incident.
    assert result["time_label"]["any"]["members"] == 7 + 140


def _boom(stats: object) -> tuple[bool, float, list[str]]:
    raise TypeError("int() argument must be a string or a number, not 'NoneType'")


def test_a_failing_embedded_analyst_is_no_coverage_and_fails_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for kind in ("campaign", "alert_flood"):
        monkeypatch.setitem(KIND_RULES, kind, replace(KIND_RULES[kind], judge=_boom))
    data = tmp_path / "data"
    data.mkdir()
    result = evaluate_scenario(_write(data / "fox_alerts.csv.gz"))
    decisions = result["decisions"]
    assert (decisions["degraded"], decisions["errors"], decisions["needs_review"]) == (2, 2, 2)
    assert result["time_phases"]["covered_review"] == 0  # degraded is never coverage
    assert result["time_phases"]["covered_any"] == 2
    assert "rules failed: TypeError" in result["embedded_errors"][0]
    with pytest.raises(SystemExit) as exit_:
        main(["--data", str(data), "--scenarios", "fox"])
    assert exit_.value.code == 1
    assert "2 embedded-analyst error verdict(s)" in capsys.readouterr().err


def test_command_line_prints_and_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for name in ("fox", "shaw"):
        _write(data / f"{name}_alerts.csv.gz")
    out = tmp_path / "out.json"
    main(["--data", str(data), "--scenarios", "fox,shaw", "--json", str(out)])
    printed = capsys.readouterr().out
    assert "attack phases covered by medium+ incidents 4/4" in printed
    assert "attack phases covered by alert 0/4 (0.0%), by alert or needs_review 4/4" in printed
    written = json.loads(out.read_text())
    assert written["totals"]["review_load"] == 4 and written["embedded_errors"] == []
    assert written["scenarios"]["fox"]["alerts_per_incident"] == 79.0
    assert "incidents holding no alert of an attack interval: 0 alert, 2 alert or" in printed
    assert "time_phases:" not in printed
    main(["--data", str(data), "--scenarios", "fox", "--phases"])
    printed = capsys.readouterr().out
    assert "  fox: dirb 6/medium/review; privilege_escalation 2/medium/review" in printed
    with pytest.raises(SystemExit, match="unknown scenarios"):
        main(["--data", str(data), "--scenarios", "nope"])
    with pytest.raises(FileNotFoundError, match="harrison_alerts"):
        evaluate(data, ["harrison"])


@_DATA
def test_a_slice_of_real_data_runs() -> None:
    result = evaluate_scenario(DEFAULT_DATA / "russellmitchell_alerts.csv.gz", limit=5000)
    assert result["alerts"] == 4999 and result["dead_letters"] == 0
    assert result["incidents"] <= 10


@pytest.mark.slow
@_DATA
def test_russellmitchell_meets_the_documented_figures() -> None:
    result = evaluate(DEFAULT_DATA, ["russellmitchell"])
    row = result["scenarios"]["russellmitchell"]
    assert row["alerts"] == 45_544
    assert row["alerts_per_incident"] >= 1000
    assert row["time_phases"]["covered_medium"] >= 9
    assert row["time_phases"]["covered_review"] >= 9
    assert row["decisions"]["review_load"] <= 20
    assert row["event_label"]["medium"]["recall"] >= 0.99
    assert result["totals"]["seconds"] < 60
    assert result["embedded_errors"] == [] and row["decisions"]["degraded"] == 0


@pytest.mark.slow
@_DATA
def test_every_scenario_meets_the_decision_targets() -> None:
    """Issue 10's targets on the six public scenarios, all met: no embedded error, >= 1,000
    alerts per alert-or-review incident everywhere, >= 90% of attack phases covered by an
    alert or needs_review incident, review load <= 20 in every scenario; and issue 13's
    phase coverage does not fall below the measured figures (stage evidence after a
    foothold: medium+ 55/59, alert 47/59, alert or review 55/59), with no incident holding
    only false-positive alerts decided ``alert`` and no more such incidents for review (39)."""
    result = evaluate(DEFAULT_DATA)
    assert result["embedded_errors"] == []
    totals = result["totals"]
    assert totals["decisions"]["degraded"] == 0
    assert totals["min_alerts_per_review"] >= 1000
    assert totals["max_review_load"] <= 20
    covered = {s: int(totals[f"time_phases_{s}"].split("/")[0]) for s in ("review", "medium")}
    assert covered["review"] >= 55 and covered["medium"] >= 55
    assert int(totals["time_phases_alert"].split("/")[0]) >= 47
    assert totals["false_incidents"]["alert"] == 0
    assert totals["false_incidents"]["review"] <= 39
    for name, row in result["scenarios"].items():
        assert row["decisions"]["review_load"] <= 20, name
    scenarios = result["scenarios"]
    # wheeler's shell and sudo, 10 h after the web attack, are in the attack's campaign
    for phase in ("reverse_shell", "privilege_escalation", "webshell"):
        detail = scenarios["wheeler"]["time_phases"]["detail"][phase]
        assert detail["alert"] and detail["severity"] == "high", phase
    # shaw's lone scan alert joined the campaign it led to
    assert scenarios["shaw"]["time_phases"]["detail"]["service_scans"]["alert"] == 3
    for name, row in scenarios.items():  # every reverse-shell phase reaches an alert
        assert row["time_phases"]["detail"]["reverse_shell"]["alert"] >= 1, name


@pytest.mark.slow
@_DATA
def test_a_reverse_shell_alone_in_its_hour_still_reaches_the_campaign(tmp_path: Path) -> None:
    """The window grid is arbitrary: shift wheeler's file so that an hour boundary falls in
    the 11 s between the reverse shell's one alert and the sudo after it. Without stage
    evidence after a foothold, the phase falls to no incident at all."""
    source = DEFAULT_DATA / "wheeler_alerts.csv.gz"
    with gzip.open(source, "rt", encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    rows = [line.split(",") for line in lines[1:]]
    sudo = min(float(r[0]) for r in rows if r[-2] == "privilege_escalation")
    shift = int((3600 - sudo % 3600) % 3600)
    shifted = tmp_path / "wheeler_alerts.csv.gz"
    with gzip.open(shifted, "wt", encoding="utf-8", compresslevel=1) as fh:
        fh.write(lines[0] + "\n")
        fh.writelines(f"{int(float(r[0])) + shift},{','.join(r[1:])}\n" for r in rows)
    result = evaluate_scenario(shifted)
    detail = result["time_phases"]["detail"]["reverse_shell"]
    assert detail["medium"] >= 1 and detail["alert"] >= 1
    assert detail["severity"] == "high"


def test_false_incidents_follow_the_attack_intervals_not_the_precise_labels(
    tmp_path: Path,
) -> None:
    """An incident whose alerts lie in an attack interval is no false incident even when no
    alert carries a precise ``event_label``; one with only false-positive alerts is."""
    scan = "Wazuh: sshd: insecure connection attempt (scan)."
    rows = [HEADER]
    rows += [f"{T + k},{scan},10.0.0.7,a,W,network_scans,-" for k in range(3)]
    rows += [f"{T + 7200 + k},{scan},10.0.0.8,b,W,false_positive,-" for k in range(3)]
    path = tmp_path / "scans_alerts.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(rows) + "\n")
    result = evaluate_scenario(path)
    assert result["incidents"] == 2
    assert result["false_incidents"]["any"] == 1
    assert result["time_phases"]["detail"]["network_scans"]["severity"] == "medium"
