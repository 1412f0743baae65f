"""Palo Alto Networks PAN-OS TRAFFIC logs (syslog or plain CSV export).

::

    Oct  4 18:54:26 fw01 1,2023/10/04 18:54:26,012501002341,TRAFFIC,end,2561,2023/10/04 18:54:24,
    10.130.146.205,124.146.215.44,134.7.244.205,124.146.215.44,allow-web,corp\\alice,,ssl,vsys1,
    trust,untrust,ethernet1/23,ethernet1/24,fwd,2023/10/04 18:54:24,72568134,1,49583,443,...

Field order from the PAN-OS "Traffic Log Fields" documentation (syslog format): FUTURE_USE,
Receive Time, Serial Number, Type, Threat/Content Type, FUTURE_USE, Generated Time, Source
Address, Destination Address, NAT Source IP, NAT Destination IP, Rule Name, Source User,
Destination User, Application, Virtual System, Source Zone, Destination Zone, Inbound Interface,
Outbound Interface, Log Action, FUTURE_USE, Session ID, Repeat Count, Source Port, Destination
Port, NAT Source Port, NAT Destination Port, Flags, Protocol, Action, Bytes, Bytes Sent, Bytes
Received, Packets, ... Session End Reason (46), ..., Device Name (52).

Mapping: ``timestamp`` is the Generated Time (firewall local time: UTC unless ``--timezone``
(``timezone=``) names the firewall's zone),
``event_code`` the subtype (start, end, drop, deny), ``source_bytes``/``destination_bytes`` the
bytes sent/received, ``host_name`` the device name (else the syslog host). Actions: allow ->
``allow``; deny, drop, drop-icmp, drop-all-packets -> ``deny``; reset-client/server/both ->
``reject``. Other log types (THREAT, SYSTEM, ...) are dead letters naming the type.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Final

from ._values import share, to_count, to_ip, to_port
from ._zone import wall_to_utc
from .base import LineError, LineParser, register

__all__ = ["PaloAltoParser"]

_START: Final = re.compile(
    r"(?:^|(?<=[ >]))(?=[0-9]*,[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9:]{8},[^,]*,[A-Z]+,)"
)
_HOST: Final = re.compile(
    r"(?:<[0-9]{1,3}>)?(?:[A-Z][a-z]{2} +[0-9]{1,2} [0-9:]{8}|[^ ]+T[^ ]+) +([^ ]+) +$"
)
_TIME: Final = re.compile(r"([0-9]{4})/([0-9]{2})/([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})")
_MIN_FIELDS: Final = 34  # up to Bytes Received
_DEVICE_NAME: Final = 52
_DENY: Final = frozenset({"deny", "drop", "drop-icmp", "drop-all", "drop-all-packets"})
_RESET: Final = frozenset({"reset-client", "reset-server", "reset-both"})


@register
class PaloAltoParser(LineParser):
    """PAN-OS TRAFFIC log records, with or without a syslog header."""

    name: ClassVar[str] = "paloalto"
    description: ClassVar[str] = "Palo Alto Networks PAN-OS TRAFFIC log CSV (syslog or export)"

    @classmethod
    def sniff(cls, lines: Sequence[str]) -> float:
        """Share of lines that look like PAN-OS CSV records (any log type)."""
        return share(lines, _START.search)

    def parse_line(self, line: str) -> dict[str, Any]:
        """Parse one TRAFFIC record.

        Raises:
            LineError: not PAN-OS, another log type, or a truncated/invalid record.
        """
        prefix, values = _record(line)
        host = _HOST.match(prefix) if len(prefix) <= 256 else None
        device = values[_DEVICE_NAME] if len(values) > _DEVICE_NAME else ""
        return {
            "timestamp": _time(values[6] or values[1]),
            "event_action": _action(values[30]),
            "event_code": values[4] or None,
            "source_ip": to_ip(values[7], "Source Address"),
            "source_port": to_port(values[24], "Source Port"),
            "destination_ip": to_ip(values[8], "Destination Address"),
            "destination_port": to_port(values[25], "Destination Port"),
            "network_transport": values[29].lower() or None,
            "source_bytes": to_count(values[32], "Bytes Sent"),
            "destination_bytes": to_count(values[33], "Bytes Received"),
            "rule_name": values[11] or None,
            "user_name": values[12] or None,
            "host_name": device or (host[1] if host else None),
            "message": f"{values[14] or 'unknown app'} {values[16]}->{values[17]} {values[30]}",
        }


def _record(line: str) -> tuple[str, list[str]]:
    """The syslog prefix and the CSV fields of a TRAFFIC record.

    Raises:
        LineError: not PAN-OS, not CSV, another log type or fewer fields than a TRAFFIC record.
    """
    start = _START.search(line)
    if start is None:
        raise LineError("not a PAN-OS log record (expected '1,YYYY/MM/DD hh:mm:ss,serial,TYPE,')")
    try:
        values = next(csv.reader([line[start.start() :]]))
    except csv.Error as exc:
        raise LineError(f"PAN-OS record is not valid CSV: {exc}") from None
    if values[3] != "TRAFFIC":
        raise LineError(f"PAN-OS {values[3]} log: not a TRAFFIC record")
    if len(values) < _MIN_FIELDS:
        raise LineError(
            f"PAN-OS TRAFFIC record truncated: {len(values)} fields, expected {_MIN_FIELDS}+"
        )
    return line[: start.start()], values


def _time(text: str) -> datetime:
    match = _TIME.fullmatch(text)
    if match is None:
        raise LineError(f"invalid PAN-OS time {text[:30]!r} (expected YYYY/MM/DD hh:mm:ss)")
    try:
        year, month, day, hour, minute, second = (int(part) for part in match.groups())
        return wall_to_utc(datetime(year, month, day, hour, minute, second, tzinfo=UTC))
    except ValueError:
        raise LineError(f"invalid PAN-OS time {text!r}") from None


def _action(action: str) -> str:
    lowered = action.lower()
    if lowered in _DENY:
        return "deny"
    if lowered in _RESET:
        return "reject"
    return lowered or "unknown"
