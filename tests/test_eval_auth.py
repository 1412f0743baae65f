"""The documented auth evaluation runs on the real SSH logs and meets the figures in the docs."""

from __future__ import annotations

import pytest

from siem_consensus.evaluation.auth import DEFAULT_DATA, evaluate

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (DEFAULT_DATA / "loghub-openssh").is_dir(), reason="loghub OpenSSH sample not available"
    ),
]


def _no_failure(result: dict[str, object]) -> None:
    decisions = result["decisions"]
    assert isinstance(decisions, dict)
    assert decisions["degraded"] == 0 and decisions["analyst_errors"] == 0


def test_loghub_pooled() -> None:
    result = evaluate(DEFAULT_DATA)
    loghub = result["loghub-openssh"]
    labels = loghub["labels"]
    assert (loghub["events"], loghub["dead_letters"]) == (2000, 0)
    assert labels["hostile_source_recall"]["recall"] == 1.0
    assert labels["line_recall"] >= 0.99 and labels["false_positive_sources"] == []
    assert loghub["by_kind"] == {"background_guessing": 1}
    assert loghub["by_severity"] == {"medium": 1}
    _no_failure(loghub)
    for name in ("stratosphere-004", "stratosphere-006"):
        if name in result:
            assert result[name]["incidents"] == 0 and result[name]["dead_letters"] == 0
            _no_failure(result[name])


def test_loghub_one_incident_per_finding() -> None:
    loghub = evaluate(DEFAULT_DATA, pool=False)["loghub-openssh"]
    labels = loghub["labels"]
    assert loghub["by_kind"] == {
        "account_brute_force": 6,
        "distributed_brute_force": 1,
        "user_enumeration": 4,
    }
    assert labels["hostile_source_recall"]["flagged"] >= 23
    assert labels["false_positive_sources"] == []
    assert all(title.split("]")[0] != "[alert" for title in loghub["titles"])
    _no_failure(loghub)
