"""Claim verification and consensus policies: the only place outcomes are decided.

Rules every policy obeys (property-tested in ``tests/test_consensus_properties.py``, with
the exact semantics and a table per policy in docs/consensus.md):

* A vote is over the configured analysts, about the incident each was asked
  (:func:`bind_verdicts`): a verdict about another incident is an ``error`` verdict, and a
  configured analyst without a verdict gets one; nobody is silently absent.
* A verdict counts only when its status is ``ok`` and it judges (``is_threat`` set);
  unverified, abstained and failed verdicts are abstentions, never agreement. ``skipped``
  verdicts (an analyst not asked by design, e.g. below the LLM pre-filter score) are left out
  of the vote entirely.
* A side wins only when its combined confidence reaches the threshold *and* strictly
  outweighs the other side; anything else is ``needs_review``.
* Any analyst failure makes the decision ``needs_review`` with ``degraded=True``; a failure
  never produces a verdict and never dismisses.
* An incident whose detector severity is high or critical is never ``dismissed`` by analysts
  (the deterministic floor); the best they can do is ``needs_review``.
* The decision's ``confidence`` is the combined number compared with the threshold. Sides are
  computed in exact arithmetic, so the outcome never depends on verdict order or rounding.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import ClassVar, TypeAlias

from ..errors import ConfigError
from ..models import Decision, Incident, Outcome, Severity, Verdict, VerdictStatus
from ._claims import Check, bind_verdicts, verify_verdict

__all__ = [
    "POLICIES",
    "Check",
    "ConsensusPolicy",
    "MajorityPolicy",
    "UnanimousPolicy",
    "WeightedPolicy",
    "bind_verdicts",
    "decide",
    "get_policy",
    "verify_verdict",
]

_FLOOR = Severity.HIGH

Side: TypeAlias = Fraction | None
"""A side's combined confidence, exact; None when that side cannot win."""


class ConsensusPolicy(ABC):
    """How verified verdicts become an outcome.

    Subclasses set ``name`` and implement :meth:`combine`, which returns the combined threat
    and benign confidences (each None when that side cannot win). Winning (reach the
    threshold and strictly outweigh the other side), failure handling, the deterministic
    floor and reasons are shared by :meth:`decide`.
    """

    name: ClassVar[str]

    def __init__(self, threshold: float = 0.8) -> None:
        if not 0.0 <= threshold <= 1.0 or math.isnan(threshold):
            raise ConfigError(f"threshold must be between 0 and 1, got {threshold}")
        self.threshold = threshold

    def check_analysts(self, analysts: Sequence[str]) -> None:  # noqa: B027 (optional hook)
        """Reject settings that cannot work with these configured analysts.

        A graph calls this once when it is built. The default accepts any analysts.
        """

    @abstractmethod
    def combine(
        self, counting: Sequence[Verdict], asked: Sequence[Verdict]
    ) -> tuple[Side, Side, list[str]]:
        """(threat confidence, benign confidence, reasons) from the counting verdicts.

        ``asked`` holds every verdict of an analyst that was asked (counting, abstaining and
        failed), so abstentions can weigh against a side.
        """

    def decide(self, incident: Incident, verdicts: Sequence[Verdict]) -> Decision:
        """The decision for one incident from its (already bound and verified) verdicts."""
        asked = [v for v in verdicts if v.status is not VerdictStatus.SKIPPED]
        failures = [v for v in asked if v.status is VerdictStatus.ERROR]
        counting = [v for v in asked if v.counts]
        threat, benign, reasons = self.combine(counting, asked)
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
        self, threat: Side, benign: Side, asked: Sequence[Verdict], reasons: list[str]
    ) -> tuple[Outcome, float | None]:
        if not asked:
            reasons.append("no analyst judged this incident")
            return Outcome.NEEDS_REVIEW, None
        limit, bar = Fraction(self.threshold), f"threshold {self.threshold:.2f}"
        if threat is not None and _wins(threat, benign, limit):
            reasons.append(f"{self.name}: threat at {float(threat):.2f} >= {bar}")
            return Outcome.ALERT, float(threat)
        if benign is not None and _wins(benign, threat, limit):
            reasons.append(f"{self.name}: benign at {float(benign):.2f} >= {bar}")
            return Outcome.DISMISSED, float(benign)
        if threat is not None and benign is not None:
            reasons.append(
                f"{self.name}: threat {float(threat):.2f} vs benign {float(benign):.2f}: "
                f"no side reaches the threshold {self.threshold:.2f} and outweighs the other"
            )
            return Outcome.NEEDS_REVIEW, _shown(max(threat, benign))
        shown = threat if threat is not None else benign
        if shown is not None:
            reasons.append(
                f"{self.name}: combined confidence {float(shown):.2f} below threshold "
                f"{self.threshold:.2f}"
            )
        return Outcome.NEEDS_REVIEW, _shown(shown)


class UnanimousPolicy(ConsensusPolicy):
    """Every analyst asked gives a counting verdict on the same side; the combined confidence
    is the minimum of theirs. Any abstention, failure or dissent means review, and an alert
    needs at least two agreeing analysts (unanimity of one voice is not consensus).

    Threshold 0: agreement alone decides. Threshold 1: every analyst must be fully sure.
    """

    name = "unanimous"

    def combine(
        self, counting: Sequence[Verdict], asked: Sequence[Verdict]
    ) -> tuple[Side, Side, list[str]]:
        """Minimum confidence when all analysts asked agree, else None on both sides."""
        if not counting:
            return None, None, []
        sides = {v.is_threat for v in counting}
        if len(sides) > 1:
            return None, None, ["conflicting analysis - manual investigation required"]
        if len(counting) < len(asked):
            return (
                None,
                None,
                [f"only {len(counting)} of {len(asked)} analysts gave a usable verdict"],
            )
        low = Fraction(min(v.confidence for v in counting))
        if sides == {False}:
            return None, low, []
        if len(counting) < 2:
            return None, None, ["unanimous: an alert needs at least two agreeing analysts"]
        return low, None, []


