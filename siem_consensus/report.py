"""Typed reports returned by the entry points, and their JSON form (``schema_version``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from .models import DeadLetter, Decision, Incident, InputStats, Outcome, WriteResult

__all__ = [
    "SCHEMA_VERSION",
    "AuthReport",
    "FirewallReport",
    "IdsReport",
    "InsiderReport",
    "Report",
]

SCHEMA_VERSION = "1.0"


class Report(BaseModel):
    """Everything one run decided, and how the input was accounted for."""

    schema_version: str = Field(SCHEMA_VERSION, description="JSON report schema version.")
    detector: str = Field("", description="Detector family that produced the incidents.")
    generated_at: datetime | None = Field(None, description="When the report was made (UTC).")
    input: InputStats = Field(default_factory=InputStats)
    analysts: tuple[str, ...] = Field((), description="Analysts that judged the incidents.")
    analysts_note: str = Field("", description="Why these analysts (e.g. no API key found).")
    policy: str = Field("", description="Consensus policy name.")
    threshold: float = Field(0.0, description="Confidence threshold of the policy.")
    incidents: tuple[Incident, ...] = ()
    decisions: tuple[Decision, ...] = ()
    dead_letters: tuple[DeadLetter, ...] = Field(
        (), description="The first dead letters (all are counted in input.dead_letters)."
    )
    timings: dict[str, float] = Field(default_factory=dict, description="Seconds per stage.")
    pending_approvals: tuple[dict[str, Any], ...] = Field(
        (),
        description="Alerts waiting for a human to approve their actions (graphs with approval).",
    )
    deliveries: tuple[WriteResult, ...] = Field(
        (), description="What each sink (connector) did with the decisions, one per sink."
    )

    def decision_for(self, incident_id: str) -> Decision:
        """The decision about one incident."""
        for decision in self.decisions:
            if decision.incident_id == incident_id:
                return decision
        raise KeyError(incident_id)

    def incident(self, incident_id: str) -> Incident:
        """One incident by id."""
        for incident in self.incidents:
            if incident.id == incident_id:
                return incident
        raise KeyError(incident_id)

    def by_outcome(self, outcome: Outcome | str) -> list[Decision]:
        """Decisions with the given outcome."""
        wanted = Outcome(outcome)
        return [d for d in self.decisions if d.outcome is wanted]

    @property
    def alerts(self) -> list[Decision]:
        """Decisions that raised an alert."""
        return self.by_outcome(Outcome.ALERT)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with ECS names for events (``@timestamp``, ``source.ip``)."""
        return self.model_dump(mode="json", by_alias=True)

    def to_json(self, indent: int | None = 2) -> str:
        """The documented JSON report (see docs/report-schema.md)."""
        return self.model_dump_json(indent=indent, by_alias=True)


class FirewallReport(Report):
    """Report of :func:`~siem_consensus.analyze_firewall`."""

    detector: Literal["firewall"] = "firewall"


class AuthReport(Report):
    """Report of :func:`~siem_consensus.analyze_auth`."""

    detector: Literal["auth"] = "auth"


class InsiderReport(Report):
    """Report of :func:`~siem_consensus.detect_insider_threats`."""

    detector: Literal["insider"] = "insider"


class IdsReport(Report):
    """Report of :func:`~siem_consensus.correlate_ids_alerts`."""

    detector: Literal["ids"] = "ids"
