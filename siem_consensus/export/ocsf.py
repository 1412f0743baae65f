"""OCSF 1.5.0 Detection Finding (class_uid 2004) records, one per consensus decision.

Mapping: outcome alert -> status New, needs_review -> In Progress, dismissed -> Suppressed;
severity info..critical -> severity_id 1..5; ``time`` is epoch milliseconds.
"""

from __future__ import annotations

from typing import Any

from ..models import Decision, Incident, Outcome, Severity
from ..report import Report
from ._common import decided_incidents, severity_of, verdict_summary, when

__all__ = ["OCSF_VERSION", "to_ocsf_findings"]

OCSF_VERSION = "1.5.0"
_CLASS_UID = 2004
_CATEGORY_UID = 2
_ACTIVITY_CREATE = 1

_SEVERITY_ID = {
    Severity.INFO: (1, "Informational"),
    Severity.LOW: (2, "Low"),
    Severity.MEDIUM: (3, "Medium"),
    Severity.HIGH: (4, "High"),
    Severity.CRITICAL: (5, "Critical"),
}
_STATUS = {
    Outcome.ALERT: (1, "New"),
    Outcome.NEEDS_REVIEW: (2, "In Progress"),
    Outcome.DISMISSED: (3, "Suppressed"),
}


def _confidence(score: float | None) -> tuple[int, str]:
    if score is None:
        return 0, "Unknown"
    if score >= 0.8:
        return 3, "High"
    return (2, "Medium") if score >= 0.5 else (1, "Low")


def _ms(incident: Incident, report: Report) -> int:
    return int(when(incident, report).timestamp() * 1000)


def _finding_info(report: Report, incident: Incident) -> dict[str, Any]:
    info: dict[str, Any] = {
        "uid": incident.id,
        "title": incident.title,
        "types": [incident.kind],
        # type_id 1 = Rule: the incident comes from a deterministic detector.
        "analytic": {"name": f"{incident.detector}.{incident.kind}", "type_id": 1, "type": "Rule"},
        "attacks": [
            {
                "technique": {"uid": a.technique_id, "name": a.technique_name},
                "tactic": {"name": a.tactic},
                "version": "18.1",
            }
            for a in incident.attack
        ],
    }
    if incident.first_seen is not None:
        info["first_seen_time"] = int(incident.first_seen.timestamp() * 1000)
    if incident.last_seen is not None:
        info["last_seen_time"] = int(incident.last_seen.timestamp() * 1000)
    return info


def _finding(report: Report, incident: Incident, decision: Decision) -> dict[str, Any]:
    severity_id, severity = _SEVERITY_ID[severity_of(incident, decision)]
    status_id, status = _STATUS[decision.outcome]
    confidence_id, confidence = _confidence(decision.confidence)
    finding: dict[str, Any] = {
        "activity_id": _ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": _CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": _CLASS_UID,
        "class_name": "Detection Finding",
        "type_uid": _CLASS_UID * 100 + _ACTIVITY_CREATE,
        "severity_id": severity_id,
        "severity": severity,
        "time": _ms(incident, report),
        "status_id": status_id,
        "status": status,
        "confidence_id": confidence_id,
        "confidence": confidence,
        "message": incident.title,
        "finding_info": _finding_info(report, incident),
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": "siem-consensus", "vendor_name": "siem_consensus"},
        },
        "unmapped": {
            "outcome": decision.outcome.value,
            "degraded": decision.degraded,
            "reasons": list(decision.reasons),
            "verdicts": [verdict_summary(v) for v in decision.verdicts],
        },
    }
    if decision.confidence is not None:
        finding["confidence_score"] = round(decision.confidence * 100)
    observables = [
        {"name": name, "type_id": type_id, "value": value}
        for name, type_id, values in (
            ("src_endpoint.ip", 2, incident.entities.source_ips),
            ("dst_endpoint.ip", 2, incident.entities.destination_ips),
            ("user.name", 4, incident.entities.users),
        )
        for value in values
    ]
    if observables:
        finding["observables"] = observables
    return finding


def to_ocsf_findings(report: Report) -> list[dict[str, Any]]:
    """One OCSF 1.5.0 Detection Finding (class_uid 2004) per decision.

    Args:
        report: Any siem_consensus report.

    Returns:
        JSON-ready dicts in decision order.
    """
    return [_finding(report, inc, dec) for inc, dec in decided_incidents(report)]
