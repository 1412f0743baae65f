"""The benign side read like the threat side: a review where only the benign side formed but
stayed below the threshold shows that side's confidence and says why it did not dismiss."""

from __future__ import annotations

import pytest

from siem_consensus.consensus import MajorityPolicy, UnanimousPolicy, decide
from siem_consensus.models import Incident, Outcome, Severity, Verdict


def _case() -> Incident:
    return Incident(id="inc", detector="d", kind="k", title="t", severity=Severity.LOW, score=0.5)


def _benign(name: str, confidence: float) -> Verdict:
    return Verdict(analyst=name, incident_id="inc", is_threat=False, confidence=confidence)


def test_a_unanimous_benign_side_below_the_threshold_shows_its_confidence() -> None:
    decision = decide(_case(), [_benign("a", 0.7), _benign("b", 0.6)], UnanimousPolicy(0.8))
    assert (decision.outcome, decision.degraded) == (Outcome.NEEDS_REVIEW, False)
    assert decision.confidence == pytest.approx(0.6)
    assert decision.reasons == ("unanimous: combined confidence 0.60 below threshold 0.80",)


def test_a_majority_benign_side_below_the_threshold_shows_its_confidence() -> None:
    verdicts = [_benign("a", 0.9), _benign("b", 0.75), _benign("c", 0.5)]
    decision = decide(_case(), verdicts, MajorityPolicy(0.8))
    assert decision.outcome is Outcome.NEEDS_REVIEW
    assert decision.confidence == pytest.approx(0.75)
    assert decision.reasons == ("majority: combined confidence 0.75 below threshold 0.80",)


def test_the_same_benign_side_at_the_threshold_dismisses() -> None:
    decision = decide(_case(), [_benign("a", 0.8), _benign("b", 0.9)], UnanimousPolicy(0.8))
    assert decision.outcome is Outcome.DISMISSED
    assert decision.confidence == pytest.approx(0.8)
    assert decision.reasons == ("unanimous: benign at 0.80 >= threshold 0.80",)
