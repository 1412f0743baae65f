"""pfSense / OPNsense ``filterlog`` CSV lines.

::

    Jan 18 14:23:45 pfsense filterlog[4242]: 5,,,1000000103,em0,match,block,in,4,0x0,,64,0,0,DF,
    6,tcp,60,45.95.168.200,10.1.50.10,52341,22,0,S,1234567890,,64240,,mss;sackOK;TS;nop;wscale

Field order from the pfSense "Raw Filter Log Format" documentation: rule number, sub rule,
anchor, tracker, real interface, reason, action (pass/block/reject), direction (in/out), IP
version; then for IPv4 TOS, ECN, TTL, ID, offset, flags, protocol id, protocol text; for IPv6
class, flow label, hop limit, protocol text, protocol id; then length, source, destination and,
for TCP/UDP (protocol 6/17), source port, destination port, data length, ...

Accepted around the CSV: a BSD syslog header (``filterlog:`` or ``filterlog[pid]:``), an RFC
5424 header (``<134>1 2024-01-18T14:23:45Z host filterlog 4242 - - ``), or nothing.
``event_action``: block -> ``deny``, pass -> ``allow``, reject -> ``reject``. ``rule_name`` is
the tracker id (unique per rule) or, without one, the rule number. ``source_bytes`` is the IP
packet length.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar, Final

from ._syslog import BSD_TS, ISO_TS, parse_syslog_time
from ._values import share, to_count, to_ip, to_port
from ._year import SyslogYear
from .base import LineError, LineParser, register

__all__ = ["PfsenseParser"]

_HEADER: Final = re.compile(
    rf"(?:<[0-9]{{1,3}}>(?:1 )?)?(?:(?:(?P<bsd>{BSD_TS})|(?P<iso>{ISO_TS})) +)?"
    r"(?:(?P<host>[^ ]+) +)?filterlog(?:\[[0-9]+\]:|:| [0-9-]+ [^ ]+ [^ ]+) *"
)
_BODY: Final = r"[0-9]*,[0-9]*,[^,]*,[0-9]*,[^,]+,[^,]*,(?:pass|block|reject),(?:in|out),[46],"
_SNIFF: Final = re.compile(rf"(?:^|filterlog[^ ]*:? (?:[0-9-]+ [^ ]+ [^ ]+ )?){_BODY}")
_ACTIONS: Final = {"block": "deny", "pass": "allow", "reject": "reject"}
# (protocol text, protocol id, length, source, destination) positions per IP version
_LAYOUT: Final = {"4": (16, 15, 17, 18, 19), "6": (12, 13, 14, 15, 16)}


@register
class PfsenseParser(LineParser):
    """pfSense ``filterlog`` lines (see the module docstring for the field order).

    Args:
        year: Year for syslog timestamps that carry none; when None, each one's year is inferred
            (:class:`~siem_consensus.parsers._year.SyslogYear`: the latest year that puts it at
            most a day after the time of the run).
    """

    name: ClassVar[str] = "pfsense"
    description: ClassVar[str] = "pfSense / OPNsense filterlog CSV (with or without syslog header)"

    def __init__(self, year: int | None = None) -> None:
        self.year: int | SyslogYear = SyslogYear() if year is None else year

    @classmethod
    def sniff(cls, lines: Sequence[str]) -> float:
        """Share of lines that are filterlog CSV (rule,sub,anchor,tracker,if,reason,action,...)."""
        return share(lines, _SNIFF.search)

    def parse_line(self, line: str) -> dict[str, Any]:
        """Parse one filterlog line.

        Raises:
            LineError: unknown action/direction/IP version, or the record is truncated.
        """
        header = _HEADER.match(line)
        values = (line[header.end() :] if header else line).split(",")
        if len(values) < 9:
            raise LineError(f"not a filterlog record: {len(values)} CSV fields, expected 9 or more")
        action, direction, version = values[6], values[7], values[8]
        if action not in _ACTIONS:
            raise LineError(f"unknown filterlog action {action[:20]!r} (pass/block/reject)")
        if direction not in ("in", "out") or version not in _LAYOUT:
            raise LineError(
                f"not a filterlog record: direction {direction[:10]!r}, IP version {version[:10]!r}"
            )
        row = _addresses(values, version)
        row.update(
            timestamp=parse_syslog_time(
                header["bsd"] if header else None, header["iso"] if header else None, self.year
            ),
            event_action=_ACTIONS[action],
            rule_name=values[3] or values[0] or None,
            host_name=header["host"] if header else None,
            message=f"{action} {direction} on {values[4]} ({values[5] or 'match'})",
        )
        return row


def _addresses(values: list[str], version: str) -> dict[str, Any]:
    """Protocol, addresses, ports and length from the IP part of the record."""
    proto_text, proto_id, length, src, dst = _LAYOUT[version]
    if len(values) <= dst:
        raise LineError(f"filterlog IPv{version} record truncated: no destination address")
    ported = values[proto_id] in ("6", "17")
    if ported and len(values) < dst + 3:
        raise LineError(f"filterlog {values[proto_text]} record truncated: no ports")
    return {
        "network_transport": values[proto_text].lower() or values[proto_id] or None,
        "source_ip": to_ip(values[src], "source address"),
        "destination_ip": to_ip(values[dst], "destination address"),
        "source_port": to_port(values[dst + 1], "source port") if ported else None,
        "destination_port": to_port(values[dst + 2], "destination port") if ported else None,
        "source_bytes": to_count(values[length], "length"),
    }
