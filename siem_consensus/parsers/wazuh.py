"""Wazuh manager alerts (``/var/ossec/logs/alerts/alerts.json``), one JSON object per line.

::

    {"timestamp": "2022-01-15T02:33:10.454+0000", "rule": {"level": 5, "id": "5716",
     "description": "sshd: authentication failed.", "groups": ["syslog", "sshd",
     "authentication_failed"]}, "agent": {"id": "001", "name": "web01"},
     "full_log": "Jan 15 02:33:10 web01 sshd[811]: Failed password for root from ...",
     "data": {"srcip": "45.95.168.200", "srcport": "52341", "dstuser": "root"},
     "location": "/var/log/auth.log"}

Mapping: ``rule.id`` -> ``rule_id``; ``rule.description`` -> ``rule_name``; ``rule.level`` ->
``event_severity`` kept on Wazuh's scale (0-16, **16 the most severe**, the opposite direction of
Suricata's); ``rule.groups`` -> ``rule_category`` joined with ``,``; ``event_code`` =
``wazuh:<rule.id>``; ``agent.name`` -> ``observer_name`` and ``host_name`` (the agent is the host
the event happened on). From ``data`` (Wazuh writes every decoded value as a string):
``srcip``/``src_ip`` -> ``source_ip``, ``dstip``/``dest_ip``/``dst_ip`` -> ``destination_ip``,
``srcport``/``src_port``, ``dstport``/``dest_port``/``dst_port`` -> ports, ``protocol``/``proto``
-> ``network_transport`` (lower-cased) unless it is an HTTP verb, which the ``web-accesslog``
decoder puts there: then ``http_method``, with ``data.id`` (the response status) ->
``http_status``; ``action`` -> ``event_action`` (lower-cased, as the decoder wrote it: ``drop``,
``accept``, ...); ``url`` -> ``url_original``; ``srcuser`` (the actor, e.g. who ran sudo) else
``dstuser`` (the account targeted, e.g. by an SSH login) else ``user`` -> ``user_name``.
``full_log`` -> ``message`` (attacker-controlled: clipped to 1,000 characters);
``syscheck.path`` (file integrity alerts) -> ``file_path``. ``location`` (the log file or
channel the agent read) has no column and is not kept. A missing ``timestamp`` leaves the
timestamp null.

Suricata alerts relayed by Wazuh (rule 86601 "Suricata: Alert - ...", decoder ``json``): when
``data`` is an EVE alert (``data.event_type == "alert"`` with a ``data.alert`` object), or
``full_log`` holds the EVE alert as JSON text, the EVE record is read with the Suricata mapping
and its values win: ``rule_id``/``rule_name``/``rule_category`` become the signature id,
signature and category, ``event_severity`` becomes **Suricata's** severity (1 = most severe),
and addresses, ports, bytes, HTTP/DNS/TLS fields and the EVE timestamp (when the packet was
seen, not when Wazuh raised the alert) come from the record. ``event_code`` stays
``wazuh:<rule.id>`` (so the severity scale is known), ``observer_name``/``host_name`` stay the
agent, and ``message`` is the EVE ``payload_printable`` when there is one, else ``full_log``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Final, TypeVar

from ._ids_common import clip, first, lower, mapping, scrub, to_ip, to_iso_time, to_level
from ._values import GuardedJsonParser, loads_object, share, to_port, to_text
from .base import LineError, register
from .suricata import eve_row

__all__ = ["WazuhParser", "is_wazuh"]

_MAX_LEVEL: Final = 16
_KEEP_WAZUH: Final = frozenset({"event_code", "observer_name", "host_name"})
_ENVELOPE: Final = ("agent", "manager", "decoder", "full_log", "location")
_HTTP_METHODS: Final = frozenset(
    {"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE", "PROPFIND"}
)
_T = TypeVar("_T")


@register
class WazuhParser(GuardedJsonParser):
    """Wazuh ``alerts.json`` records, with Suricata alerts relayed by Wazuh unwrapped."""

    name: ClassVar[str] = "wazuh"
    description: ClassVar[str] = 'Wazuh alerts.json ({"rule": {"id", "level", ...}, "agent": ...})'

    @classmethod
    def sniff(cls, lines: Sequence[str]) -> float:
        """Share of lines that are JSON objects with a Wazuh ``rule`` and alert envelope."""
        return share(lines, _is_wazuh_line)

    def parse_record(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Columns of one Wazuh alert (see the module docstring).

        Raises:
            LineError: no ``rule.id``, or a value of the wrong type or out of range.
        """
        rule = obj.get("rule")
        if not isinstance(rule, Mapping) or rule.get("id") in (None, ""):
            raise LineError("not a Wazuh alert: no rule.id")
        row = _alert_row(obj, rule)
        eve = _relayed_eve(obj)
        if eve is not None:
            row = _merge(row, eve_row(eve))
        return scrub(row)


