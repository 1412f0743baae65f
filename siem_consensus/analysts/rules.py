"""The embedded rules analyst: signatures and thresholds a senior analyst would apply.

No key, no network, deterministic. Each detection kind has a declarative :class:`KindRule`
(category, attacker goal, business impact, recommended actions, and a scoring function over
the detector's statistics), one table per detector family. Kinds without a rule get an
explicit abstention.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..models import Incident, Verdict
from ._rules_auth import AUTH_RULES
from ._rules_base import KindRule
from ._rules_firewall import FIREWALL_RULES
from ._rules_ids import IDS_RULES
from ._rules_insider import INSIDER_RULES
from .base import abstain, register

__all__ = ["KIND_RULES", "KindRule", "RulesAnalyst"]

KIND_RULES: dict[str, KindRule] = {**FIREWALL_RULES, **IDS_RULES, **INSIDER_RULES, **AUTH_RULES}
"""Rules by detection kind; add an entry to teach the analyst a new kind."""


@register("rules")
class RulesAnalyst:
    """Embedded analyst applying :data:`KIND_RULES` to the detector's statistics."""

    name = "rules"

    def __init__(self, rules: Mapping[str, KindRule] | None = None) -> None:
        self.rules = dict(rules or KIND_RULES)

    async def analyze(self, case: Incident) -> Verdict:
        """Judge the incident with the rule for its kind, or abstain."""
        rule = self.rules.get(case.kind)
        if rule is None:
            return abstain(self.name, case, f"no rule for detection kind {case.kind!r}")
        is_threat, confidence, why = rule.judge(case.stats)
        return Verdict(
            analyst=self.name,
            incident_id=case.id,
            is_threat=is_threat,
            confidence=round(confidence, 3),
            severity=case.severity if is_threat else None,
            category=rule.category if is_threat else "benign",
            attack_techniques=tuple(ref.technique_id for ref in case.attack) if is_threat else (),
            evidence_event_ids=case.evidence_event_ids[:5],
            rationale="; ".join(why),
            attacker_goal=rule.goal if is_threat else None,
            business_impact=rule.impact if is_threat else None,
            recommended_actions=rule.actions if is_threat else (),
        )