class MajorityPolicy(ConsensusPolicy):
    """A quorum of the analysts asked takes one side at or above the threshold; the combined
    confidence is the quorum-th highest confidence on that side (so at least ``quorum``
    analysts are at least that sure). Abstainers and failures count in "asked", so they never
    help a side reach the default quorum. When both sides reach the quorum (possible only
    with an explicit quorum of at most half the analysts) the outcome is review.

    Args:
        threshold: Confidence each of the quorum's analysts must reach (0: any confidence).
        quorum: Analysts needed on one side; default more than half of those asked.
    """

    name = "majority"

    def __init__(self, threshold: float = 0.8, quorum: int | None = None) -> None:
        super().__init__(threshold)
        if quorum is not None and quorum < 1:
            raise ConfigError(f"quorum must be >= 1, got {quorum}")
        self.quorum = quorum

    def check_analysts(self, analysts: Sequence[str]) -> None:
        """A quorum larger than the analysts configured could never be reached."""
        if self.quorum is not None and self.quorum > len(analysts):
            raise ConfigError(
                f"quorum {self.quorum} can never be reached with {len(analysts)} analysts "
                f"({', '.join(analysts)}); use a quorum of at most {len(analysts)}"
            )

    def combine(
        self, counting: Sequence[Verdict], asked: Sequence[Verdict]
    ) -> tuple[Side, Side, list[str]]:
        """Per side: the quorum-th highest confidence, if that many analysts took the side."""
        need = self.quorum or len(asked) // 2 + 1
        sides: list[Side] = []
        for flag in (True, False):
            confs = sorted((v.confidence for v in counting if v.is_threat is flag), reverse=True)
            sides.append(Fraction(confs[need - 1]) if len(confs) >= need else None)
        if None not in sides:
            return None, None, ["conflicting analysis: both sides reached the quorum"]
        reasons = []
        if sides == [None, None] and counting:
            reasons.append(f"no side reached a quorum of {need} of {len(asked)} analysts")
        return sides[0], sides[1], reasons


class WeightedPolicy(ConsensusPolicy):
    """Weighted vote over every analyst asked.

    A side's share is ``sum(weight x confidence)`` over the analysts on that side divided by
    the total weight of every analyst asked, abstainers and failures included with their
    configured weight (an analyst with no weight given weighs 1; weight 0 leaves an analyst
    out). A side wins when its share reaches the threshold and is strictly larger than the
    other side's share. Threshold 0: the larger share wins, a tie (e.g. nobody judged) is
    review. Threshold 1: every analyst with weight > 0 must be on that side, fully sure.

    Args:
        threshold: Share a side must reach.
        weights: Weight per analyst name (finite, >= 0).
    """

    name = "weighted"

    def __init__(self, threshold: float = 0.8, weights: Mapping[str, float] | None = None) -> None:
        super().__init__(threshold)
        self.weights = dict(weights or {})
        if any(not (math.isfinite(w) and w >= 0) for w in self.weights.values()):
            raise ConfigError("weights must be finite numbers >= 0")

    def check_analysts(self, analysts: Sequence[str]) -> None:
        """Weights must name configured analysts, and not all of them may weigh 0."""
        unknown = sorted(set(self.weights) - set(analysts))
        if unknown:
            raise ConfigError(
                f"weights name analysts that are not configured: {', '.join(unknown)}; "
                f"configured analysts are: {', '.join(analysts)}"
            )
        if analysts and all(self.weight(a) == 0 for a in analysts):
            raise ConfigError("every configured analyst has weight 0: nothing could decide")

    def weight(self, analyst: str) -> float:
        """The configured weight of ``analyst`` (1 when not given)."""
        return self.weights.get(analyst, 1.0)

    def combine(
        self, counting: Sequence[Verdict], asked: Sequence[Verdict]
    ) -> tuple[Side, Side, list[str]]:
        """Each side's weighted share of the total weight asked."""
        if not counting:
            return None, None, []
        total = sum((Fraction(self.weight(v.analyst)) for v in asked), Fraction(0))
        if total == 0:
            return None, None, ["weighted: every analyst asked has weight 0"]
        shares = [
            sum(
                (
                    Fraction(self.weight(v.analyst)) * Fraction(v.confidence)
                    for v in counting
                    if v.is_threat is flag
                ),
                Fraction(0),
            )
            / total
            for flag in (True, False)
        ]
        return shares[0], shares[1], []


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
    analysts: Sequence[str] | None = None,
) -> Decision:
    """Bind every verdict to the incident, verify its claims, then apply the policy.

    Args:
        incident: The incident the analysts were asked about.
        verdicts: Their verdicts (any order).
        policy: The consensus policy.
        checks: Extra claim checks (see :func:`verify_verdict`).
        analysts: The configured analyst names; when given, each gets exactly one verdict in
            the decision and a missing one is an ``error`` verdict (see :func:`bind_verdicts`).
    """
    bound = bind_verdicts(incident, verdicts, analysts)
    checked = [verify_verdict(v, incident, checks) for v in bound]
    return policy.decide(incident, checked)


def _wins(side: Fraction, other: Side, limit: Fraction) -> bool:
    return side >= limit and (other is None or side > other)


def _shown(side: Side) -> float | None:
    return None if side is None else float(side)


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
