"""The documented CIC-IDS2017 evaluation command runs and meets the figures in the docs."""

from __future__ import annotations

import pytest

from siem_consensus.evaluation.cicids2017 import DEFAULT_DATA, evaluate

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not DEFAULT_DATA.is_dir(), reason="CIC-IDS2017 sample not available"),
]


def test_evaluation_figures() -> None:
    result = evaluate(DEFAULT_DATA)
    classes = result["classes"]
    for attack in ("Portscan", "Infiltration - Portscan", "FTP-Patator", "SSH-Patator"):
        assert classes[attack]["in_incidents"] >= 0.99 * classes[attack]["flows"], attack
        # decisions: every detected attack class reaches a human, by an alert
        assert classes[attack]["review"] == classes[attack]["in_incidents"], attack
        assert classes[attack]["alert"] >= 0.98 * classes[attack]["flows"], attack
    assert classes["BENIGN"]["in_incidents"] <= 0.01 * classes["BENIGN"]["flows"]
    assert result["precision"] >= 0.99
    assert result["sources"]["any"]["false_positive"] == 0
    decisions = result["decisions"]
    assert result["embedded_errors"] == [] and decisions["degraded"] == 0
    assert decisions["attack_incidents_dismissed"] == 0
    assert decisions["review_load"] == 5 and result["policy"] == "unanimous at 0.8"
