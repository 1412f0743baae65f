"""Helpers shared by the exporters: pairing decisions with incidents, stable ids, times."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterator
from datetime import UTC, datetime

from ..models import Decision, Incident, Severity, Verdict
from ..report import Report

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def decided_incidents(report: Report) -> Iterator[tuple[Incident, Decision]]:
    """Each decision with its incident, in decision order (decisions without one are skipped)."""
    incidents = {incident.id: incident for incident in report.incidents}
    for decision in report.decisions:
        incident = incidents.get(decision.incident_id)
        if incident is not None:
            yield incident, decision


def stable_id(*parts: str) -> str:
    """SHA-256 hex of the parts: the same decision always gets the same document id."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def severity_of(incident: Incident, decision: Decision) -> Severity:
    """The decided severity, else the detector's."""
    return decision.severity or incident.severity


def when(incident: Incident, report: Report) -> datetime:
    """Best timestamp for a decision: first seen, else report time, else the epoch (stable)."""
    return incident.first_seen or incident.last_seen or report.generated_at or EPOCH


def iso(ts: datetime) -> str:
    """ISO 8601 in UTC with a Z suffix."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def external_source_ips(incident: Incident) -> list[str]:
    """Source addresses the zone enrichment calls external (else: globally routable ones)."""
    zones = incident.enrichment.get("source_zones")
    out: list[str] = []
    for ip in incident.entities.source_ips:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            continue
        zone = zones.get(ip) if isinstance(zones, dict) else None
        if zone == "external" or (zone is None and addr.is_global):
            out.append(ip)
    return out


def verdict_summary(verdict: Verdict) -> dict[str, object]:
    """Small JSON summary of one analyst's verdict."""
    return {
        "analyst": verdict.analyst,
        "model": verdict.model,
        "status": verdict.status.value,
        "is_threat": verdict.is_threat,
        "confidence": verdict.confidence,
        "category": verdict.category,
        "attack_techniques": list(verdict.attack_techniques),
        "rationale": verdict.rationale,
    }
