"""Incidents, events and verdicts through the token store (see :mod:`siem_consensus.privacy`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ..models import Decision, Entities, Event, Incident, Verdict
from ._fields import EVENT_FIELDS, FieldClass, Handling
from ._tokens import TokenStore

_LIST_SEPARATOR = re.compile(r"[^,;\s]+")
_FREE_TEXT = (Handling.TEXT, Handling.URL, Handling.PATH)


class Pseudonymizer(TokenStore):
    """Consistent, reversible replacement of identities by tokens, and of ids by aliases.

    Use one instance per call or per run: the same value gets the same token across fields and
    incidents, and only this instance can restore its tokens. Thread-safe.

    Args:
        prefix: Token prefix, 4-12 characters of ``[a-z0-9]``; random when omitted (tests pass
            a fixed one for stable output).
        internal_domains: Company domains (subdomains included). When given, email and DNS
            name tokens carry an ``INT-``/``EXT-`` hint.
        internal_networks: CIDRs that count as internal for the IP hint. Default: RFC 1918,
            loopback and link-local IPv4; IPv6 loopback, ULA and link-local.
        hints: Set False to issue tokens without ``INT-``/``EXT-`` hints.
        identities: Set False to alias only the ids (incident and event ids) and leave every
            identity as it is (local models, where pseudonymization is off).

    Raises:
        ConfigError: The prefix or a network is malformed.
    """

    def __init__(
        self,
        *,
        prefix: str | None = None,
        internal_domains: Iterable[str] = (),
        internal_networks: Iterable[str] | None = None,
        hints: bool = True,
        identities: bool = True,
    ) -> None:
        super().__init__(
            prefix=prefix,
            internal_domains=internal_domains,
            internal_networks=internal_networks,
            hints=hints,
        )
        self.identities = identities

    def __repr__(self) -> str:
        return f"Pseudonymizer(prefix={self.prefix!r}, identities={self.identities})"

    # ----------------------------------------------------------------- pseudonymize

    def pseudonymize_incident(self, incident: Incident) -> Incident:
        """A copy of ``incident`` safe to send to an external provider.

        The incident id and the evidence event ids become opaque aliases. Every event field is
        treated as :data:`~siem_consensus.privacy.EVENT_FIELDS` says; structured identities
        and the identities found in free-text fields are registered first, so all free text
        (title, reasons, messages, URLs, paths, stats, enrichment) is scrubbed knowing all of
        them. Counts, ports, timestamps, severity and ATT&CK references are kept.

        Args:
            incident: The raw incident.

        Returns:
            The pseudonymized incident.
        """
        with self._lock:
            update: dict[str, Any] = {
                "id": self.alias(incident.id, "CASE"),
                "evidence_event_ids": tuple(
                    self.alias(e, "EVENT") for e in incident.evidence_event_ids
                ),
            }
            if not self.identities:
                update["evidence"] = tuple(
                    e.model_copy(update={"event_id": self.alias(e.event_id, "EVENT")})
                    for e in incident.evidence
                )
                return incident.model_copy(update=update)
            self._register_structured(incident)
            update |= {
                "entities": self._entities(incident.entities),
                "evidence": tuple(self.pseudonymize_event(event) for event in incident.evidence),
                "title": self.pseudonymize_text(incident.title),
                "reasons": tuple(self.pseudonymize_text(r) for r in incident.reasons),
                "stats": self._scrub(incident.stats),
                "enrichment": self._scrub(incident.enrichment),
            }
            return incident.model_copy(update=update)

    def pseudonymize_event(self, event: Event) -> Event:
        """A copy of ``event`` with every field treated as its registry rule says."""
        with self._lock:
            self._register_event(event)
            update: dict[str, Any] = {}
            for name, rule in EVENT_FIELDS.items():
                value = getattr(event, name)
                if value is None or rule.treatment is FieldClass.KEEP:
                    continue
                if rule.treatment is FieldClass.DROP:
                    update[name] = None
                elif isinstance(value, str) and rule.handling is not None:
                    update[name] = self._field_value(value, rule.handling)
            return event.model_copy(update=update)

    def _field_value(self, value: str, handling: Handling) -> str | None:
        if handling is Handling.ALIAS:
            return self.alias(value, "EVENT")
        if handling in _FREE_TEXT:
            return self.pseudonymize_text(value)
        if handling is Handling.EMAILS:
            return _LIST_SEPARATOR.sub(lambda m: self.register(m.group(0), "EMAIL"), value)
        return self.field(value, handling.value)

    # ---------------------------------------------------------------------- restore

    def restore_verdict(self, verdict: Verdict) -> Verdict:
        """A copy of ``verdict`` with real values in its free-text claims and real event ids.

        Restores ``rationale``, ``attacker_goal``, ``business_impact``,
        ``recommended_actions``, ``category``, ``problems``, ``error`` and
        ``evidence_event_ids``; an id this instance never issued is left as it is (and then
        fails verification, as an invented id should).
        """
        restore = self.restore_text
        update: dict[str, Any] = {
            "rationale": restore(verdict.rationale),
            "attacker_goal": self._restore_optional(verdict.attacker_goal),
            "business_impact": self._restore_optional(verdict.business_impact),
            "recommended_actions": tuple(restore(a) for a in verdict.recommended_actions),
            "category": self._restore_optional(verdict.category),
            "problems": tuple(restore(p) for p in verdict.problems),
            "error": self._restore_optional(verdict.error),
            "evidence_event_ids": tuple(restore(e) for e in verdict.evidence_event_ids),
        }
        return verdict.model_copy(update=update)

    def restore_decision(self, decision: Decision) -> Decision:
        """A copy of ``decision`` with its reasons, actions and verdicts restored."""
        update: dict[str, Any] = {
            "reasons": tuple(self.restore_text(r) for r in decision.reasons),
            "recommended_actions": tuple(
                self.restore_text(a) for a in decision.recommended_actions
            ),
            "verdicts": tuple(self.restore_verdict(v) for v in decision.verdicts),
        }
        return decision.model_copy(update=update)

    def _restore_optional(self, text: str | None) -> str | None:
        return None if text is None else self.restore_text(text)

    # ----------------------------------------------------------------- registration

    def _register_structured(self, incident: Incident) -> None:
        entities = incident.entities
        for kind, values in (
            ("IP", entities.source_ips + entities.destination_ips),
            ("USER", entities.users),
            ("HOST", entities.hosts),
        ):
            for value in values:
                self.field(value, kind)
        for event in incident.evidence:
            self._register_event(event)
        for text in (incident.title, *incident.reasons):
            self.discover(text)

    def _register_event(self, event: Event) -> None:
        """Announce an event's identities: whole fields, list items, and shapes in free text."""
        for name, rule in EVENT_FIELDS.items():
            value = getattr(event, name)
            if rule.treatment is not FieldClass.PSEUDONYMIZE or not isinstance(value, str):
                continue
            handling = rule.handling
            if handling in _FREE_TEXT:
                self.discover(value)
            elif handling is Handling.EMAILS:
                for item in _LIST_SEPARATOR.findall(value):
                    self.register(item, "EMAIL")
            elif handling is not None and handling is not Handling.ALIAS:
                self.field(value, handling.value)

    def _scrub(self, value: Any) -> Any:
        """Recursively pseudonymize strings (and dict keys) in stats/enrichment values.

        A string equal to a known value becomes its token whatever its length; other strings
        are free text. Numbers, booleans, None and other objects are kept as they are.
        """
        if isinstance(value, str):
            token = self._token_of.get(value)
            return token if token is not None else self.pseudonymize_text(value)
        if isinstance(value, dict):
            return {self._scrub(k): self._scrub(v) for k, v in value.items()}
        if type(value) in (list, tuple, set, frozenset):
            return type(value)(self._scrub(v) for v in value)
        return value

    def _entities(self, entities: Entities) -> Entities:
        def tokens(values: tuple[str, ...], kind: str) -> tuple[str, ...]:
            return tuple(self.field(v, kind) or v for v in values)

        return entities.model_copy(
            update={
                "source_ips": tokens(entities.source_ips, "IP"),
                "destination_ips": tokens(entities.destination_ips, "IP"),
                "users": tokens(entities.users, "USER"),
                "hosts": tokens(entities.hosts, "HOST"),
            }
        )
