"""Suricata EVE JSON (``eve.json``): one record per line, or the elements of a JSON array file.

JSON lines are detected by :meth:`SuricataParser.sniff`; ``EventStream`` reads JSON array files
with the ``ecs`` parser unless told otherwise, so pass ``input_format="suricata"`` for them.

::

    {"timestamp": "2017-03-25T16:49:58.856335-0600", "event_type": "alert", "src_ip": "...",
     "src_port": 6668, "dest_ip": "...", "dest_port": 57966, "proto": "TCP",
     "alert": {"action": "allowed", "gid": 1, "signature_id": 2000355, "rev": 5,
               "signature": "ET CHAT IRC authorization message", "category": "Misc activity",
               "severity": 3}, "flow": {"bytes_toserver": 708, "bytes_toclient": 4091}}

Every ``event_type`` but ``stats`` becomes an event with ``event_code`` = the type; ``stats``
records (engine counters, no traffic) are skipped lines. Only ``alert`` records carry a rule:

* ``rule_id`` = ``alert.signature_id`` (text), ``rule_name`` = ``alert.signature``,
  ``rule_category`` = ``alert.category``, ``event_action`` = ``alert.action``
  (``allowed``/``blocked``).
* ``event_severity`` = ``alert.severity`` as Suricata reports it: **1 is the most severe**, 2 and
  3 lower, 4+ informational (the classification priority). It is not rescaled.

All types: ``src_ip``/``src_port``/``dest_ip``/``dest_port`` -> source/destination,
``proto`` -> ``network_transport`` (lower-cased), ``timestamp`` (ISO 8601 with its offset; no
offset means UTC) -> UTC, ``host`` (``sensor-name``; or ``host.name`` when a shipper nested it)
else ``sensor_name`` -> ``observer_name``. ``flow.bytes_toserver``/``bytes_toclient`` ->
``source_bytes``/``destination_bytes``; they are swapped when the record says the packet went to
the client (``direction: to_client``, or ``flow.src_ip`` equal to ``dest_ip``, Suricata 7), since
``src_ip`` is then the server. Older EVE gives no such hint and the order is kept as is, so an
alert on a server-to-client packet there shows the client's bytes as ``source_bytes``.

Application fields: ``http.hostname`` + ``http.url`` -> ``url_original`` (``host/path``; an
absolute URL is kept as is), ``http.http_method``, ``http.status``, ``http.http_user_agent``;
``dns.query[0].rrname`` (Suricata 7), ``dns.queries[0].rrname`` (8) or ``dns.rrname`` ->
``dns_question``; ``tls.sni``; ``fileinfo.filename`` -> ``file_path``. ``payload_printable`` ->
``message``. These are attacker-controlled: kept as data, never interpreted, and clipped to
1,000 characters.

Values may be numbers or numeric strings (Wazuh relays EVE with every value as a string);
:func:`eve_row` is shared with the Wazuh parser (relayed alerts); the Splunk parser reaches this
parser through the registry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final

from ._ids_common import clip, lower, mapping, scrub, to_ip, to_iso_time, to_level
from ._values import GuardedJsonParser, loads_object, share, to_count, to_port, to_text
from .base import SKIP, LineError, _Skip, register

__all__ = ["SuricataParser", "eve_row", "is_eve"]

_SKIPPED: Final = frozenset({"stats"})


def is_eve(obj: Mapping[str, Any]) -> bool:
    """Whether a decoded JSON object looks like a Suricata EVE record."""
    kind = obj.get("event_type")
    if not isinstance(kind, str) or not isinstance(obj.get("timestamp"), str):
        return False
    return kind in _SKIPPED or "flow_id" in obj or "src_ip" in obj


def eve_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """Event columns from one decoded EVE record of any type (see the module docstring).

    Raises:
        LineError: no ``event_type``, an alert without its ``alert`` object or signature id,
            or a value of the wrong type or out of range.
    """
    kind = to_text(record.get("event_type"), "event_type")
    if kind is None:
        raise LineError("not a Suricata EVE record: no event_type")
    row: dict[str, Any] = {
        "timestamp": to_iso_time(record.get("timestamp"), "timestamp"),
        "event_code": kind,
        "source_ip": to_ip(record.get("src_ip"), "src_ip"),
        "source_port": to_port(record.get("src_port"), "src_port"),
        "destination_ip": to_ip(record.get("dest_ip"), "dest_ip"),
        "destination_port": to_port(record.get("dest_port"), "dest_port"),
        "network_transport": lower(record.get("proto"), "proto"),
        "observer_name": _observer(record),
        "message": clip(record.get("payload_printable"), "payload_printable"),
    }
    row.update(_flow_bytes(record))
    row.update(_app_fields(record))
    if kind == "alert":
        row.update(_alert(record.get("alert")))
    return scrub(row)


def _alert(alert: object) -> dict[str, Any]:
    if not isinstance(alert, Mapping):
        raise LineError("Suricata alert record without an 'alert' object")
    sid = to_count(alert.get("signature_id"), "alert.signature_id")
    if sid is None:
        raise LineError("Suricata alert without alert.signature_id")
    return {
        "rule_id": str(sid),
        "rule_name": to_text(alert.get("signature"), "alert.signature"),
        "rule_category": to_text(alert.get("category"), "alert.category"),
        "event_severity": to_level(alert.get("severity"), "alert.severity"),
        "event_action": to_text(alert.get("action"), "alert.action"),
    }


def _observer(record: Mapping[str, Any]) -> str | None:
    host = record.get("host")
    if isinstance(host, Mapping):
        host = host.get("name")
    if host is None or host == "":
        return to_text(record.get("sensor_name"), "sensor_name")
    return to_text(host, "host")


def _flow_bytes(record: Mapping[str, Any]) -> dict[str, Any]:
    flow = mapping(record.get("flow"))
    to_server = to_count(flow.get("bytes_toserver"), "flow.bytes_toserver")
    to_client = to_count(flow.get("bytes_toclient"), "flow.bytes_toclient")
    flow_src, src, dest = flow.get("src_ip"), record.get("src_ip"), record.get("dest_ip")
    reverse = record.get("direction") == "to_client" or (
        flow_src is not None and flow_src == dest and dest != src
    )
    if reverse:
        to_server, to_client = to_client, to_server
    return {"source_bytes": to_server, "destination_bytes": to_client}


def _app_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    http = mapping(record.get("http"))
    return {
        "url_original": _url(http.get("hostname"), http.get("url")),
        "http_method": clip(http.get("http_method"), "http.http_method"),
        "http_status": to_level(http.get("status"), "http.status", high=999),
        "user_agent": clip(http.get("http_user_agent"), "http.http_user_agent"),
        "dns_question": _dns_question(mapping(record.get("dns"))),
        "tls_sni": clip(mapping(record.get("tls")).get("sni"), "tls.sni"),
        "file_path": clip(mapping(record.get("fileinfo")).get("filename"), "fileinfo.filename"),
    }


def _url(hostname: object, url: object) -> str | None:
    host = to_text(hostname, "http.hostname")
    path = to_text(url, "http.url")
    if host and path and path.startswith("/"):
        return clip(host + path, "http.url")
    return clip(path or host, "http.url")


def _dns_question(dns: Mapping[str, Any]) -> str | None:
    for key in ("query", "queries"):
        entries = dns.get(key)
        if isinstance(entries, list) and entries and isinstance(entries[0], Mapping):
            return clip(entries[0].get("rrname"), f"dns.{key}[0].rrname")
    return clip(dns.get("rrname"), "dns.rrname")


@register
class SuricataParser(GuardedJsonParser):
    """Suricata EVE JSON records (``eve.json``), alerts and the other event types."""

    name: ClassVar[str] = "suricata"
    description: ClassVar[str] = 'Suricata EVE JSON ({"event_type": "alert", "alert": {...}})'

    @classmethod
    def sniff(cls, lines: Sequence[str]) -> float:
        """Share of lines that are JSON objects with an EVE ``event_type`` and ``timestamp``."""
        return share(lines, _is_eve_line)

    def parse_record(self, obj: dict[str, Any]) -> dict[str, Any] | _Skip:
        """Columns of one EVE record; ``stats`` records are skipped.

        Raises:
            LineError: not an EVE record, or an unusable value (see :func:`eve_row`).
        """
        kind = obj.get("event_type")
        if isinstance(kind, str) and kind in _SKIPPED:
            return SKIP
        return eve_row(obj)


def _is_eve_line(line: str) -> bool:
    if '"event_type"' not in line:
        return False
    obj = loads_object(line)
    return obj is not None and is_eve(obj)
