"""Where a known identity is found inside free text (what may stand right before it), which
tokens carry an internal hint, and what is left as plain text."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from siem_consensus.errors import ConfigError
from siem_consensus.models import Entities, Incident, Severity
from siem_consensus.privacy import Pseudonymizer

WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_an_address_glued_to_a_name_is_still_hidden() -> None:
    pseudo = Pseudonymizer(prefix="k3f9")
    text = pseudo.pseudonymize_text("deny on fw_10.0.0.5 by acl_192.168.1.7")
    assert "10.0.0.5" not in text and "192.168.1.7" not in text
    assert pseudo.restore_text(text) == "deny on fw_10.0.0.5 by acl_192.168.1.7"


def test_a_known_dns_name_right_after_an_at_sign_is_hidden() -> None:
    pseudo = Pseudonymizer(prefix="k3f9")
    token = pseudo.field("shop.example.com", "DOMAIN")
    assert pseudo.pseudonymize_text("upload to @shop.example.com") == f"upload to @{token}"


def test_a_known_name_right_after_a_plus_is_hidden() -> None:
    pseudo = Pseudonymizer(prefix="k3f9")
    alice, bob = pseudo.field("alice", "USER"), pseudo.field("bob", "USER")
    assert pseudo.pseudonymize_text("shared by alice+bob") == f"shared by {alice}+{bob}"


def test_a_malformed_prefix_says_what_a_prefix_is() -> None:
    with pytest.raises(
        ConfigError,
        match=r"^invalid pseudonym prefix 'AB': use 4-12 characters of a-z and 0-9 "
        r"\(or omit it for a random one\)$",
    ):
        Pseudonymizer(prefix="AB")


def test_an_entity_address_that_is_not_an_address_is_still_an_address_token() -> None:
    pseudo = Pseudonymizer(prefix="k3f9")
    incident = Incident(
        id="fw-1",
        detector="firewall",
        kind="port_scan",
        title="Scan from gateway",
        severity=Severity.MEDIUM,
        score=0.6,
        entities=Entities(source_ips=("gateway",), destination_ips=("10.0.0.9",)),
        event_count=0,
    )
    safe = pseudo.pseudonymize_incident(incident)
    [source], [target] = safe.entities.source_ips, safe.entities.destination_ips
    assert re.fullmatch(r"EXT-IP-k3f9-\d{4}", source) and target.startswith("INT-IP-k3f9-")
    assert "gateway" not in safe.title
    assert pseudo.restore_text(f"{source} {target}") == "gateway 10.0.0.9"


def test_a_fully_qualified_name_with_its_final_dot_is_internal() -> None:
    pseudo = Pseudonymizer(prefix="k3f9", internal_domains=["corp.example"])
    assert pseudo.field("db.corp.example.", "DOMAIN") == "INT-DOMAIN-k3f9-0001"
    assert pseudo.field("db.corp.example.evil.test", "DOMAIN") == "EXT-DOMAIN-k3f9-0002"


def test_a_mailbox_is_judged_by_the_domain_after_its_last_at_sign() -> None:
    pseudo = Pseudonymizer(prefix="k3f9", internal_domains=["corp.example"])
    # A quoted local part may hold "@": the domain is what follows the last one.
    assert pseudo.field('"ops@lab"@corp.example', "EMAIL") == "INT-EMAIL-k3f9-0001"
    assert pseudo.field('"ops@corp.example"@evil.test', "EMAIL") == "EXT-EMAIL-k3f9-0002"


def test_a_token_look_alike_in_another_case_is_plain_text() -> None:
    pseudo = Pseudonymizer(prefix="k3f9")
    escaped = pseudo.pseudonymize_text("see USER-k3f9-0001")
    assert escaped == "see LIT-k3f9-0001"  # this instance's own token shape: escaped
    # the same letters in lower case can never be restored into anything: sent as written
    assert pseudo.pseudonymize_text("see user-k3f9-0001") == "see user-k3f9-0001"
    assert pseudo.restore_text(escaped) == "see USER-k3f9-0001"
