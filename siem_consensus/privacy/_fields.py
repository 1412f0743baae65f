"""How every :class:`~siem_consensus.models.Event` field is treated before it leaves the machine.

One registry, :data:`EVENT_FIELDS`, names a :class:`FieldRule` for every Event field. A test
fails when a field is added to ``Event`` without a rule here, so no new field can reach a
provider unclassified.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, NamedTuple

__all__ = ["EVENT_FIELDS", "FieldClass", "FieldRule", "Handling"]


class FieldClass(StrEnum):
    """What happens to a field's value."""

    PSEUDONYMIZE = "pseudonymize"
    """Identities in it are replaced by tokens (restored locally in verdicts)."""
    KEEP = "keep"
    """Sent as it is: a fact an analyst reasons with that identifies no one."""
    DROP = "drop"
    """Never sent."""


class Handling(StrEnum):
    """How a pseudonymized field is read."""

    IP = "IP"
    """The whole value is an address."""
    USER = "USER"
    """The whole value is an account name."""
    HOST = "HOST"
    """The whole value is a host or sensor name."""
    DOMAIN = "DOMAIN"
    """The whole value is a DNS name (query, TLS server name)."""
    EMAIL = "EMAIL"
    """The whole value is one mailbox."""
    EMAILS = "EMAILS"
    """A list of mailboxes separated by commas or semicolons."""
    URL = "URL"
    """A URL: host and user info are identities; the path and query are free text."""
    PATH = "PATH"
    """A file path: user-profile segments (``C:\\Users\\x``, ``/home/x``) are identities."""
    TEXT = "TEXT"
    """Free text: known identities, and the addresses, emails, URLs and profile paths found
    in it, are replaced."""
    ALIAS = "ALIAS"
    """An id: replaced by an opaque per-call alias, mapped back in verdicts."""


class FieldRule(NamedTuple):
    """The class of a field, and for pseudonymized fields how it is read."""

    treatment: FieldClass
    handling: Handling | None = None


_KEEP = FieldRule(FieldClass.KEEP)


def _pseudo(handling: Handling) -> FieldRule:
    return FieldRule(FieldClass.PSEUDONYMIZE, handling)


EVENT_FIELDS: Final[dict[str, FieldRule]] = {
    "event_id": _pseudo(Handling.ALIAS),  # `{file}:{n}`: a file name may name a host or person
    "timestamp": _KEEP,
    "dataset": _KEEP,
    "event_action": _KEEP,
    "event_outcome": _KEEP,
    "event_code": _KEEP,
    "source_ip": _pseudo(Handling.IP),
    "source_port": _KEEP,
    "destination_ip": _pseudo(Handling.IP),
    "destination_port": _KEEP,
    "network_transport": _KEEP,
    "source_bytes": _KEEP,
    "destination_bytes": _KEEP,
    "rule_name": _pseudo(Handling.TEXT),  # ACL names may embed addresses (`deny-10.1.1.1`)
    "user_name": _pseudo(Handling.USER),
    "host_name": _pseudo(Handling.HOST),
    "message": _pseudo(Handling.TEXT),
    "rule_id": _KEEP,
    "rule_category": _KEEP,
    "event_severity": _KEEP,
    "observer_name": _pseudo(Handling.HOST),
    "url_original": _pseudo(Handling.URL),
    "http_method": _KEEP,
    "http_status": _KEEP,
    "user_agent": _pseudo(Handling.TEXT),  # agents may carry host names, emails, addresses
    "dns_question": _pseudo(Handling.DOMAIN),
    "tls_sni": _pseudo(Handling.DOMAIN),
    "file_path": _pseudo(Handling.PATH),
    "event_category": _KEEP,
    "email_from": _pseudo(Handling.EMAIL),
    "email_to": _pseudo(Handling.EMAILS),
    "email_attachments": _KEEP,
    "auth_attempts": _KEEP,  # a count of login attempts (Zeek ssh.log)
}
"""Event field name -> rule. Every field of ``Event`` must be here (a test checks it)."""