def is_wazuh(obj: Mapping[str, Any]) -> bool:
    """Whether a decoded JSON object looks like a Wazuh alert."""
    rule = obj.get("rule")
    return (
        isinstance(rule, Mapping)
        and "id" in rule
        and ("level" in rule or "description" in rule)
        and any(key in obj for key in _ENVELOPE)
    )


def _alert_row(obj: Mapping[str, Any], rule: Mapping[str, Any]) -> dict[str, Any]:
    data = mapping(obj.get("data"))
    rule_id = to_text(rule["id"], "rule.id")
    agent = to_text(mapping(obj.get("agent")).get("name"), "agent.name")
    row = {
        "timestamp": to_iso_time(obj.get("timestamp"), "timestamp"),
        "event_code": f"wazuh:{rule_id}",
        "rule_id": rule_id,
        "rule_name": to_text(rule.get("description"), "rule.description"),
        "rule_category": _groups(rule.get("groups")),
        "event_severity": to_level(rule.get("level"), "rule.level", high=_MAX_LEVEL),
        "observer_name": agent,
        "host_name": agent,
        "source_ip": _pick(data, ("srcip", "src_ip"), to_ip),
        "source_port": _pick(data, ("srcport", "src_port"), to_port),
        "destination_ip": _pick(data, ("dstip", "dest_ip", "dst_ip"), to_ip),
        "destination_port": _pick(data, ("dstport", "dest_port", "dst_port"), to_port),
        "event_action": lower(data.get("action"), "data.action"),
        "url_original": clip(data.get("url"), "data.url"),
        "user_name": _pick(data, ("srcuser", "dstuser", "user"), to_text),
        "message": clip(obj.get("full_log"), "full_log"),
        "file_path": clip(mapping(obj.get("syscheck")).get("path"), "syscheck.path"),
    }
    row.update(_protocol(data, to_text(mapping(obj.get("decoder")).get("name"), "decoder.name")))
    return row


def _pick(
    data: Mapping[str, Any], keys: tuple[str, ...], convert: Callable[[object, str], _T]
) -> _T:
    """The first of ``keys`` present in ``data``, converted (errors name that key)."""
    for key in keys:
        value = data.get(key)
        if value is not None and value != "":
            return convert(value, f"data.{key}")
    return convert(None, f"data.{keys[0]}")


def _protocol(data: Mapping[str, Any], decoder: str | None) -> dict[str, Any]:
    """``data.protocol``: a transport, or the HTTP method (web access log decoders put it
    there, and the response status in ``data.id``)."""
    protocol = lower(first(data, "protocol", "proto"), "data.protocol")
    if protocol is not None and protocol.upper() in _HTTP_METHODS:
        status = data.get("id") if decoder == "web-accesslog" else None
        return {
            "http_method": protocol.upper(),
            "http_status": to_level(status, "data.id", high=999),
        }
    return {"network_transport": protocol}


def _groups(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value or None
    if isinstance(value, list) and all(isinstance(group, str) for group in value):
        return ",".join(value) or None
    raise LineError(f"rule.groups must be a list of strings, got {str(value)[:60]!r}")


def _relayed_eve(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The Suricata EVE alert this Wazuh alert relays, from ``data`` or ``full_log``."""
    data = obj.get("data")
    if isinstance(data, Mapping) and _is_eve_alert(data):
        return data
    full_log = obj.get("full_log")
    if isinstance(full_log, str) and '"event_type"' in full_log:
        decoded = loads_object(full_log)
        if decoded is not None and _is_eve_alert(decoded):
            return decoded
    return None


def _is_eve_alert(record: Mapping[str, Any]) -> bool:
    return record.get("event_type") == "alert" and isinstance(record.get("alert"), Mapping)


def _merge(row: dict[str, Any], eve: dict[str, Any]) -> dict[str, Any]:
    for key, value in eve.items():
        if value is not None and key not in _KEEP_WAZUH:
            row[key] = value
    return row


def _is_wazuh_line(line: str) -> bool:
    if '"rule"' not in line:
        return False
    obj = loads_object(line)
    return obj is not None and is_wazuh(obj)
