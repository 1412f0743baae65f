"""Zeek ``conn.log``: the TSV format with ``#`` directives, and JSON lines (``zeek-json``).

TSV: ``#separator`` (default tab, written ``\\x09``), ``#empty_field`` and ``#unset_field``
(default ``(empty)`` and ``-``, both read as null) and ``#fields`` (the column order) are honoured;
every ``#`` line is a skipped line. Rows may carry extra trailing columns; a row shorter than the
header is a dead letter. Without a ``#fields`` header the default ``conn.log`` order is assumed.

Only conn logs are read (see :mod:`._zeek_tsv`): a file whose ``#path`` or ``#fields`` names
another Zeek log type (http, ssl, files, weird, x509, ...) is not detected as ``zeek``, and a
record of another type is a dead letter when the format is forced. A Zeek log with no telling
header or fields (rows only, JSON records with only the common fields) is read as a conn log.

JSON: one object per line with the same names (``"id.orig_h"``, or nested ``"id": {...}``);
``ts`` is epoch seconds or an ISO 8601 string.

Mapping: ``ts`` -> timestamp, ``id.orig_h``/``id.orig_p`` -> source, ``id.resp_h``/``id.resp_p``
-> destination, ``proto`` -> network_transport, ``orig_bytes``/``resp_bytes`` -> source/destination
bytes, ``conn_state`` -> event_code and the action: ``REJ`` -> ``reject``, ``S0`` (no reply) ->
``no_reply``, any other state -> ``allow`` (the connection was not refused); no state -> null.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar, Final

from ._values import to_count, to_ip, to_port, to_text
from ._zeek_tsv import ZeekJsonLog, ZeekLog, ZeekTsvLog, zeek_time
from .base import LineError, register

__all__ = ["CONN", "ZeekJsonParser", "ZeekParser", "conn_row"]

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


CONN: Final = ZeekLog(
    name="conn",
    default_fields=DEFAULT_FIELDS,
    row=conn_row,
    row_start=_ROW,
    headerless=_HEADERLESS,
)
"""The conn.log type; it also reads Zeek logs of no recognisable type (as before types were told
apart)."""


@register
class ZeekParser(ZeekTsvLog):
    """Zeek ``conn.log`` in its native TSV format (``#fields`` header)."""

    name: ClassVar[str] = "zeek"
    description: ClassVar[str] = "Zeek conn.log TSV (#separator/#fields header)"
    log: ClassVar[ZeekLog] = CONN


@register
class ZeekJsonParser(ZeekJsonLog):
    """Zeek ``conn.log`` as JSON lines (``LogAscii::use_json=T``)."""

    name: ClassVar[str] = "zeek-json"
    description: ClassVar[str] = 'Zeek conn.log JSON lines ({"ts":..., "id.orig_h":...})'
    log: ClassVar[ZeekLog] = CONN
