"""Zeek ``conn.log``: the TSV format with ``#`` directives, and JSON lines (``zeek-json``).

TSV: ``#separator`` (default tab, written ``\\x09``), ``#empty_field`` and ``#unset_field``
(default ``(empty)`` and ``-``, both read as null) and ``#fields`` (the column order) are honoured;
every ``#`` line is a skipped line. Rows may carry extra trailing columns; a row shorter than the
header is a dead letter. Without a ``#fields`` header the default ``conn.log`` order is assumed.

JSON: one object per line with the same names (``"id.orig_h"``, or nested ``"id": {...}``);
``ts`` is epoch seconds or an ISO 8601 string.

Mapping: ``ts`` -> timestamp, ``id.orig_h``/``id.orig_p`` -> source, ``id.resp_h``/``id.resp_p``
-> destination, ``proto`` -> network_transport, ``orig_bytes``/``resp_bytes`` -> source/destination
bytes, ``conn_state`` -> event_code and the action: ``REJ`` -> ``reject``, ``S0`` (no reply) ->
``no_reply``, any other state -> ``allow`` (the connection was not refused); no state -> null.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final

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
from ._zeek_tsv import DIRECTIVE, ZeekTsv, zeek_time
from .base import SKIP, LineError, LineParser, _Skip, register
from .zeek_dns import DNS_HEADER, is_dns_record

__all__ = ["ZeekJsonParser", "ZeekParser", "conn_row"]

DEFAULT_FIELDS: Final = (
    *("ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service"),
    *("duration", "orig_bytes", "resp_bytes", "conn_state", "local_orig", "local_resp"),
    *("missed_bytes", "history", "orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes"),
    "tunnel_parents",
)
"""Column order of a default ``conn.log`` (used when a file has no ``#fields`` line)."""

_ACTIONS: Final = {"REJ": "reject", "S0": "no_reply"}
# ts is epoch seconds, or seconds since the capture started in relabelled captures
_ROW: Final = re.compile(r"[0-9]+\.[0-9]+\t\S+\t[0-9a-fA-F:.]+\t")
_SSH_HEADER: Final = re.compile(r"#path\tssh\s*$|#fields\t.*\bauth_(?:success|attempts)\b")
_HEADERLESS: Final = (
    "not a Zeek conn.log row: {found} tab-separated field(s), and with no #fields header the "
    "{expected} conn.log columns are expected"
)


def conn_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """Event columns from a Zeek conn record (dotted names, nulls already removed).

    Raises:
        LineError: no originator/responder address, or a value of the wrong type.
    """
    for key in ("id.orig_h", "id.resp_h"):
        if record.get(key) is None:
            raise LineError(f"not a Zeek conn record: no {key}")
    state = to_text(record.get("conn_state"), "conn_state")
    ts = record.get("ts")
    return {
        "timestamp": None if ts is None else zeek_time(ts),
        "event_action": None if state is None else _ACTIONS.get(state, "allow"),
        "event_code": state,
        "source_ip": to_ip(record["id.orig_h"], "id.orig_h"),
        "source_port": to_port(record.get("id.orig_p"), "id.orig_p"),
        "destination_ip": to_ip(record["id.resp_h"], "id.resp_h"),
        "destination_port": to_port(record.get("id.resp_p"), "id.resp_p"),
        "network_transport": (to_text(record.get("proto"), "proto") or "").lower() or None,
        "source_bytes": to_count(record.get("orig_bytes"), "orig_bytes"),
        "destination_bytes": to_count(record.get("resp_bytes"), "resp_bytes"),
        "message": to_text(record.get("service"), "service"),
    }


@register
class ZeekParser(LineParser):
    """Zeek ``conn.log`` in its native TSV format (``#fields`` header)."""

    name: ClassVar[str] = "zeek"
    description: ClassVar[str] = "Zeek conn.log TSV (#separator/#fields header)"

    def __init__(self) -> None:
        self.tsv = ZeekTsv(DEFAULT_FIELDS)

    @classmethod
    def sniff(cls, lines: Sequence[str]) -> float:
        """Share of lines that are Zeek directives or tab-separated rows starting with a ``ts``.

        None for an ssh.log or a dns.log (``zeek-ssh`` and ``zeek-dns`` read them); a sample
        holding another ``#fields`` header that starts ``ts uid id.orig_h`` (a conn.log) is Zeek
        whatever the rows look like.
        """
        if any(_SSH_HEADER.match(line) or DNS_HEADER.match(line) for line in lines):
            return 0.0
        if any(line.startswith("#fields\tts\tuid\tid.orig_h\t") for line in lines):
            return 1.0
        return share(lines, lambda line: DIRECTIVE.match(line) or _ROW.match(line))

    def parse_line(self, line: str) -> dict[str, Any] | _Skip:
        """Parse one row, or take a ``#`` directive (skipped).

        Raises:
            LineError: a row shorter than the header or with unusable values.
        """
        if line.startswith("#"):
            self.tsv.directive(line)
            return SKIP
        return conn_row(self.tsv.record(line, headerless=_HEADERLESS))


@register
class ZeekJsonParser(GuardedJsonParser):
    """Zeek ``conn.log`` as JSON lines (``LogAscii::use_json=T``)."""

    name: ClassVar[str] = "zeek-json"
    description: ClassVar[str] = 'Zeek conn.log JSON lines ({"ts":..., "id.orig_h":...})'

    @classmethod
    def sniff(cls, lines: Sequence[str]) -> float:
        """Share of lines that are JSON objects with a Zeek ``id.orig_h`` field."""
        return share(lines, _is_zeek_json)

    def parse_record(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Columns of one Zeek JSON record (flat ``id.orig_h`` or nested ``id``)."""
        flat = {key: value for key, value in flatten(obj).items() if value is not None}
        return conn_row(flat)


def _is_zeek_json(line: str) -> bool:
    if '"orig_h"' not in line and '"id.orig_h"' not in line:
        return False
    obj = loads_object(line)
    if obj is None:
        return False
    flat = flatten(obj)  # ssh.log (auth_*) and dns.log records are for zeek-ssh/dns-json
    ssh = "auth_attempts" in flat or "auth_success" in flat
    return "id.orig_h" in flat and not ssh and not is_dns_record(flat)
