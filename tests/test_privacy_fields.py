"""Every Event field has a privacy class; identities inside URLs, paths, DNS names, mail lists
and sensor names are hidden and come back in verdicts; ids become opaque aliases."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from siem_consensus.models import Entities, Event, Incident, Severity, Verdict
from siem_consensus.privacy import (
    EVENT_FIELDS,
    FieldClass,
    Handling,
    Pseudonymizer,
    redact_credentials,
)

WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_every_event_field_has_exactly_one_class() -> None:
    # Adding a field to Event without classifying it here fails this test.
    assert set(EVENT_FIELDS) == set(Event.model_fields)
    for name, rule in EVENT_FIELDS.items():
        needs_handling = rule.treatment is FieldClass.PSEUDONYMIZE
        assert (rule.handling is not None) == needs_handling, name


def test_string_fields_kept_raw_are_not_identities() -> None:
    kept = {n for n, r in EVENT_FIELDS.items() if r.treatment is FieldClass.KEEP}
    assert kept.isdisjoint(
        {"user_name", "host_name", "observer_name", "url_original", "dns_question", "tls_sni"}
        | {"file_path", "email_from", "email_to", "source_ip", "destination_ip", "message"}
    )


def _incident(**fields: object) -> Incident:
    event = Event.model_validate({"event_id": "alice-laptop.log:3", "@timestamp": WHEN, **fields})
    return Incident(
        id="insider-" + hashlib.sha256(b"insider|alice|2024-05-01").hexdigest()[:16],
        detector="insider",
        kind="exfiltration",
        title="Upload to shop.example.com by alice",
        severity=Severity.HIGH,
        score=0.9,
        entities=Entities(users=("alice",)),
        evidence=(event,),
        evidence_event_ids=(event.event_id,),
        event_count=1,
    )


def test_url_host_and_user_are_tokens_and_credentials_are_gone() -> None:
    pseudo = Pseudonymizer(prefix="k3f9")
    url = "https://jdoe:hunter2@shop.example.com:8443/cart?u=bob@corp.example&x=1"
    safe = pseudo.pseudonymize_incident(_incident(**{"url.original": url}))
    shown = safe.evidence[0].url_original or ""
    for raw in ("jdoe", "hunter2", "shop.example.com", "bob@corp.example"):
        assert raw not in shown
    assert shown.startswith("https://***@DOMAIN-k3f9-") and ":8443/cart?u=EMAIL-k3f9-" in shown
    assert "DOMAIN-k3f9-0001" in safe.title  # the same host in free text gets the same token
    assert "hunter2" not in str(dict(pseudo.mapping))  # a credential is never restorable


def test_url_user_without_password_is_a_user_token() -> None:
    pseudo = Pseudonymizer(prefix="k3f9")
    safe = pseudo.pseudonymize_text("fetched ftp://backup7@10.0.0.9/dump.sql")
    assert safe == "fetched ftp://USER-k3f9-0001@INT-IP-k3f9-0001/dump.sql"
    assert pseudo.restore_text(safe) == "fetched ftp://backup7@10.0.0.9/dump.sql"


@pytest.mark.parametrize(
    ("path", "user"),
    [
        (r"C:\Users\jdoe2\Documents\plan.xlsx", "jdoe2"),
        (r"\\fs01\c$\Users\m.smith\AppData\x.dll", "m.smith"),
        ("/home/ops_admin/.ssh/id_rsa", "ops_admin"),
        ("/Users/Kim Lee/Desktop/a.pdf", "Kim Lee"),
    ],
)
def test_profile_path_segments_are_user_tokens(path: str, user: str) -> None:
    pseudo = Pseudonymizer(prefix="k3f9")
    safe = pseudo.pseudonymize_incident(_incident(**{"file.path": path}))
    shown = safe.evidence[0].file_path or ""
    assert user not in shown and "USER-k3f9-" in shown
    assert pseudo.restore_text(shown) == path


def test_shared_profile_folders_stay() -> None:
    pseudo = Pseudonymizer(prefix="k3f9")
    assert pseudo.pseudonymize_text(r"C:\Users\Public\x.txt") == r"C:\Users\Public\x.txt"


def test_dns_sni_observer_and_mail_fields() -> None:
    pseudo = Pseudonymizer(prefix="k3f9", internal_domains=["corp.example"])
    incident = _incident(
        **{
            "dns.question.name": "evil-c2.example.net",
            "tls.client.server_name": "files.corp.example",
            "observer.name": "suricata-dmz",
            "email.from.address": "alice@corp.example",
            "email.to.address": "x@gmail.com, y@proton.me;z@corp.example",
            "user_agent.original": "agent on suricata-dmz for alice@corp.example",
            "message": "resolved evil-c2.example.net for alice",
        }
    )
    event = pseudo.pseudonymize_incident(incident).evidence[0]
    assert event.dns_question == "EXT-DOMAIN-k3f9-0001"
    assert event.tls_sni == "INT-DOMAIN-k3f9-0002"
    assert event.observer_name == "HOST-k3f9-0001"
    assert event.email_from == "INT-EMAIL-k3f9-0001"
    assert event.email_to == "EXT-EMAIL-k3f9-0002, EXT-EMAIL-k3f9-0003;INT-EMAIL-k3f9-0004"
    assert event.user_agent == "agent on HOST-k3f9-0001 for INT-EMAIL-k3f9-0001"
    assert event.message == "resolved EXT-DOMAIN-k3f9-0001 for USER-k3f9-0001"


def test_case_and_event_ids_are_opaque_aliases_mapped_back() -> None:
    pseudo = Pseudonymizer(prefix="k3f9")
    incident = _incident()
    safe = pseudo.pseudonymize_incident(incident)
    assert safe.id == "CASE-k3f9-0001" and safe.evidence[0].event_id == "EVENT-k3f9-0001"
    assert safe.evidence_event_ids == ("EVENT-k3f9-0001",)
    verdict = Verdict(
        analyst="claude",
        incident_id=incident.id,
        evidence_event_ids=("EVENT-k3f9-0001", "EVENT-k3f9-0099"),
        rationale="USER-k3f9-0001 uploaded data (CASE-k3f9-0001)",
    )
    restored = pseudo.restore_verdict(verdict)
    assert restored.evidence_event_ids == ("alice-laptop.log:3", "EVENT-k3f9-0099")
    assert restored.rationale == f"alice uploaded data ({incident.id})"


def test_identities_off_aliases_ids_only() -> None:
    pseudo = Pseudonymizer(prefix="k3f9", identities=False)
    incident = _incident(**{"user.name": "alice", "source.ip": "10.0.0.1"})
    safe = pseudo.pseudonymize_incident(incident)
    assert safe.id == "CASE-k3f9-0001" and safe.evidence[0].event_id == "EVENT-k3f9-0001"
    assert safe.evidence[0].user_name == "alice" and safe.title == incident.title


def test_pseudonymize_is_declared_by_handling_for_each_kind() -> None:
    handled = {r.handling for r in EVENT_FIELDS.values() if r.handling is not None}
    assert {Handling.URL, Handling.PATH, Handling.DOMAIN, Handling.EMAILS} <= handled


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("openai:http://user:secret@gw.local:8080/v1", "openai:http://***@gw.local:8080/v1"),
        ("failed: https://k:s@h/v1 and http://a:b@c", "failed: https://***@h/v1 and http://***@c"),
        ("https://api.openai.com/v1", "https://api.openai.com/v1"),
        ("mailto bob@corp.example", "mailto bob@corp.example"),
    ],
)
def test_redact_credentials(text: str, expected: str) -> None:
    assert redact_credentials(text) == expected
