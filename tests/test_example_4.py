"""Example 4 (SSH authentication) on the real machinery, offline: API, script, CLI and demo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from siem_consensus import Outcome, Severity, example_4
from siem_consensus.cli import main
from siem_consensus.generators.auth import ATTACKER, COMPROMISED, scenario_4, write_scenario_4


def test_example_4_the_guessed_login_is_the_alert(capsys: pytest.CaptureFixture[str]) -> None:
    report = example_4()
    [alert] = report.alerts
    incident = report.incident(alert.incident_id)
    assert incident.kind == "success_after_failures"
    assert (incident.stats["source_ip"], incident.stats["user_name"]) == (ATTACKER, COMPROMISED)
    assert incident.severity is Severity.CRITICAL and incident.stats["targeted"]
    background = [i for i in report.incidents if i.stats["background"]]
    assert background and all(i.severity.rank <= Severity.MEDIUM.rank for i in background)
    assert all(report.decision_for(i.id).outcome is not Outcome.ALERT for i in background)
    assert not any(d.degraded for d in report.decisions)
    out = capsys.readouterr().out
    assert "Example 4" in out and incident.title in out


def test_scenario_4_is_deterministic() -> None:
    assert scenario_4(3) == scenario_4(3) and scenario_4(3) != scenario_4(4)


def test_cli_auth_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "auth.log"
    write_scenario_4(log)
    out = tmp_path / "report.json"
    assert main(["auth", str(log), "--format", "json", "-o", str(out), "--no-progress"]) == 0
    data = json.loads(out.read_text())
    assert data["detector"] == "auth" and data["input"]["formats"] == {"auth.log": "openssh"}
    assert [d["outcome"] for d in data["decisions"]].count("alert") == 1
    assert main(["export", str(out), "--format", "ecs"]) == 0
    docs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert docs and all(doc["event"]["category"] == ["authentication"] for doc in docs)


def test_cli_auth_thresholds_file(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    write_scenario_4(log)
    toml = tmp_path / "t.toml"
    toml.write_text("[auth]\nsuccess_min_failures = 100\nsuccess_min_account_failures = 100\n")
    out = tmp_path / "report.json"
    args = ["auth", str(log), "--thresholds", str(toml), "--format", "json", "-o", str(out)]
    assert main(args) == 0
    kinds = {i["kind"] for i in json.loads(out.read_text())["incidents"]}
    assert "success_after_failures" not in kinds and "account_brute_force" in kinds


def test_demo_runs_example_4(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--example", "4"]) == 0
    assert "Example 4" in capsys.readouterr().out


def _winlogbeat(second: int, code: str, outcome: str, user: str = "svc-sql") -> dict[str, object]:
    return {
        "@timestamp": f"2026-03-14T14:00:{second:02d}Z",
        "event": {
            "code": code,
            "action": "logged-in" if outcome == "success" else "logon-failed",
            "category": ["authentication"],
            "outcome": outcome,
        },
        "user": {"name": user},
        "source": {"ip": "10.20.9.77"},
        "host": {"name": "dc01.corp.example"},
        "winlog": {"event_id": code},
    }


def test_windows_logons_as_ecs_records() -> None:
    from siem_consensus import analyze_auth

    records = [_winlogbeat(s, "4625", "failure") for s in range(8)]
    records.append(_winlogbeat(30, "4624", "success"))
    report = analyze_auth(records)
    assert report.input.formats == {"records": "ecs"}
    [incident] = report.incidents
    assert incident.kind == "success_after_failures"
    assert incident.stats["failures_before_success"] == 8 and incident.stats["internal_source"]
    assert incident.entities.hosts == ("dc01.corp.example",)
    decision = report.decision_for(incident.id)
    assert not decision.degraded
    rules = next(v for v in decision.verdicts if v.analyst == "rules")
    assert rules.is_threat is True
