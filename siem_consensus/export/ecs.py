"""Elastic Common Schema documents: one alert/signal document per consensus decision.

Documents use nested ECS objects (``{"source": {"ip": [...]}}``) and carry a deterministic
``_id`` (SHA-256 of incident id and detector) so that re-exporting the same report overwrites
instead of duplicating. Bulk writers should pop ``_id`` into the action line.
"""

from __future__ import annotations

from typing import Any

from ..models import Decision, Incident, Outcome, Severity
from ..report import Report
from ._common import decided_incidents, iso, severity_of, stable_id, verdict_summary, when

__all__ = ["ECS_VERSION", "to_ecs_documents"]

ECS_VERSION = "8.11.0"

# Elastic detection-rule risk scale, so Kibana sorts our alerts like its own.
_ECS_SEVERITY = {
    Severity.INFO: 1,
    Severity.LOW: 21,
    Severity.MEDIUM: 47,
    Severity.HIGH: 73,
    Severity.CRITICAL: 99,
}
_CATEGORY = {
    "auth": ["authentication"],
    "firewall": ["network"],
    "ids": ["intrusion_detection", "network"],
    "insider": ["iam"],
}


def _threat(incident: Incident) -> dict[str, Any]:
    return {
        "framework": "MITRE ATT&CK",
        "technique": {
            "id": [a.technique_id for a in incident.attack],
            "name": [a.technique_name for a in incident.attack],
        },
        "tactic": {"name": sorted({a.tactic for a in incident.attack})},
    }


def _document(report: Report, incident: Incident, decision: Decision) -> dict[str, Any]:
    entities = incident.entities
    doc: dict[str, Any] = {
        "_id": stable_id(incident.id, incident.detector),
        "@timestamp": iso(when(incident, report)),
        "ecs": {"version": ECS_VERSION},
        "event": {
            "kind": "alert" if decision.outcome is Outcome.ALERT else "signal",
            "category": _CATEGORY.get(incident.detector, ["threat"]),
            "type": ["indicator"],
            "severity": _ECS_SEVERITY[severity_of(incident, decision)],
            "risk_score": round(incident.score * 100, 2),
            "dataset": f"siem_consensus.{incident.detector}",
            "action": incident.kind,
        },
        "rule": {"name": incident.title, "id": incident.kind},
        "message": incident.title,
        "siem_consensus": {
            "incident_id": incident.id,
            "outcome": decision.outcome.value,
            "confidence": decision.confidence,
            "degraded": decision.degraded,
            "reasons": list(decision.reasons),
            "policy": decision.policy,
            "verdicts": [verdict_summary(v) for v in decision.verdicts],
        },
    }
    if incident.first_seen is not None:
        doc["event"]["start"] = iso(incident.first_seen)
    if incident.last_seen is not None:
        doc["event"]["end"] = iso(incident.last_seen)
    if incident.attack:
        doc["threat"] = _threat(incident)
    for key, values in (
        ("source", entities.source_ips),
        ("destination", entities.destination_ips),
    ):
        if values:
            doc[key] = {"ip": list(values)}
    if entities.users:
        doc["user"] = {"name": list(entities.users)}
    if entities.hosts:
        doc["host"] = {"name": list(entities.hosts)}
    return doc


def to_ecs_documents(report: Report) -> list[dict[str, Any]]:
    """One ECS document per decision (``event.kind`` alert for alerts, signal otherwise).

    Args:
        report: Any siem_consensus report.

    Returns:
        JSON-ready dicts, in decision order, each with a deterministic ``_id``.
    """
    return [_document(report, inc, dec) for inc, dec in decided_incidents(report)]
