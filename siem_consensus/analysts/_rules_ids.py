"""Rules for IDS correlation: multi-stage campaigns, single-stage groups, alert floods.

They read the IDS correlator's statistics: ``stage_count``, ``stages``, ``max_severity``
(normalised 1-4, 4 most severe; None when the sensors gave none, as in AIT-ADS),
``alerts``, ``attack_steps``, ``windows``, ``signatures``, ``distinct_signatures``,
``intel_hits``, ``asset_criticality`` and ``flood``.

When the sensor gave a severity it decides, as before: a single-stage group is a threat at
:data:`SINGLE_STAGE_MIN_SEVERITY` or above, a flood is noise up to
:data:`FLOOD_MAX_SEVERITY`. Without one, the rules judge the behaviour instead
(:mod:`._rules_ids_routine`): routine signature classes, login failures per active hour,
service changes during software updates. A recurring finding (``episodes``: one entry per
episode, from the IDS correlator) is judged by its episodes: maintenance only when every
episode ran during an update, login failures by the busiest episode. A threat-intel hit is
never dismissed.
"""

from __future__ import annotations

from ._rules_base import Judgement, KindRule, Stats, count, items, number
from ._rules_ids_routine import (
    LOGIN_FAILURES_PER_HOUR,
    episodes,
    maintenance_class,
    routine_class,
    top_signature,
)

__all__ = [
    "CAMPAIGN_MIN_SEVERITY",
    "CAMPAIGN_MIN_STAGES",
    "FLOOD_MAX_SEVERITY",
    "IDS_RULES",
    "LOGIN_FAILURES_PER_HOUR",
    "SINGLE_STAGE_MIN_SEVERITY",
]

CAMPAIGN_MIN_STAGES = 2
"""Kill-chain stages at which a campaign is a threat."""
CAMPAIGN_MIN_SEVERITY = 3
"""Known sensor severity (1-4) a campaign needs to be a threat (unknown severity: stages decide)."""
SINGLE_STAGE_MIN_SEVERITY = 3
"""Known sensor severity (1-4) at which a single-stage group is a threat."""
FLOOD_MAX_SEVERITY = 2
"""Highest known sensor severity (1-4) of a flood that is still noise."""

_LATE_STAGES = {"command_and_control", "exfiltration", "impact"}
_FOOTHOLD = {"initial_access", "execution"}
_ESCALATION = {"privilege_escalation", "persistence"}


def _severity(stats: Stats) -> int | None:
    """The normalised sensor severity 1-4, or None when unknown (missing or not a number)."""
    value = number(stats, "max_severity", None)
    return None if value is None else min(max(int(value), 1), 4)


def _intel(stats: Stats) -> list[object]:
    return items(stats, "intel_hits")


def _context(stats: Stats) -> tuple[float, list[str]]:
    score, why = 0.0, []
    hits = _intel(stats)
    if hits:
        score += 0.05
        why.append(f"{len(hits)} threat-intel hit(s)")
    criticality = stats.get("asset_criticality")
    if criticality in ("high", "critical"):
        score += 0.05
        why.append(f"target criticality {criticality}")
    return score, why


def _shown(severity: int | None) -> str:
    return "unknown" if severity is None else f"{severity}/4"


def _campaign(stats: Stats) -> Judgement:
    stages = [str(s) for s in items(stats, "stages")]
    count_ = count(stats, "stage_count", len(stages))
    severity = _severity(stats)
    extra, why = _context(stats)
    late = sorted(_LATE_STAGES.intersection(stages))
    high = severity is not None and severity >= 4
    conf = 0.6 + min(0.08 * max(count_ - 1, 0), 0.24) + (0.05 if high else 0.0) + extra
    why.insert(0, f"{count_} kill-chain stages in order: {' -> '.join(stages) or '-'}")
    if late:
        conf += 0.04
        why.append(f"post-exploitation activity: {', '.join(late)}")
    if _FOOTHOLD.intersection(stages) and _ESCALATION.intersection(stages):
        conf += 0.04
        why.append("a foothold followed by escalation or persistence: the exploit worked")
    severe = severity is None or severity >= CAMPAIGN_MIN_SEVERITY
    if severity is None:
        why.append("the sensors gave no severity: the stages decide")
    elif not severe:
        why.append(f"highest sensor severity {severity}/4 is low")
    return count_ >= CAMPAIGN_MIN_STAGES and severe, min(conf, 0.97), why


