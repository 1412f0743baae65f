"""Rules for IDS correlation: multi-stage campaigns, single-stage groups, alert floods.

They read the IDS correlator's statistics: ``stage_count``, ``stages``, ``max_severity``
(normalised 1-4, 4 most severe), ``alerts``, ``distinct_signatures``, ``intel_hits``,
``asset_criticality`` and ``flood``.
"""

from __future__ import annotations

from ._rules_base import Judgement, KindRule, Stats

__all__ = ["IDS_RULES"]

_LATE_STAGES = {"command_and_control", "exfiltration", "impact"}


def _context(stats: Stats) -> tuple[float, list[str]]:
    score, why = 0.0, []
    hits = stats.get("intel_hits") or []
    if hits:
        score += 0.05
        why.append(f"{len(hits)} threat-intel hit(s)")
    if stats.get("asset_criticality") in ("high", "critical"):
        score += 0.05
        why.append(f"target criticality {stats.get('asset_criticality')}")
    return score, why


def _campaign(stats: Stats) -> Judgement:
    stages = list(stats.get("stages") or [])
    count, severity = int(stats.get("stage_count", len(stages))), int(stats.get("max_severity", 1))
    extra, why = _context(stats)
    late = sorted(_LATE_STAGES.intersection(stages))
    conf = 0.6 + min(0.08 * max(count - 1, 0), 0.24) + (0.05 if severity >= 4 else 0.0) + extra
    why.insert(0, f"{count} kill-chain stages in order: {' -> '.join(stages) or '-'}")
    if late:
        conf += 0.04
        why.append(f"post-exploitation activity: {', '.join(late)}")
    return count >= 2 and severity >= 3, min(conf, 0.97), why


def _single_stage(stats: Stats) -> Judgement:
    severity, alerts = int(stats.get("max_severity", 1)), int(stats.get("alerts", 0))
    extra, why = _context(stats)
    why.insert(0, f"{alerts} alerts of one stage, highest severity {severity}/4")
    return severity >= 3, min(0.6 + 0.05 * (severity - 2) + extra, 0.85), why


def _flood(stats: Stats) -> Judgement:
    severity, alerts = int(stats.get("max_severity", 1)), int(stats.get("alerts", 0))
    signatures = int(stats.get("distinct_signatures", 1))
    why = [f"{alerts} alerts of {signatures} benign-looking signature(s), severity {severity}/4"]
    if severity >= 3 or stats.get("intel_hits"):
        return True, 0.6, [*why, "but severe or on an intel list: review"]
    return False, 0.85, [*why, "repetitive, low severity: tuning candidate, not an attack"]


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
