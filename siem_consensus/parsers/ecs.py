"""Generic JSON records with Elastic Common Schema (ECS) field names.

Both spellings are read: flattened dotted keys (``{"source.ip": ...}``) and nested objects
(``{"source": {"ip": ...}}``). ``@timestamp`` is ISO 8601, a ``datetime`` or an epoch number
(or string of digits) in seconds, milliseconds, microseconds or nanoseconds by its size (see
:mod:`._epoch`); a record without one keeps a null timestamp. Unknown fields are ignored,
but a record with none of the fields below is rejected (it is probably not ECS).

Read: ``@timestamp``, ``event.action``, ``event.outcome``, ``event.code``, ``source.ip``/
``port``/``bytes``, ``destination.ip``/``port``/``bytes``, ``network.transport`` (lower-cased),
``rule.name``, ``user.name``, ``host.name`` (else ``host.hostname``) and ``message``.
``event.dataset`` is not kept: an event's ``dataset`` names the parser that produced it.

This is the default parser for records given as Python dicts and for JSON array files.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Final

from ._epoch import epoch_by_magnitude
from ._syslog import parse_iso
from ._values import (
    GuardedJsonParser,
    flatten,
    loads_object,
    share,
    to_count,
    to_ip,
    to_port,
    to_text,
)
from ._zone import local_offset
from .base import LineError, register

__all__ = ["EcsParser"]

_TEXT: Final = {
    "event_action": "event.action",
    "event_outcome": "event.outcome",
    "event_code": "event.code",
    "rule_name": "rule.name",
    "user_name": "user.name",
    "message": "message",
    "rule_id": "rule.id",
    "rule_category": "rule.category",
    "observer_name": "observer.name",
    "http_method": "http.request.method",
    "user_agent": "user_agent.original",
    "dns_question": "dns.question.name",
    "tls_sni": "tls.client.server_name",
    "file_path": "file.path",
}
# ECS fields that may hold one value or an array; arrays are joined with ",".
_LISTS: Final = {
    "event_category": "event.category",
    "email_from": "email.from.address",
    "email_to": "email.to.address",
}
_COUNTS: Final = {
    "event_severity": "event.severity",
    "http_status": "http.response.status_code",
}
_KNOWN: Final = frozenset(
    {"@timestamp", *_TEXT.values(), *_LISTS.values(), *_COUNTS.values(), "event.dataset"}
    | {"source.ip", "source.port", "source.bytes", "url.original", "url.full"}
    | {"destination.ip", "destination.port", "destination.bytes", "network.transport"}
    | {"host.name", "host.hostname", "email.attachments"}
)
# Detection looks only at the core fields: rule.id, observer.name and the like also appear in
# Wazuh and Suricata records, which have their own parsers.
_SNIFF: Final = frozenset(
    {"@timestamp", "event.action", "event.outcome", "event.code", "user.name", "event.dataset"}
    | {"source.ip", "source.port", "source.bytes", "destination.ip", "destination.port"}
    | {"destination.bytes", "network.transport", "host.name", "host.hostname"}
)
_ZEEK_KEYS: Final = ("id.orig_h", "id.resp_h")
_DIGITS: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


@register
class EcsParser(GuardedJsonParser):
    """JSON lines (or records) named in ECS, flattened or nested."""

    name: ClassVar[str] = "ecs"
    description: ClassVar[str] = "JSON lines with Elastic Common Schema names (source.ip, ...)"

    @classmethod
    def sniff(cls, lines: Sequence[str]) -> float:
        """Share of lines that are JSON objects with an ECS field (and not Zeek records)."""
        return share(lines, _is_ecs)

    def parse_record(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Columns of one ECS record.

        Raises:
            LineError: no ECS field at all, or a field of the wrong type or out of range.
        """
        flat = flatten(obj)
        if not _KNOWN.intersection(flat):
            keys = ", ".join(sorted(flat)[:5]) or "none"
            raise LineError(
                f"no ECS fields in record (keys: {keys}); expected @timestamp, "
                "event.*, source.*, destination.*, ..."
            )
        row: dict[str, Any] = {column: to_text(flat.get(key), key) for column, key in _TEXT.items()}
        row.update({column: _joined(flat.get(key), key) for column, key in _LISTS.items()})
        row.update({column: to_count(flat.get(key), key) for column, key in _COUNTS.items()})
        url = flat.get("url.original", flat.get("url.full"))
        row["url_original"] = to_text(url, "url.original")
        attachments = flat.get("email.attachments")
        row["email_attachments"] = (
            len(attachments)
            if isinstance(attachments, list)
            else to_count(attachments, "email.attachments")
        )
        host = flat.get("host.name")
        row.update(
            timestamp=_timestamp(flat.get("@timestamp")),
            source_ip=to_ip(flat.get("source.ip"), "source.ip"),
            source_port=to_port(flat.get("source.port"), "source.port"),
            source_bytes=to_count(flat.get("source.bytes"), "source.bytes"),
            destination_ip=to_ip(flat.get("destination.ip"), "destination.ip"),
            destination_port=to_port(flat.get("destination.port"), "destination.port"),
            destination_bytes=to_count(flat.get("destination.bytes"), "destination.bytes"),
            network_transport=(
                to_text(flat.get("network.transport"), "network.transport") or ""
            ).lower()
            or None,
            host_name=to_text(flat.get("host.hostname") if host is None else host, "host.name"),
        )
        return row


def _joined(value: object, key: str) -> str | None:
    """One text value, or an ECS array of them joined with ","."""
    if isinstance(value, list):
        parts = [to_text(item, key) for item in value]
        return ",".join(p for p in parts if p) or None
    return to_text(value, key)


def _timestamp(value: object) -> datetime | None:
    """``@timestamp``: ISO 8601 text, a ``datetime``, or an epoch number (or digits) whose
    unit is chosen by its size (:mod:`._epoch`: seconds below 10^11, then ms, us, ns)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
            return value - local_offset(value)
        return value.astimezone(UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return epoch_by_magnitude(value, "@timestamp")
    if isinstance(value, str):
        if _DIGITS.fullmatch(value):
            return epoch_by_magnitude(value, "@timestamp")
        try:
            return parse_iso(value)
        except LineError:
            raise LineError(
                f"@timestamp is not ISO 8601 or epoch milliseconds: {value[:40]!r}"
            ) from None
    raise LineError(f"@timestamp must be a string or a number, got {type(value).__name__}")


def _is_ecs(line: str) -> bool:
    obj = loads_object(line)
    if obj is None:
        return False
    flat = flatten(obj)
    return bool(_SNIFF.intersection(flat)) and not any(key in flat for key in _ZEEK_KEYS)
