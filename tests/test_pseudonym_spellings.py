"""Values that only look like something else, or that are spelled like a known value: each gets
its own token of the right kind, never leaks, and comes back exactly as it was written."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from siem_consensus.models import Entities, Event, Incident, Severity
from siem_consensus.privacy import Pseudonymizer

WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_a_name_around_an_address_is_a_name_not_an_address() -> None:
    pseudo = Pseudonymizer(prefix="k3f9")
    # "X10.0.0.5" holds an address but is not one: no IP token, no "internal" hint.
    assert pseudo.field("X10.0.0.5X", "HOST") == "HOST-k3f9-0001"
    assert pseudo.field("[10.0.0.5]", "HOST") == "INT-IP-k3f9-0001"  # a bracketed address is
    assert pseudo.restore_text("HOST-k3f9-0001 INT-IP-k3f9-0001") == "X10.0.0.5X [10.0.0.5]"


def _mail(recipients: str) -> Incident:
    event = Event.model_validate(
        {
            "event_id": "email.csv:4",
            "@timestamp": WHEN,
            "email.from.address": "alice@corp.example",
            "email.to.address": recipients,
            "message": f"mail to {recipients}",
        }
    )
    return Incident(
        id="insider-1",
        detector="insider",
        kind="exfiltration",
        title="Mail with attachments to outside recipients",
        severity=Severity.HIGH,
        score=0.9,
        entities=Entities(users=("alice",)),
        evidence=(event,),
        evidence_event_ids=(event.event_id,),
        event_count=1,
    )


def test_a_recipient_that_is_not_a_full_address_is_hidden_and_restored() -> None:
    pseudo = Pseudonymizer(prefix="k3f9")
    safe = pseudo.pseudonymize_incident(_mail("all-staff; bob@corp.example"))
    [event] = safe.evidence
    shown = f"{event.email_to} | {event.message}"
    assert "all-staff" not in shown and "bob@corp.example" not in shown
    assert re.fullmatch(r"EMAIL-k3f9-\d{4}; EMAIL-k3f9-\d{4}", event.email_to or "")
    assert pseudo.restore_text(event.email_to or "") == "all-staff; bob@corp.example"
    assert pseudo.restore_text(event.message or "") == "mail to all-staff; bob@corp.example"


def test_a_spelling_only_the_case_blind_match_joins_gets_its_own_token() -> None:
    # Python's case-insensitive matching takes the dotless "ı" for "i"; casefold() does not,
    # so "alıce-pc" is caught by the pattern of the known "alice-pc" but is another value.
    pseudo = Pseudonymizer(prefix="k3f9")
    host = pseudo.field("alice-pc", "HOST")
    text = pseudo.pseudonymize_text("logon from alice-pc, then from alıce-pc and ALICE-PC")
    assert "alıce" not in text and "alice" not in text.lower()
    tokens = text.removeprefix("logon from ").replace(", then from", "").replace(" and", "")
    first, lookalike, upper = tokens.split()
    assert first == host and len({first, lookalike, upper}) == 3
    assert pseudo.restore_text(text) == "logon from alice-pc, then from alıce-pc and ALICE-PC"
    assert pseudo.pseudonymize_text("alıce-pc") == lookalike  # consistent
