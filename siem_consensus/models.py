"""Typed records shared by every stage: events in, decisions out.

Field names follow the Elastic Common Schema (ECS) flattened to attributes: ``source.ip`` is
``Event.source_ip`` and serialises under its ECS name (``model_dump(by_alias=True)``).
Decision-side models are frozen: once a decision is made its values cannot change.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

__all__ = [
    "AttackRef",
    "DeadLetter",
    "Decision",
    "Entities",
    "Event",
    "Incident",
    "InputStats",
    "Outcome",
    "Severity",
    "Usage",
    "Verdict",
    "VerdictStatus",
    "WriteFailure",
    "WriteResult",
]

_FROZEN = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")


class Severity(StrEnum):
    """Ordered severity scale (compare with :meth:`rank`)."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for info up to 4 for critical."""
        return _SEVERITY_ORDER.index(self)

    @classmethod
    def from_score(cls, score: float) -> Severity:
        """Map a 0-1 detector score: >= .85 critical, .65 high, .4 medium, .2 low, else info."""
        for bound, sev in (
            (0.85, cls.CRITICAL),
            (0.65, cls.HIGH),
            (0.4, cls.MEDIUM),
            (0.2, cls.LOW),
        ):
            if score >= bound:
                return sev
        return cls.INFO


_SEVERITY_ORDER = list(Severity)


class Outcome(StrEnum):
    """What the consensus node decided for an incident."""

    ALERT = "alert"
    NEEDS_REVIEW = "needs_review"
    DISMISSED = "dismissed"