def _single_stage(stats: Stats) -> Judgement:
    severity, alerts = _severity(stats), count(stats, "alerts")
    extra, why = _context(stats)
    why.insert(0, f"{alerts} alerts of one stage, highest severity {_shown(severity)}")
    if severity is not None:
        conf = 0.6 + 0.05 * (severity - 2) + extra
        return severity >= SINGLE_STAGE_MIN_SEVERITY, min(conf, 0.85), why
    is_threat, conf, reason = _single_stage_behaviour(stats)
    if not is_threat and _intel(stats):
        return True, min(0.6 + extra, 0.85), [*why, reason, "but on a threat-intel list"]
    return is_threat, min(conf + (extra if is_threat else 0.0), 0.85), [*why, reason]


def _single_stage_behaviour(stats: Stats) -> tuple[bool, float, str]:
    """Without a sensor severity: judge one stage by how it behaves."""
    stages = [str(s) for s in items(stats, "stages")]
    stage = stages[0] if stages else None
    if stage == "credential_access":
        per_hour = _failures_per_hour(stats)
        if per_hour < LOGIN_FAILURES_PER_HOUR:
            return (
                False,
                0.85,
                (
                    f"{per_hour:.0f} failed logins per active hour, under "
                    f"{LOGIN_FAILURES_PER_HOUR}: the level of users mistyping passwords"
                ),
            )
        return True, 0.65, f"{per_hour:.0f} failed logins per active hour: guessing"
    if stage == "impact":
        maintenance = maintenance_class(stats)
        if maintenance is not None:
            return False, 0.85, f"service changes during {maintenance}: maintenance"
        return True, 0.6, "an impact step (a service stopped, data destroyed) on its own"
    return True, 0.65, f"{stage or 'an unnamed'} stage without sensor severity: look at it"


def _failures_per_hour(stats: Stats) -> float:
    """Attack steps per active window; for a recurring finding, of its busiest episode (a
    burst of guessing must not be averaged away by quiet days)."""
    rates = [_rate(part) for part in episodes(stats)]
    return max(rates) if len(rates) > 1 else _rate(stats)


def _rate(stats: Stats) -> float:
    steps = count(stats, "attack_steps", count(stats, "alerts"))
    return steps / max(count(stats, "windows", 1), 1)


def _flood(stats: Stats) -> Judgement:
    severity, alerts = _severity(stats), count(stats, "alerts")
    signatures = count(stats, "distinct_signatures", 1)
    why = [f"{alerts} alerts of {signatures} signature(s), severity {_shown(severity)}"]
    if (severity is not None and severity > FLOOD_MAX_SEVERITY) or _intel(stats):
        return True, 0.6, [*why, "but severe or on an intel list: review"]
    if severity is not None:
        return False, 0.85, [*why, "repetitive, low severity: tuning candidate, not an attack"]
    routine = routine_class(stats)
    if routine is not None:
        return False, 0.85, [*why, f"repetitive {routine}: tuning candidate, not an attack"]
    name = top_signature(stats) or "its signature"
    return (
        False,
        0.7,
        [
            *why,
            f"repetitive, but {name!r} is of no routine class and has no severity: look once",
        ],
    )


IDS_RULES: dict[str, KindRule] = {
    "campaign": KindRule(
        category="multi_stage_attack",
        goal="compromise the target and use it: exploit, execute, call home, take data",
        impact="a compromised server with possible data loss; treat as an active breach",
        actions=(
            "Isolate the victim host (recommend; needs approval)",
            "Block the attacker and the outbound destination at the perimeter (recommend)",
            "Preserve evidence: memory image, disk snapshot, web and database logs",
            "Hunt for the same indicators on other hosts",
        ),
        judge=_campaign,
    ),
    "single_stage": KindRule(
        category="attack_attempt",
        goal="probe or exploit one weakness",
        impact="unsuccessful so far; a foothold if one attempt worked",
        actions=(
            "Check the target's logs for a successful attempt",
            "Block the source if attempts continue (recommend; needs approval)",
        ),
        judge=_single_stage,
    ),
    "alert_flood": KindRule(
        category="noise",
        goal="none evident",
        impact="analyst fatigue; consider tuning the signature",
        actions=("Review the signature's tuning",),
        judge=_flood,
    ),
}
