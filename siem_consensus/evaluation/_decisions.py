"""Decision-level figures shared by the evaluations: outcomes, review load, embedded failures.

Every evaluation runs the product's own entry point (``analyze_firewall``,
``correlate_ids_alerts``, ``detect_insider_threats``) with the embedded analysts and the
detector's default policy and threshold, and reports what users get: per outcome, degraded
decisions, analyst errors. A degraded or errored decision is never coverage, and an embedded
analyst that errors on real data fails the evaluation (:func:`exit_on_errors`).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..analysts import BaselineAnalyst, RulesAnalyst, run_analyst
from ..api import DECISION_DEFAULTS
from ..consensus import decide, get_policy
from ..models import Decision, Incident, Outcome, VerdictStatus

__all__ = [
    "EMBEDDED",
    "OUTCOMES",
    "embedded_errors",
    "exit_on_errors",
    "judge_embedded",
    "outcome_counts",
    "outcomes_by_incident",
    "reaches_human",
]

EMBEDDED = ("rules", "baseline")
"""Names of the embedded analysts: any error verdict of theirs fails an evaluation."""

OUTCOMES = tuple(o.value for o in Outcome)
"""``alert``, ``needs_review``, ``dismissed``."""


def judge_embedded(detector: str, incidents: Sequence[Incident]) -> list[Decision]:
    """Decide incidents as the graphs do after detection: both embedded analysts, each alone
    (failures become error verdicts), then claim checks and the detector's default policy.

    For evaluations that keep the detector object for their own figures (the insider one
    needs its user-days); the others call the public entry point instead.
    """
    defaults = DECISION_DEFAULTS[detector]
    policy = get_policy(defaults.policy, defaults.threshold)

    async def run() -> list[Decision]:
        analysts = (RulesAnalyst(), BaselineAnalyst())
        out = []
        for incident in incidents:
            verdicts = [await run_analyst(a, incident) for a in analysts]
            out.append(decide(incident, verdicts, policy))
        return out

    return asyncio.run(run())


def outcomes_by_incident(decisions: Iterable[Decision]) -> dict[str, Decision]:
    """Decisions keyed by incident id."""
    return {d.incident_id: d for d in decisions}


def reaches_human(decision: Decision | None, *, alert_only: bool = False) -> bool:
    """Whether a decision counts as coverage: an ``alert`` (or, unless ``alert_only``, a
    ``needs_review``) that is not degraded. Degraded or missing decisions never count."""
    if decision is None or decision.degraded:
        return False
    if alert_only:
        return decision.outcome is Outcome.ALERT
    return decision.outcome in (Outcome.ALERT, Outcome.NEEDS_REVIEW)


def embedded_errors(decisions: Iterable[Decision]) -> list[str]:
    """``incident: analyst failed: why`` for every error verdict of an embedded analyst."""
    return [
        f"{d.incident_id}: {v.analyst} failed: {v.error or 'unknown error'}"
        for d in decisions
        for v in d.verdicts
        if v.analyst in EMBEDDED and v.status is VerdictStatus.ERROR
    ]


def outcome_counts(decisions: Sequence[Decision], days: float | None = None) -> dict[str, Any]:
    """Outcome counts, degraded, embedded errors and the review load (alert + needs_review).

    Args:
        decisions: The run's decisions.
        days: Days of data covered by the input, for the review load per day.
    """
    counts: dict[str, Any] = dict.fromkeys(OUTCOMES, 0)
    for decision in decisions:
        counts[decision.outcome.value] += 1
    load = counts["alert"] + counts["needs_review"]
    counts.update(
        decisions=len(decisions),
        degraded=sum(d.degraded for d in decisions),
        errors=len(embedded_errors(decisions)),
        review_load=load,
        review_load_per_day=round(load / days, 2) if days else None,
    )
    return counts


def exit_on_errors(result: Mapping[str, Any]) -> None:
    """Exit with status 1, listing them, when the result holds embedded-analyst errors."""
    errors: list[str] = list(result.get("embedded_errors") or [])
    if errors:
        print(f"FAILED: {len(errors)} embedded-analyst error verdict(s):", file=sys.stderr)
        for line in errors[:20]:
            print(f"  {line}", file=sys.stderr)
        raise SystemExit(1)
