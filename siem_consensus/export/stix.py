"""STIX 2.1 bundle of a report (needs the optional ``stix2`` library: the ``export`` extra).

Per decided incident: an ``incident`` SDO, ``attack-pattern`` objects with ATT&CK external
references, and for alerts an ``indicator`` per external source IP with a ``sighting`` of it.
Relationships: indicator ``indicates`` attack-pattern, incident ``related-to`` the rest.
Every id is a UUIDv5 of what it names, so the same report always yields the same bundle.
"""

from __future__ import annotations

import importlib
import ipaddress
import uuid
from types import ModuleType
from typing import Any

from ..errors import MissingDependencyError
from ..models import AttackRef, Decision, Incident, Outcome
from ..report import Report
from ._common import EPOCH, decided_incidents, external_source_ips, when

__all__ = ["to_stix_bundle"]

_NAMESPACE = uuid.UUID("8d5c4d2e-5b55-4b6e-9f0e-6c7a1f0e2a11")


def _stix2() -> ModuleType:
    try:
        # import_module keeps mypy from needing stubs for the untyped optional library.
        return importlib.import_module("stix2")
    except ImportError as exc:
        raise MissingDependencyError("stix2", "export") from exc


def _sid(kind: str, *parts: str) -> str:
    return f"{kind}--{uuid.uuid5(_NAMESPACE, '|'.join((kind, *parts)))}"


class _Builder:
    def __init__(self, stix2: ModuleType) -> None:
        self.stix2 = stix2
        self.objects: dict[str, Any] = {}
        self.identity = _sid("identity", "siem-consensus")

    def add(self, obj: Any) -> str:
        self.objects.setdefault(obj.id, obj)
        return str(obj.id)

    def attack_pattern(self, ref: AttackRef, ts: Any) -> str:
        url_id = ref.technique_id.replace(".", "/")
        return self.add(
            self.stix2.AttackPattern(
                id=_sid("attack-pattern", ref.technique_id),
                created=ts,
                modified=ts,
                name=ref.technique_name,
                external_references=[
                    {
                        "source_name": "mitre-attack",
                        "external_id": ref.technique_id,
                        "url": f"https://attack.mitre.org/techniques/{url_id}/",
                    }
                ],
                kill_chain_phases=[
                    {"kill_chain_name": "mitre-attack", "phase_name": t.lower().replace(" ", "-")}
                    for t in (ref.tactics or (ref.tactic,))
                ],
            )
        )

    def relate(self, rel: str, src: str, dst: str, ts: Any) -> None:
        self.add(
            self.stix2.Relationship(
                id=_sid("relationship", rel, src, dst),
                created=ts,
                modified=ts,
                relationship_type=rel,
                source_ref=src,
                target_ref=dst,
            )
        )

    def indicator(self, incident: Incident, ip: str, patterns: list[str], ts: Any) -> str:
        kind = "ipv6-addr" if ipaddress.ip_address(ip).version == 6 else "ipv4-addr"
        ind = self.add(
            self.stix2.Indicator(
                id=_sid("indicator", ip),
                created=ts,
                modified=ts,
                valid_from=ts,
                name=f"External source {ip}",
                indicator_types=["malicious-activity"],
                pattern=f"[{kind}:value = '{ip}']",
                pattern_type="stix",
            )
        )
        self.add(
            self.stix2.Sighting(
                id=_sid("sighting", incident.id, ip),
                created=ts,
                modified=ts,
                sighting_of_ref=ind,
                where_sighted_refs=[self.identity],
                count=min(max(incident.event_count, 1), 999_999_999),
                first_seen=incident.first_seen or ts,
                last_seen=incident.last_seen or incident.first_seen or ts,
            )
        )
        for pattern in patterns:
            self.relate("indicates", ind, pattern, ts)
        return ind

    def incident(self, report: Report, incident: Incident, decision: Decision) -> None:
        ts = when(incident, report)
        conf = None if decision.confidence is None else round(decision.confidence * 100)
        inc = self.add(
            self.stix2.Incident(
                id=_sid("incident", incident.id),
                created=ts,
                modified=ts,
                created_by_ref=self.identity,
                name=incident.title,
                description="; ".join((f"outcome: {decision.outcome.value}", *decision.reasons)),
                labels=[incident.detector, incident.kind, decision.outcome.value],
                confidence=conf,
                external_references=[{"source_name": "siem-consensus", "external_id": incident.id}],
            )
        )
        patterns = [self.attack_pattern(ref, ts) for ref in incident.attack]
        indicators = []
        if decision.outcome is Outcome.ALERT:
            indicators = [
                self.indicator(incident, ip, patterns, ts) for ip in external_source_ips(incident)
            ]
        for target in (*patterns, *indicators):
            self.relate("related-to", inc, target, ts)


def to_stix_bundle(report: Report) -> str:
    """The report as a serialised STIX 2.1 bundle (deterministic ids and timestamps).

    Raises:
        MissingDependencyError: ``stix2`` is not installed
            (``pip install "siem-consensus[export]"``).
    """
    stix2 = _stix2()
    builder = _Builder(stix2)
    builder.add(
        stix2.Identity(
            id=builder.identity,
            created=report.generated_at or EPOCH,
            modified=report.generated_at or EPOCH,
            name="siem-consensus",
            identity_class="system",
        )
    )
    for incident, decision in decided_incidents(report):
        builder.incident(report, incident, decision)
    bundle = stix2.Bundle(
        *builder.objects.values(), id=_sid("bundle", *(i.id for i in report.incidents))
    )
    return str(bundle.serialize(pretty=True))
