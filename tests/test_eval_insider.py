"""Insider evaluation over generator seeds (``pytest -m slow``), and its small helpers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from siem_consensus.evaluation._insider_cert import evaluate_cert_shapes
from siem_consensus.evaluation.insider import evaluate, main, parse_seeds
from siem_consensus.generators.insider import CERT_SCENARIOS


def test_parse_seeds() -> None:
    assert parse_seeds("1-3") == [1, 2, 3]
    assert parse_seeds("1,3,5-7") == [1, 3, 5, 6, 7]
    assert parse_seeds("4") == [4]


@pytest.mark.slow
def test_evaluation_on_a_few_seeds() -> None:
    result = evaluate([1, 2, 3], variants=("all", "single"))
    scenarios = result["scenarios"]
    for name in ("night_mass_download", "cloud_upload", "theft_before_resignation"):
        assert scenarios[name]["found"] == scenarios[name]["injected"] == 6
    assert scenarios["night_mass_download"]["high"] == 6
    assert result["benign"]["high_or_critical"] == 0
    assert result["users"]["precision"] is not None and result["users"]["precision"] >= 0.9
    assert result["benign"]["per_1000_user_days"] < 1.0
    assert result["embedded_errors"] == [] and result["decisions"]["degraded"] == 0
    for name in ("night_mass_download", "cloud_upload"):
        assert scenarios[name]["alert"] == 6, name  # unanimous at 0.85
    assert all(row["dismissed"] == 0 for row in scenarios.values())
    assert result["decisions"]["benign_by_outcome"].get("alert", 0) == 0


@pytest.mark.slow
def test_command_line_prints_the_summary(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--seeds", "1", "--variants", "all"])
    out = capsys.readouterr().out
    assert "precision" in out and "per 1,000" in out and "night_mass_download" in out
    assert "decisions (unanimous at 0.85, embedded analysts)" in out


def test_cert_shapes_on_a_small_seeded_data_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The default suite's check of the CERT-shapes mode: 80 users, 100 days, 2 per shape."""
    out = tmp_path / "cert.json"
    small = ["--users", "80", "--days", "100", "--per-scenario", "2"]
    main(["--cert-shapes", "--seeds", "5", *small, "--json", str(out)])
    printed = capsys.readouterr().out
    result = json.loads(out.read_text())
    assert set(result["scenarios"]) == set(CERT_SCENARIOS)
    for name, row in result["scenarios"].items():
        assert row["injected"] == row["found"] == row["reviewed"] == 2, name
        assert row["dismissed"] == row["degraded"] == 0, name
        assert name in printed
    assert result["scenarios"]["cert1_after_hours_leak"]["high"] == 2
    assert result["scenarios"]["cert3_admin_keylogger_mass_mail"]["alert"] == 2
    assert result["benign"]["users_alerted"] == 0 and result["embedded_errors"] == []
    load = result["review_load"]
    assert load["incidents"] >= 6 and load["user_days"] > 80 * 40
    assert load["incidents_per_1000_user_days"] == round(
        1000 * load["incidents"] / load["user_days"], 3
    )
    assert "per 1,000" in printed and "0 alerted" in printed


@pytest.mark.slow
def test_cert_shapes_at_cert_scale() -> None:
    """300 users over 180 days, 8 insiders per CERT shape (docs/evaluation.md, Insider)."""
    result = evaluate_cert_shapes([1])
    for name, row in result["scenarios"].items():
        assert row["injected"] == 8, name
        assert row["found"] >= 7 and row["reviewed"] >= 7, name
        assert row["degraded"] == 0, name
    assert result["benign"]["users_alerted"] == 0 and result["embedded_errors"] == []
    assert result["review_load"]["to_a_human_per_1000_user_days"] < 3.0
