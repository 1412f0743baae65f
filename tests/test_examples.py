"""The three bundled examples tell their scenarios on the real machinery, offline."""

from __future__ import annotations

import pytest

from siem_consensus import Outcome, Severity, example_1, example_2, example_3
from siem_consensus.cli import main


def test_example_1_one_scan_alert(capsys: pytest.CaptureFixture[str]) -> None:
    report = example_1()
    [alert] = report.alerts
    assert report.incident(alert.incident_id).entities.source_ips == ("45.95.168.200",)
    assert "Side by side" in capsys.readouterr().out


def test_example_2_one_critical_campaign(capsys: pytest.CaptureFixture[str]) -> None:
    report = example_2()
    assert 4_400 <= report.input.events <= 4_600
    [alert] = report.alerts
    incident = report.incident(alert.incident_id)
    assert incident.kind == "campaign" and alert.severity is Severity.CRITICAL
    assert {
        "Reconnaissance",
        "Initial Access",
        "Execution",
        "Command and Control",
        "Exfiltration",
    } <= set(incident.stats["tactics"])
    assert all(d.outcome is not Outcome.ALERT for d in report.decisions if d is not alert)
    out = capsys.readouterr().out
    assert "Narrative:" in out and "Validation: rules: claims verified" in out


def test_example_3_bob_is_an_alert_and_actions_wait_for_a_human(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = example_3()
    by_user = {
        report.incident(d.incident_id).entities.users[0]: d
        for d in report.decisions
        if report.incident(d.incident_id).entities.users
    }
    bob = by_user["bob.engineer"]
    assert bob.outcome is Outcome.ALERT and bob.confidence is not None
    assert bob.confidence >= report.threshold
    assert any(a.startswith("Disable the account") for a in bob.recommended_actions)
    pending = {p["incident_id"] for p in report.pending_approvals}
    assert bob.incident_id in pending
    out = capsys.readouterr().out
    assert "INSIDER THREAT ALERT: bob.engineer" in out
    assert "recorded once" in out and "Disable the account" not in out.split("Human review")[-1]


def test_demo_runs_all_three(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    for title in ("Example 1", "Example 2", "Example 3"):
        assert title in out