class Event(BaseModel):
    """One normalised telemetry record (ECS-aligned; unknown fields are not kept).

    Every input line becomes exactly one Event or one :class:`DeadLetter`.
    """

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")

    event_id: str = Field(description="Stable id `{file name}:{n}`, n the 1-based line or element.")
    timestamp: datetime | None = Field(
        None, alias="@timestamp", description="When it happened (UTC)."
    )
    dataset: str | None = Field(None, alias="event.dataset", description="Parser that produced it.")
    event_action: str | None = Field(None, alias="event.action", description="deny, allow, ...")
    event_outcome: str | None = Field(None, alias="event.outcome", description="success/failure.")
    event_code: str | None = Field(None, alias="event.code", description="Vendor message id.")
    source_ip: str | None = Field(None, alias="source.ip", description="Initiator address.")
    source_port: int | None = Field(None, alias="source.port", description="Initiator port.")
    destination_ip: str | None = Field(None, alias="destination.ip", description="Target address.")
    destination_port: int | None = Field(None, alias="destination.port", description="Target port.")
    network_transport: str | None = Field(
        None, alias="network.transport", description="tcp/udp/icmp."
    )
    source_bytes: int | None = Field(
        None, alias="source.bytes", description="Bytes sent by source."
    )
    destination_bytes: int | None = Field(
        None, alias="destination.bytes", description="Bytes sent by destination."
    )
    rule_name: str | None = Field(None, alias="rule.name", description="Firewall rule / ACL name.")
    user_name: str | None = Field(None, alias="user.name", description="Account involved.")
    host_name: str | None = Field(None, alias="host.name", description="Reporting or acting host.")
    message: str | None = Field(None, description="Short human-readable text, untrusted.")
    rule_id: str | None = Field(None, alias="rule.id", description="Signature / rule id.")
    rule_category: str | None = Field(
        None, alias="rule.category", description="Signature category (IDS)."
    )
    event_severity: int | None = Field(
        None, alias="event.severity", description="Severity as the sensor reported it."
    )
    observer_name: str | None = Field(
        None, alias="observer.name", description="Sensor or agent that reported it."
    )
    url_original: str | None = Field(None, alias="url.original", description="URL, untrusted.")
    http_method: str | None = Field(None, alias="http.request.method", description="HTTP verb.")
    http_status: int | None = Field(
        None, alias="http.response.status_code", description="HTTP response status."
    )
    user_agent: str | None = Field(
        None, alias="user_agent.original", description="User agent, untrusted."
    )
    dns_question: str | None = Field(
        None, alias="dns.question.name", description="Queried DNS name."
    )
    tls_sni: str | None = Field(
        None, alias="tls.client.server_name", description="TLS server name (SNI)."
    )
    file_path: str | None = Field(None, alias="file.path", description="File involved.")
    event_category: str | None = Field(
        None, alias="event.category", description="logon, device, file, web, email, ..."
    )
    email_from: str | None = Field(None, alias="email.from.address", description="Sender.")
    email_to: str | None = Field(
        None, alias="email.to.address", description="Recipients (to, cc, bcc), comma-separated."
    )
    email_attachments: int | None = Field(
        None, alias="email.attachments", description="Number of attachments."
    )
    auth_attempts: int | None = Field(
        None,
        alias="auth.attempts",
        description="Authentication attempts the record stands for (Zeek ssh.log, sshd "
        "'message repeated N times'); null means one. Not an ECS field.",
    )

    @model_serializer(mode="wrap")
    def _without_nulls(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Serialise only the fields that are set: an event uses a handful of the ECS fields."""
        data: dict[str, Any] = handler(self)
        return {key: value for key, value in data.items() if value is not None}


class DeadLetter(BaseModel):
    """An input record that could not become an Event, with where and why."""

    model_config = _FROZEN

    source: str = Field(description="File name (or `<stdin>`/`<lines>`) the record came from.")
    line: int = Field(description="1-based physical line (or JSON array element).")
    reason: str = Field(description="Why it was rejected, specific enough to fix the input.")
    raw_excerpt: str = Field(description="At most 200 characters of the raw record.")
    parser: str | None = Field(None, description="Parser that rejected it.")


class InputStats(BaseModel):
    """How the input was accounted for: lines == events + dead_letters + skipped_lines."""

    lines: int = Field(0, description="Physical lines (or array elements) read.")
    events: int = Field(0, description="Records that became Events.")
    dead_letters: int = Field(0, description="Records rejected, each with a reason.")
    skipped_lines: int = Field(
        0, description="Header rows, `#` directives and blank lines: they carry no event."
    )
    formats: dict[str, str] = Field(
        default_factory=dict, description="Input name -> parser used (detected or forced)."
    )
    failures: dict[str, str] = Field(
        default_factory=dict,
        description="Input name -> why it could not be read to its end (the others were read).",
    )


class AttackRef(BaseModel):
    """An ATT&CK technique validated against the pinned offline ATT&CK data."""

    model_config = _FROZEN

    technique_id: str = Field(description="e.g. T1046 or T1071.001.")
    technique_name: str = Field(description="Name in the pinned ATT&CK release.")
    tactic: str = Field(description="Primary tactic, title case (e.g. Discovery).")
    tactics: tuple[str, ...] = Field((), description="All tactics of the technique.")


class Entities(BaseModel):
    """Who and what an incident involves."""

    model_config = _FROZEN

    source_ips: tuple[str, ...] = ()
    destination_ips: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()


class Incident(BaseModel):
    """A candidate incident from a deterministic detector, with its evidence."""

    model_config = _FROZEN

    id: str = Field(description="Stable id derived from detector, kind, entities and time.")
    detector: str = Field(description="Detector family: firewall, ids, insider, auth.")
    kind: str = Field(description="Detection kind, e.g. port_scan, brute_force, beaconing.")
    title: str = Field(description="One-line human summary.")
    severity: Severity = Field(description="Deterministic severity from the detector score.")
    score: float = Field(ge=0.0, le=1.0, description="Detector score 0-1.")
    entities: Entities = Field(default_factory=Entities)
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    event_count: int = Field(0, description="Events inside the incident (all, not the sample).")
    evidence_event_ids: tuple[str, ...] = Field(
        (), description="Bounded sample of event ids analysts may cite."
    )
    evidence: tuple[Event, ...] = Field((), description="The sampled events themselves.")
    stats: dict[str, Any] = Field(default_factory=dict, description="Detector statistics.")
    attack: tuple[AttackRef, ...] = Field((), description="ATT&CK techniques, validated.")
    enrichment: dict[str, Any] = Field(
        default_factory=dict, description="Zones, asset criticality, intel hits."
    )
    reasons: tuple[str, ...] = Field((), description="Why the detector raised it.")


class Usage(BaseModel):
    """Provider-reported usage of one analyst on one incident (all attempts added up)."""

    model_config = _FROZEN

    calls: int = Field(0, description="HTTP calls made (retries and repairs included).")
    input_tokens: int = Field(0, description="Prompt tokens reported by the provider.")
    cached_input_tokens: int = Field(
        0, description="Of input_tokens, those read from the provider's prompt cache."
    )
    cache_write_input_tokens: int = Field(
        0, description="Of input_tokens, those written to the provider's prompt cache."
    )
    output_tokens: int = Field(
        0, description="Completion tokens reported by the provider (reasoning included)."
    )
    reasoning_tokens: int = Field(
        0, description="Of output_tokens, those the model spent reasoning (thinking)."
    )
    cost_usd: float | None = Field(None, description="From the price table; None if unpriced.")
    cached: bool = Field(False, description="Answered from the response cache: no call made.")


class VerdictStatus(StrEnum):
    """Whether a verdict counts in the vote."""

    OK = "ok"
    UNVERIFIED = "unverified"  # made claims that failed verification: counts as an abstention
    ABSTAINED = "abstained"  # the analyst declined to judge
    ERROR = "error"  # the analyst failed (timeout, provider error, budget): no claims at all
    SKIPPED = "skipped"  # not asked by design (below the LLM pre-filter): not in the vote at all


class Verdict(BaseModel):
    """One analyst's independent judgement of one incident."""

    model_config = _FROZEN

    analyst: str = Field(description="Analyst name, e.g. rules, baseline, claude.")
    incident_id: str = Field("", description="The incident this verdict judges.")
    model: str | None = Field(None, description="Model id for LLM analysts.")
    status: VerdictStatus = VerdictStatus.OK
    is_threat: bool | None = Field(None, description="None when no judgement was made.")
    confidence: float = Field(0.0, ge=0.0, le=1.0)
    severity: Severity | None = None
    category: str | None = Field(None, description="e.g. reconnaissance, brute_force.")
    attack_techniques: tuple[str, ...] = ()
    evidence_event_ids: tuple[str, ...] = ()
    rationale: str = ""
    attacker_goal: str | None = None
    business_impact: str | None = None
    recommended_actions: tuple[str, ...] = ()
    error: str | None = Field(None, description="Failure description when status is error.")
    problems: tuple[str, ...] = Field((), description="Verification failures, if any.")
    usage: Usage | None = Field(None, description="Tokens and cost, for LLM analysts.")
    latency_s: float | None = Field(None, description="Wall time of the analysis.")

    @property
    def counts(self) -> bool:
        """True when the verdict takes part in the vote."""
        return self.status is VerdictStatus.OK and self.is_threat is not None


class Decision(BaseModel):
    """The consensus outcome for one incident, and exactly why."""

    model_config = _FROZEN

    incident_id: str
    outcome: Outcome
    confidence: float | None = Field(
        None, description="The combined confidence that decided (policy-defined), if any."
    )
    degraded: bool = Field(False, description="A failure (error, timeout, budget) was involved.")
    reasons: tuple[str, ...] = ()
    policy: str = ""
    threshold: float = 0.0
    severity: Severity | None = None
    verdicts: tuple[Verdict, ...] = ()
    recommended_actions: tuple[str, ...] = ()


class WriteFailure(BaseModel):
    """One document the SIEM refused, and why."""

    model_config = ConfigDict(frozen=True)

    doc_id: str = Field(description="Document id that was refused.")
    incident_id: str = Field("", description="Incident the document describes.")
    status: int = Field(0, description="HTTP status of the item (0 when the whole call failed).")
    error_type: str = Field("", description="SIEM error type, e.g. mapper_parsing_exception.")
    reason: str = Field("", description="SIEM error reason, as reported.")


class WriteResult(BaseModel):
    """What a write-back did: every document is either written or listed as a failure."""

    model_config = ConfigDict(frozen=True)

    connector: str = Field("", description="Connector name (opensearch, splunk, ...).")
    target: str = Field(description="Where the documents went (index, topic, ...).")
    attempted: int = Field(0, description="Documents sent.")
    created: int = Field(0, description="Documents that did not exist before.")
    updated: int = Field(0, description="Documents that replaced an earlier write (re-runs).")
    failures: tuple[WriteFailure, ...] = Field((), description="Refused documents, one each.")
    error: str = Field(
        "", description="Why the whole write failed (sink unreachable, misconfigured), if it did."
    )

    @property
    def ok(self) -> bool:
        """True when every document was written and the sink did not fail as a whole."""
        return not self.failures and not self.error

    @property
    def written(self) -> int:
        """Documents created or updated."""
        return self.created + self.updated
