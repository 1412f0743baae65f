"""Pseudonymization, the details each field depends on: every claim of a verdict comes back with
real names, configuration is read the way people write it, and instances never share tokens."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from siem_consensus.models import Entities, Event, Incident, Severity, Verdict
from siem_consensus.privacy import Pseudonymizer
from siem_consensus.privacy._patterns import address_in

WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _incident() -> Incident:
    event = Event.model_validate(
        {"event_id": "auth.log:7", "@timestamp": WHEN, "user.name": "bob", "source.ip": "1.2.3.4"}
    )
    return Incident(
        id="fw-1",
        detector="firewall",
        kind="brute_force",
        title="Brute force on bob",
        severity=Severity.HIGH,
        score=0.8,
        entities=Entities(users=("bob",), source_ips=("1.2.3.4",)),
        evidence=(event,),
        evidence_event_ids=(event.event_id,),
    )


def test_every_free_text_claim_of_a_verdict_is_restored() -> None:
    pseudo = Pseudonymizer(prefix="k3f9")
    safe = pseudo.pseudonymize_incident(_incident())
    user, ip = pseudo.token_for("bob"), pseudo.token_for("1.2.3.4")
    [event_alias] = safe.evidence_event_ids
    verdict = Verdict(
        analyst="claude",
        incident_id=safe.id,
        is_threat=True,
        confidence=0.9,
        category=f"guessing by {ip}",
        evidence_event_ids=(event_alias,),
        rationale=f"{ip} guessed {user}'s password",
        attacker_goal=f"log in as {user}",
        business_impact=f"{user}'s mailbox exposed",
        recommended_actions=(f"block {ip}",),
        problems=(f"{user} also seen elsewhere",),
        error=f"partial answer about {user}",
    )
    restored = pseudo.restore_verdict(verdict)
    assert restored.model_dump(exclude={"incident_id"}) == verdict.model_copy(
        update={
            "category": "guessing by 1.2.3.4",
            "evidence_event_ids": ("auth.log:7",),
            "rationale": "1.2.3.4 guessed bob's password",
            "attacker_goal": "log in as bob",
            "business_impact": "bob's mailbox exposed",
            "recommended_actions": ("block 1.2.3.4",),
            "problems": ("bob also seen elsewhere",),
            "error": "partial answer about bob",
        }
    ).model_dump(exclude={"incident_id"})
    none = pseudo.restore_verdict(Verdict(analyst="x", rationale=f"{user}"))
    assert (none.attacker_goal, none.business_impact, none.category, none.error) == (None,) * 4


def test_internal_networks_may_be_written_with_host_bits() -> None:
    pseudo = Pseudonymizer(prefix="k3f9", internal_networks=["198.51.100.77/24"])
    assert pseudo.pseudonymize_text("198.51.100.9") == "INT-IP-k3f9-0001"


def test_internal_domains_match_whatever_their_case_or_trailing_dot() -> None:
    pseudo = Pseudonymizer(prefix="k3f9", internal_domains=["Corp.Example."])
    safe = pseudo.pseudonymize_text("a@MAIL.corp.example b@corp.example. c@other.example")
    assert safe == "INT-EMAIL-k3f9-0001 INT-EMAIL-k3f9-0002. EXT-EMAIL-k3f9-0003"


def test_a_random_prefix_is_four_characters_and_differs_between_instances() -> None:
    prefixes = {Pseudonymizer().prefix for _ in range(20)}
    assert all(re.fullmatch(r"[a-z0-9]{4}", p) for p in prefixes)
    assert len(prefixes) > 1


def test_repr_names_the_prefix_and_the_mode_only() -> None:
    assert repr(Pseudonymizer(prefix="k3f9")) == "Pseudonymizer(prefix='k3f9', identities=True)"
    off = Pseudonymizer(prefix="abcd", identities=False)
    assert repr(off) == "Pseudonymizer(prefix='abcd', identities=False)"


def test_a_non_address_in_an_address_field_is_never_called_internal() -> None:
    pseudo = Pseudonymizer(prefix="k3f9")
    assert pseudo.field("gateway", "IP") == "EXT-IP-k3f9-0001"
    assert pseudo.field("10.0.0.1", "IP") == "INT-IP-k3f9-0002"
    assert pseudo.field("::ffff:10.0.0.2", "IP") == "INT-IP-k3f9-0003"  # IPv4-mapped


def test_a_candidate_address_loses_at_most_one_stray_colon_at_each_end() -> None:
    assert address_in("2001:db8::1") == "2001:db8::1"
    assert address_in(":2001:db8::1") == "2001:db8::1"
    assert address_in("fe80:::") == "fe80::"
    assert address_in(":fe80:::") == "fe80::"
    assert address_in("::1:") == "::1"  # "::1: denied"
    assert address_in("1.2.3.456") is None
    assert address_in("999.1.2.3") is None  # never a shorter address cut out of a longer one
    assert address_in(":::") is None and address_in(":") is None


def test_an_alias_is_a_case_alias_unless_told_otherwise() -> None:
    pseudo = Pseudonymizer(prefix="k3f9")
    assert pseudo.alias("fw-1") == "CASE-k3f9-0001" == pseudo.alias("fw-1", "CASE")
    assert pseudo.alias("fw-1", "EVENT") == "EVENT-k3f9-0001"
    assert pseudo.restore_text("CASE-k3f9-0001 EVENT-k3f9-0001") == "fw-1 fw-1"


def test_an_ipv6_value_glued_to_letters_is_not_that_address() -> None:
    pseudo = Pseudonymizer(prefix="k3f9")
    assert pseudo.field("d::", "IP") == "EXT-IP-k3f9-0001"
    assert pseudo.pseudonymize_text("std::vector d:: 10 ") == "std::vector EXT-IP-k3f9-0001 10 "


def test_the_incidents_entities_are_announced_before_its_evidence() -> None:
    event = Event.model_validate(
        {"event_id": "a.log:1", "@timestamp": WHEN, "host.name": "srv-db", "user.name": "bob"}
    )
    incident = Incident(
        id="fw-2",
        detector="insider",
        kind="exfiltration",
        title="srv-db and bob",
        severity=Severity.HIGH,
        score=0.8,
        entities=Entities(users=("srv-db",), hosts=("ws-07",), destination_ips=("10.1.1.1",)),
        evidence=(event,),
        evidence_event_ids=(event.event_id,),
    )
    pseudo = Pseudonymizer(prefix="k3f9")
    safe = pseudo.pseudonymize_incident(incident)
    # The entity's kind wins over the event's, and entities are numbered first.
    assert pseudo.token_for("srv-db") == "USER-k3f9-0001"
    assert pseudo.token_for("bob") == "USER-k3f9-0002"
    assert safe.entities.users == ("USER-k3f9-0001",)
    assert safe.entities.hosts == ("HOST-k3f9-0001",)
    assert safe.entities.destination_ips == ("INT-IP-k3f9-0001",)
    assert safe.evidence[0].host_name == "USER-k3f9-0001"
    assert safe.title == "USER-k3f9-0001 and USER-k3f9-0002"


def test_a_longer_known_value_wins_over_a_shorter_one_it_starts_with() -> None:
    pseudo = Pseudonymizer(prefix="k3f9")
    assert pseudo.field("Kim", "USER") == "USER-k3f9-0001"
    assert pseudo.field("Kim Lee", "USER") == "USER-k3f9-0002"
    assert (
        pseudo.pseudonymize_text("by Kim Lee, not Kim") == "by USER-k3f9-0002, not USER-k3f9-0001"
    )


def test_another_spelling_of_a_known_value_keeps_its_kind() -> None:
    pseudo = Pseudonymizer(prefix="k3f9")
    assert pseudo.field("ws-01", "HOST") == "HOST-k3f9-0001"
    assert pseudo.pseudonymize_text("logon at WS-01") == "logon at HOST-k3f9-0002"
    assert pseudo.restore_text("HOST-k3f9-0002") == "WS-01"


def test_a_bracketed_ipv6_url_host_is_an_address() -> None:
    pseudo = Pseudonymizer(prefix="k3f9")
    assert pseudo.pseudonymize_text("GET http://[2001:db8::7]/x") == "GET http://EXT-IP-k3f9-0002/x"
    assert pseudo.restore_text("EXT-IP-k3f9-0002") == "[2001:db8::7]"


def test_an_email_right_after_an_at_sign_is_still_hidden() -> None:
    pseudo = Pseudonymizer(prefix="k3f9")
    assert pseudo.pseudonymize_text("x@bob@corp.example") == "x@EMAIL-k3f9-0001"
    assert pseudo.restore_text("x@EMAIL-k3f9-0001") == "x@bob@corp.example"


def test_configured_internal_networks_replace_the_defaults() -> None:
    pseudo = Pseudonymizer(prefix="k3f9", internal_networks=["198.51.100.0/24"])
    assert pseudo.field("198.51.100.9", "IP") == "INT-IP-k3f9-0001"
    assert pseudo.field("10.0.0.1", "IP") == "EXT-IP-k3f9-0002"  # RFC 1918, but not configured
    assert pseudo.field("::ffff:198.51.100.10", "IP") == "INT-IP-k3f9-0003"  # IPv4-mapped


def test_a_urls_credentials_stay_redacted_and_never_become_a_token() -> None:
    pseudo = Pseudonymizer(prefix="k3f9")
    safe = pseudo.pseudonymize_text("GET https://bob:hunter2@shop.example.com/cart")
    assert safe == "GET https://***@DOMAIN-k3f9-0001/cart"
    assert list(pseudo.mapping.values()) == ["shop.example.com"]
    assert pseudo.restore_text(safe) == "GET https://***@shop.example.com/cart"
