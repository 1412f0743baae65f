"""Insider evaluation over generator seeds (``pytest -m slow``), and its small helpers."""

from __future__ import annotations

import pytest

from siem_consensus.evaluation.insider import evaluate, main, parse_seeds


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
