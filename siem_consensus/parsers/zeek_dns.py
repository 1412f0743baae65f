"""Zeek ``dns.log``: the TSV format with ``#`` directives (``zeek-dns``) and JSON lines
(``zeek-dns-json``).

One row is one DNS request and its reply as Zeek paired them. Mapping:

* ``ts`` -> timestamp; ``id.orig_h``/``id.orig_p`` -> source (the client asking);
  ``id.resp_h``/``id.resp_p`` -> destination (the resolver); ``proto`` -> network_transport;
* ``query`` -> ``dns_question`` (``dns.question.name``, lower-cased; a name longer than
  1,024 characters is a dead letter);
* ``event_action`` ``dns-query`` (as Packetbeat writes it), ``event_category`` ``network``;
* ``rcode_name`` (or the ``rcode`` number, named from RFC 1035) -> ``event_code``
  (``NOERROR``, ``NXDOMAIN``, ``SERVFAIL``, ...), null when no reply was seen;
* ``event_outcome`` ``success`` for ``NOERROR``, ``failure`` for any other reply code, null
  when no reply was seen;
* ``qtype_name``, the number of ``answers`` and ``rejected`` go into ``message``
  (``qtype=A answers=0``): the model has no field for DNS answers, and their addresses are not
  needed to judge a lookup pattern.

The TSV reader follows the ``conn.log`` reader (``#separator``, ``#fields``, ``#empty_field``,
``#unset_field``; ``#`` lines are skipped lines); a file without ``#fields`` uses the default
dns.log column order below. These parsers are registered before ``zeek``/``zeek-json``, which
also accept Zeek rows of no recognisable type, and recognise a file by its dns-only columns
(``query`` with ``rcode`` or ``qtype``) or its ``#path dns`` line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Final

from ._values import to_count, to_ip, to_port
from ._values import to_text as _text
from ._zeek_tsv import ZeekJsonLog, ZeekLog, ZeekTsvLog, zeek_time
from .base import LineError, register

__all__ = ["DNS", "ZeekDnsJsonParser", "ZeekDnsParser", "dns_row"]

DEFAULT_FIELDS: Final = (
    *("ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "trans_id"),
    *("rtt", "query", "qclass", "qclass_name", "qtype", "qtype_name", "rcode", "rcode_name"),
    *("AA", "TC", "RD", "RA", "Z", "answers", "TTLs", "rejected"),
)
"""Column order of a default ``dns.log`` (used when a file has no ``#fields`` line)."""

RCODES: Final = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP"} | {
    5: "REFUSED"
}
"""Reply codes of RFC 1035 by number, for logs that carry ``rcode`` without ``rcode_name``."""

MAX_NAME = 1024
_TRUE: Final = {"T": True, "F": False, "true": True, "false": False}


def dns_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """Event columns from a Zeek dns record (dotted names, nulls already removed).

    Raises:
        LineError: no client/resolver address, or a value of the wrong type.
    """
    for key in ("id.orig_h", "id.resp_h"):
        if record.get(key) is None:
            raise LineError(f"not a Zeek dns record: no {key}")
    query = _text(record.get("query"), "query")
    if query is not None and len(query) > MAX_NAME:
        raise LineError(f"query is longer than {MAX_NAME} characters ({len(query)})")
    rcode = _rcode(record)
    ts = record.get("ts")
    return {
        "timestamp": None if ts is None else zeek_time(ts),
        "event_action": "dns-query",
        "event_category": "network",
        "event_code": rcode,
        "event_outcome": None
        if rcode is None
        else ("success" if rcode == "NOERROR" else "failure"),
        "source_ip": to_ip(record["id.orig_h"], "id.orig_h"),
        "source_port": to_port(record.get("id.orig_p"), "id.orig_p"),
        "destination_ip": to_ip(record["id.resp_h"], "id.resp_h"),
        "destination_port": to_port(record.get("id.resp_p"), "id.resp_p"),
        "network_transport": (_text(record.get("proto"), "proto") or "").lower() or None,
        "dns_question": None if query is None else query.lower(),
        "message": _notes(record),
    }


def _rcode(record: Mapping[str, Any]) -> str | None:
    name = _text(record.get("rcode_name"), "rcode_name")
    if name is not None:
        return name.upper()
    number = to_count(record.get("rcode"), "rcode")
    if number is None:
        return None
    return RCODES.get(number, f"RCODE{number}")


def _notes(record: Mapping[str, Any]) -> str | None:
    notes = []
    qtype = _text(record.get("qtype_name"), "qtype_name")
    if qtype is not None:
        notes.append(f"qtype={qtype}")
    answers = record.get("answers")
    if answers is not None:
        if isinstance(answers, str):
            answers = answers.split(",")
        if not isinstance(answers, list):
            raise LineError(f"answers is not a list: {str(answers)[:20]!r}")
        notes.append(f"answers={len(answers)}")
    elif _text(record.get("rcode_name"), "rcode_name") or record.get("rcode") is not None:
        notes.append("answers=0")
    if _flag(record.get("rejected")):
        notes.append("rejected")
    return " ".join(notes) or None


def _flag(value: object) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value in _TRUE:
        return _TRUE[value]
    raise LineError(f"rejected is not T/F or true/false: {str(value)[:20]!r}")


DNS: Final = ZeekLog(name="dns", default_fields=DEFAULT_FIELDS, row=dns_row)
"""The dns.log type (recognised by its ``#path dns`` or ``query`` with ``rcode``/``qtype``)."""


@register
class ZeekDnsParser(ZeekTsvLog):
    """Zeek ``dns.log`` in its native TSV format (``#fields`` header)."""

    name: ClassVar[str] = "zeek-dns"
    description: ClassVar[str] = "Zeek dns.log TSV (query, rcode_name, answers)"
    log: ClassVar[ZeekLog] = DNS


@register
class ZeekDnsJsonParser(ZeekJsonLog):
    """Zeek ``dns.log`` as JSON lines (``LogAscii::use_json=T``)."""

    name: ClassVar[str] = "zeek-dns-json"
    description: ClassVar[str] = 'Zeek dns.log JSON lines ({"id.orig_h":..., "query":...})'
    log: ClassVar[ZeekLog] = DNS
