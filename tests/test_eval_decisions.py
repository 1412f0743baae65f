"""Decision-level figures shared by the evaluations: coverage, load and failing on errors."""

from __future__ import annotations

import pytest

from siem_consensus.evaluation._decisions import (
    embedded_errors,
    exit_on_errors,
    outcome_counts,
    reaches_human,
)
from siem_consensus.models import Decision, Outcome, Verdict, VerdictStatus


def _decision(outcome: Outcome, degraded: bool = False, *verdicts: Verdict) -> Decision:
    return Decision(
        incident_id="i-1",
        outcome=outcome,
        degraded=degraded,
        policy="majority",
        threshold=0.8,
        verdicts=verdicts,
    )


@pytest.mark.parametrize(
    ("outcome", "degraded", "alert", "review"),
    [
        (Outcome.ALERT, False, True, True),
        (Outcome.NEEDS_REVIEW, False, False, True),
        (Outcome.DISMISSED, False, False, False),
        (Outcome.NEEDS_REVIEW, True, False, False),  # degraded is never coverage
    ],
)
def test_what_counts_as_coverage(
    outcome: Outcome, degraded: bool, alert: bool, review: bool
) -> None:
    decision = _decision(outcome, degraded)
    assert reaches_human(decision, alert_only=True) is alert
    assert reaches_human(decision) is review
    assert reaches_human(None) is False


def test_counts_load_and_errors() -> None:
    failed = Verdict(analyst="rules", incident_id="i-1", status=VerdictStatus.ERROR, error="boom")
    other = Verdict(analyst="claude", incident_id="i-1", status=VerdictStatus.ERROR, error="429")
    decisions = [
        _decision(Outcome.ALERT),
        _decision(Outcome.NEEDS_REVIEW, True, failed, other),
        _decision(Outcome.DISMISSED),
        _decision(Outcome.DISMISSED),
    ]
    counts = outcome_counts(decisions, days=4.0)
    assert counts == {
        "alert": 1,
        "needs_review": 1,
        "dismissed": 2,
        "decisions": 4,
        "degraded": 1,
        "errors": 1,  # only the embedded analysts' errors fail an evaluation
        "review_load": 2,
        "review_load_per_day": 0.5,
    }
    assert embedded_errors(decisions) == ["i-1: rules failed: boom"]


def test_an_embedded_error_exits_non_zero(capsys: pytest.CaptureFixture[str]) -> None:
    exit_on_errors({"embedded_errors": []})
    with pytest.raises(SystemExit) as exit_:
        exit_on_errors({"embedded_errors": ["fox: i-1: rules failed: TypeError"]})
    assert exit_.value.code == 1
    assert "rules failed: TypeError" in capsys.readouterr().err
