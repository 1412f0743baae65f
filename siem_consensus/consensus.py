"""Claim verification and consensus policies: the only place outcomes are decided.

Rules every policy obeys (property-tested in ``tests/test_consensus_properties.py``):

* A verdict counts only when its status is ``ok``; unverified, abstained and failed verdicts
  are abstentions, never agreement. ``skipped`` verdicts (an analyst not asked by design, e.g.
  below the LLM pre-filter score) are left out of the vote entirely.
* Any analyst failure makes the decision ``needs_review`` with ``degraded=True``; a failure
  never produces a verdict and never dismisses.
* An incident whose detector severity is high or critical is never ``dismissed`` by analysts
  (the deterministic floor); the best they can do is ``needs_review``.
* The decision's ``confidence`` is exactly the combined number compared with the threshold.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import ClassVar

from .enrich.attack import is_valid_technique
from .errors import ConfigError
from .models import Decision, Incident, Outcome, Severity, Verdict, VerdictStatus

__all__ = [
    "POLICIES",
    "Check",
    "ConsensusPolicy",
    "MajorityPolicy",
    "UnanimousPolicy",
    "WeightedPolicy",
    "decide",
    "get_policy",
    "verify_verdict",
]

_FLOOR = Severity.HIGH


Check = Callable[[Verdict, Incident], list[str]]
"""An extra claim check: returns the problems it found (empty list: fine)."""


def verify_verdict(verdict: Verdict, incident: Incident, checks: Sequence[Check] = ()) -> Verdict:
    """Check a verdict's claims in code; a failed check turns it into an abstention.

    Checks: cited event ids exist in the incident's evidence, technique ids are current
    ATT&CK techniques, the verdict is about this incident, plus any detector-specific
    ``checks`` (e.g. the IDS graph's stage plausibility).
    """
    if verdict.status is not VerdictStatus.OK:
        return verdict
    problems = []
    if verdict.incident_id and verdict.incident_id != incident.id:
        problems.append(f"verdict is about {verdict.incident_id!r}, not {incident.id!r}")
    known = set(incident.evidence_event_ids)
    unknown_ids = [eid for eid in verdict.evidence_event_ids if eid not in known]
    if unknown_ids:
        problems.append(f"cites event ids not in the incident: {', '.join(unknown_ids[:5])}")
    bad_techniques = [t for t in verdict.attack_techniques if not is_valid_technique(t)]
    if bad_techniques:
        problems.append(f"unknown ATT&CK technique ids: {', '.join(bad_techniques[:5])}")
    if verdict.is_threat is None:
        problems.append("no threat judgement given")
    for check in checks:
        problems.extend(check(verdict, incident))
    if not problems:
        return verdict
    return verdict.model_copy(
        update={"status": VerdictStatus.UNVERIFIED, "problems": tuple(problems)}
    )


class ConsensusPolicy(ABC):
    """How agreeing verdicts become an outcome.

    Subclasses set ``name`` and implement :meth:`combine`, which returns the combined
    threat confidence and benign confidence (each or None when that side cannot win).
    Failure handling, the deterministic floor and reasons are shared by :meth:`decide`.
    """

    name: ClassVar[str]

    def __init__(self, threshold: float = 0.8) -> None:
        if not 0.0 <= threshold <= 1.0 or math.isnan(threshold):
            raise ConfigError(f"threshold must be between 0 and 1, got {threshold}")
        self.threshold = threshold

    @abstractmethod
    def combine(
        self, verdicts: Sequence[Verdict], total: int
    ) -> tuple[float | None, float | None, list[str]]:
        """(threat confidence, benign confidence, reasons) from the counting verdicts.

        ``total`` is the number of analysts asked, so abstentions can weigh against a side.
        """

    def decide(self, incident: Incident, verdicts: Sequence[Verdict]) -> Decision:
        """The decision for one incident from its (already verified) verdicts."""
        asked = [v for v in verdicts if v.status is not VerdictStatus.SKIPPED]
        failures = [v for v in asked if v.status is VerdictStatus.ERROR]
        counting = [v for v in asked if v.counts]
        threat, benign, reasons = self.combine(counting, len(asked))
        abstentions = [v for v in asked if not v.counts and v not in failures]
        reasons += [f"{v.analyst} abstained: {_why(v)}" for v in abstentions]
        reasons += [f"{v.analyst} not asked: {v.rationale}" for v in verdicts if v not in asked]
        outcome, confidence = self._outcome(threat, benign, asked, reasons)
        if failures:
            reasons += [f"{v.analyst} failed: {v.error or 'unknown error'}" for v in failures]
            reasons.append("analyst failure: a human must review (degraded)")
            outcome = Outcome.NEEDS_REVIEW
        if outcome is Outcome.DISMISSED and incident.severity.rank >= _FLOOR.rank:
            reasons.append(
                f"deterministic floor: a {incident.severity.value} detection cannot be "
                "dismissed by analysts"
            )
            outcome = Outcome.NEEDS_REVIEW
        agreeing = _agreeing(counting, outcome)
        return Decision(
            incident_id=incident.id,
            outcome=outcome,
            confidence=confidence,
            degraded=bool(failures),
            reasons=tuple(reasons),
            policy=self.name,
            threshold=self.threshold,
            severity=_severity(incident, agreeing),
            verdicts=tuple(verdicts),
            recommended_actions=_actions(agreeing),
        )

    def _outcome(
        self,
        threat: float | None,
        benign: float | None,
        verdicts: Sequence[Verdict],
        reasons: list[str],
    ) -> tuple[Outcome, float | None]:
        if not verdicts:
            reasons.append("no analyst judged this incident")
            return Outcome.NEEDS_REVIEW, None
        if threat is not None and threat >= self.threshold:
            reasons.append(f"{self.name}: threat at {threat:.2f} >= threshold {self.threshold:.2f}")
            return Outcome.ALERT, threat
        if benign is not None and benign >= self.threshold:
            reasons.append(f"{self.name}: benign at {benign:.2f} >= threshold {self.threshold:.2f}")
            return Outcome.DISMISSED, benign
        shown = threat if threat is not None else benign
        if shown is not None:
            reasons.append(
                f"{self.name}: combined confidence {shown:.2f} below threshold {self.threshold:.2f}"
            )
        return Outcome.NEEDS_REVIEW, shown


class UnanimousPolicy(ConsensusPolicy):
    """Every analyst asked must give a counting verdict on the same side; confidence is the
    minimum of their confidences. Any abstention or dissent means review."""

    name = "unanimous"

    def combine(
        self, verdicts: Sequence[Verdict], total: int
    ) -> tuple[float | None, float | None, list[str]]:
        """Minimum confidence when all ``total`` analysts agree, else None on both sides."""
        if not verdicts:
            return None, None, []
        sides = {v.is_threat for v in verdicts}
        if len(sides) > 1:
            return None, None, ["conflicting analysis - manual investigation required"]
        if len(verdicts) < total:
            return None, None, [f"only {len(verdicts)} of {total} analysts gave a usable verdict"]
        low = min(v.confidence for v in verdicts)
        return (low, None, []) if sides == {True} else (None, low, [])


class MajorityPolicy(ConsensusPolicy):
    """A quorum (default: more than half of the analysts asked) must agree at or above the
    threshold; confidence is the minimum among that quorum's confidences."""

    name = "majority"

    def __init__(self, threshold: float = 0.8, quorum: int | None = None) -> None:
        super().__init__(threshold)
        if quorum is not None and quorum < 1:
            raise ConfigError(f"quorum must be >= 1, got {quorum}")
        self.quorum = quorum

    def combine(
        self, verdicts: Sequence[Verdict], total: int
    ) -> tuple[float | None, float | None, list[str]]:
        """Per side: the quorum-th highest confidence, if that many analysts took the side."""
        need = self.quorum or total // 2 + 1
        reasons = []
        sides: list[float | None] = []
        for flag in (True, False):
            confs = sorted((v.confidence for v in verdicts if v.is_threat is flag), reverse=True)
            sides.append(confs[need - 1] if len(confs) >= need else None)
        if None not in sides:
            return None, None, ["conflicting analysis: both sides reached the quorum"]
        if sides == [None, None] and verdicts:
            reasons.append(f"no side reached a quorum of {need} of {total} analysts")
        return sides[0], sides[1], reasons


class WeightedPolicy(ConsensusPolicy):
    """Weighted vote: a side's confidence is ``sum(weight * confidence)`` over its analysts
    divided by the total weight of all analysts asked (abstentions dilute it)."""

    name = "weighted"

    def __init__(self, threshold: float = 0.8, weights: Mapping[str, float] | None = None) -> None:
        super().__init__(threshold)
        self.weights = dict(weights or {})
        if any(w < 0 or math.isnan(w) for w in self.weights.values()):
            raise ConfigError("weights must be non-negative numbers")

    def combine(
        self, verdicts: Sequence[Verdict], total: int
    ) -> tuple[float | None, float | None, list[str]]:
        """Weighted share per side; analysts without a weight count 1."""
        if not verdicts:
            return None, None, []
        counted = sum(self.weights.get(v.analyst, 1.0) for v in verdicts)
        missing = max(total - len(verdicts), 0)  # abstainers weigh 1 each: conservative
        denominator = counted + missing
        if denominator <= 0:
            return None, None, ["all analyst weights are zero"]
        scores = [
            sum(
                self.weights.get(v.analyst, 1.0) * v.confidence
                for v in verdicts
                if v.is_threat is f
            )
            / denominator
            for f in (True, False)
        ]
        return scores[0], scores[1], []


POLICIES: dict[str, type[ConsensusPolicy]] = {
    cls.name: cls for cls in (UnanimousPolicy, MajorityPolicy, WeightedPolicy)
}
"""Registry of consensus policies by name."""


def get_policy(name: str | ConsensusPolicy, threshold: float = 0.8) -> ConsensusPolicy:
    """A policy instance from a name (``unanimous``, ``majority``, ``weighted``) or instance."""
    if isinstance(name, ConsensusPolicy):
        return name
    if name == "quorum":
        name = "majority"
    try:
        return POLICIES[name](threshold)
    except KeyError:
        raise ConfigError.unknown("policy", name, POLICIES) from None


def decide(
    incident: Incident,
    verdicts: Iterable[Verdict],
    policy: ConsensusPolicy,
    checks: Sequence[Check] = (),
) -> Decision:
    """Verify every verdict against the incident, then apply the policy."""
    checked = [verify_verdict(v, incident, checks) for v in verdicts]
    return policy.decide(incident, checked)


def _why(verdict: Verdict) -> str:
    if verdict.problems:
        return "; ".join(verdict.problems)
    return verdict.rationale or verdict.status.value


def _agreeing(counting: Sequence[Verdict], outcome: Outcome) -> list[Verdict]:
    if outcome is Outcome.ALERT:
        return [v for v in counting if v.is_threat]
    if outcome is Outcome.DISMISSED:
        return [v for v in counting if v.is_threat is False]
    return []


def _severity(incident: Incident, agreeing: Sequence[Verdict]) -> Severity:
    claimed = [v.severity for v in agreeing if v.severity is not None and v.is_threat]
    if not claimed:
        return incident.severity
    consensus = min(claimed, key=lambda s: s.rank)  # what every agreeing analyst asserts
    return consensus if consensus.rank > incident.severity.rank else incident.severity


def _actions(agreeing: Sequence[Verdict]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for verdict in agreeing:
        for action in verdict.recommended_actions:
            seen.setdefault(action, None)
    return tuple(seen)
