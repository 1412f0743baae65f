"""Snort / Suricata ``fast.log`` alert lines (``alert_fast``).

::

    03/25/2017-16:49:58.856335  [**] [1:2000355:5] ET CHAT IRC authorization message [**]
    [Classification: Misc activity] [Priority: 3] {TCP} 84.92.227.177:6668 -> 10.192.19.6:57966

(one line). Variants read: Snort's year-less ``03/25-16:49:58.856335`` (the year comes from the
``year`` constructor argument, or is inferred: the latest year that puts the date at most a day
after the time of the run, see :mod:`._year`) and ``snort -y``'s two-digit
``03/25/17-...``; an action before the first ``[**]`` (Suricata IPS ``[Drop]``, ``[wDrop]``,
Snort 3 ``[drop]``...); a quoted message (Snort 3); no ``[Classification: ...]`` or
``[Priority: ...]``; extra bracket groups before the protocol (Snort 3 ``[AppID: ...]``).
Timestamps are the sensor's local time: UTC unless ``--timezone`` (``timezone=``) names the
sensor's zone.

Mapping: ``rule_id`` = the signature id (sid) alone; ``event_code`` = ``gid:sid:rev`` as printed
(the gid tells preprocessor/decoder alerts apart, the rev the rule version);
``rule_name`` = the message; ``rule_category`` = the classification; ``event_severity`` = the
priority as printed (1 = most severe, not rescaled); ``network_transport`` = the protocol,
lower-cased. ``event_action``: ``[Drop]``/``[drop]``/``[sdrop]``/``[block]``/``[reject]`` ->
``blocked``, anything else (no action, ``[wDrop]`` "would drop", ``[alert]``) -> ``allowed``,
like EVE's ``alert.action``.

Addresses: ``1.2.3.4:80``; no port (Snort ICMP); ``[2001:db8::1]:80``. IPv6 with a port is
printed without brackets. Suricata writes all eight groups (``2001:0db8:...:0001:80``), so a
ninth group is the port. Snort writes the compressed form (``2001:db8::1:80``), which is
ambiguous: for protocols with ports (TCP, UDP, SCTP) the last group is taken as the port when
what precedes it is still an address; for the others the whole text is the address. ICMP "ports"
(Suricata prints the ICMP type and code there) are dropped. Suricata decoder-event alerts go on
over several lines (``[Raw pkt: ...]`` hex dumps): those lines are dead letters, and so is any
line over 8,192 characters (Suricata caps an alert line at 2 KB; the limit bounds regex work).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Final

from ._ids_common import lower, scrub, to_ip, to_level
from ._values import share, to_port
from ._year import SyslogYear, year_for
from ._zone import wall_to_utc
from .base import LineError, LineParser, register

__all__ = ["FastLogParser"]

_TS: Final = (
    r"(?P<mo>[0-9]{2})/(?P<d>[0-9]{2})(?:/(?P<y>[0-9]{4}|[0-9]{2}))?-"
    r"(?P<h>[0-9]{2}):(?P<mi>[0-9]{2}):(?P<s>[0-9]{2})(?:\.(?P<f>[0-9]{1,9}))?"
)
_LINE: Final = re.compile(
    _TS + r" +(?:\[(?P<action>[A-Za-z]+)\] +)?\[\*\*\] +"
    r"\[(?P<gid>[0-9]+):(?P<sid>[0-9]+):(?P<rev>[0-9]+)\] (?P<msg>.*?) ?\[\*\*\]"
    r"(?: +\[Classification: *(?P<cls>[^\]]*)\])?(?: +\[Priority: *(?P<prio>[0-9]+)\])?"
    r"(?: +\[[^\]{}]*\])* +\{(?P<proto>[^}]*)\} +(?P<src>[^ ]+) +-> +(?P<dst>[^ ]+) *"
)
_SNIFF: Final = re.compile(_TS + r" +(?:\[[A-Za-z]+\] +)?\[\*\*\] +\[[0-9]+:[0-9]+:[0-9]+\]")
_BLOCKED: Final = frozenset({"drop", "sdrop", "block", "reject"})
_PORTED: Final = frozenset({"tcp", "udp", "sctp"})
_ICMP: Final = frozenset({"icmp", "ipv6-icmp", "icmpv6", "icmp6"})
_MAX_CHARS: Final = 8192


@register
class FastLogParser(LineParser):
    """Snort / Suricata ``fast.log`` alert lines (``[**] [gid:sid:rev] msg [**] ...``).

    Args:
        year: Year for Snort timestamps that carry none; inferred per time stamp when None.
    """

    name: ClassVar[str] = "fastlog"
    description: ClassVar[str] = "Snort/Suricata fast.log alerts ([**] [1:2000355:5] msg [**])"

    def __init__(self, year: int | None = None) -> None:
        self.year: int | SyslogYear = SyslogYear() if year is None else year

    @classmethod
    def sniff(cls, lines: Sequence[str]) -> float:
        """Share of lines that start with a fast.log timestamp and ``[**] [gid:sid:rev]``."""
        return share(lines, _SNIFF.match)

    def parse_line(self, line: str) -> dict[str, Any]:
        """Parse one alert line.

        Raises:
            LineError: not a complete fast.log alert, or an invalid date, address or port.
        """
        if len(line) > _MAX_CHARS:
            raise LineError(f"line is {len(line):,} characters; a fast.log alert is under 2 KB")
        match = _LINE.fullmatch(line.rstrip())
        if match is None:
            raise LineError(_why_not(line))
        transport = lower(match["proto"], "protocol")
        src_ip, src_port = _endpoint(match["src"], transport, "source")
        dst_ip, dst_port = _endpoint(match["dst"], transport, "destination")
        action = (match["action"] or "").lower()
        row = {
            "timestamp": self._time(match),
            "event_action": "blocked" if action in _BLOCKED else "allowed",
            "event_code": f"{match['gid']}:{match['sid']}:{match['rev']}",
            "rule_id": str(int(match["sid"])),
            "rule_name": _message(match["msg"]),
            "rule_category": (match["cls"] or "").strip() or None,
            "event_severity": to_level(match["prio"], "Priority"),
            "network_transport": transport,
            "source_ip": src_ip,
            "source_port": src_port,
            "destination_ip": dst_ip,
            "destination_port": dst_port,
        }
        return scrub(row)

    def _time(self, match: re.Match[str]) -> datetime:
        year_text = match["y"]
        micro = int((match["f"] or "0")[:6].ljust(6, "0"))
        try:
            parts = [int(match[key]) for key in ("mo", "d", "h", "mi", "s")]
            year = year_for(self.year, *parts) if year_text is None else int(year_text)
            if year_text is not None and len(year_text) == 2:
                year += 2000
            wall = datetime(year, parts[0], parts[1], parts[2], parts[3], parts[4], micro, UTC)
            return wall_to_utc(wall)
        except ValueError:
            stamp = match.string[: match.end("f") if match["f"] else match.end("s")]
            raise LineError(f"invalid fast.log timestamp {stamp!r}") from None


def _message(text: str) -> str | None:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    return text or None


def _endpoint(text: str, transport: str | None, side: str) -> tuple[str | None, int | None]:
    """Address and port of ``1.2.3.4:80``, ``1.2.3.4``, ``[v6]:80`` or Suricata's ``v6:80``."""
    address, port = _split_endpoint(text, transport in _PORTED)
    if transport in _ICMP:
        port = None  # ICMP type/code, not a port
    return to_ip(address, f"{side} address"), to_port(port, f"{side} port")


def _split_endpoint(text: str, ported: bool) -> tuple[str, str | None]:
    if text.startswith("["):
        address, _, rest = text[1:].partition("]")
        return address, rest.removeprefix(":") or None
    colons = text.count(":")
    if colons == 0:
        return text, None
    if colons == 1:
        address, port = text.split(":")
        return address, port
    head, _, tail = text.rpartition(":")
    if (ported or colons == 8) and tail.isdigit() and _is_ip(head):
        return head, tail
    return text, None


def _is_ip(text: str) -> bool:
    try:
        to_ip(text, "address")
    except LineError:
        return False
    return True


def _why_not(line: str) -> str:
    if _SNIFF.match(line) is None:
        return "not a fast.log alert (expected 'MM/DD[/YYYY]-hh:mm:ss.ffffff [**] [gid:sid:rev]')"
    if "[Raw pkt:" in line:
        return "fast.log decoder-event alert (no addresses; its packet dump follows)"
    return "fast.log alert truncated: no '{PROTO} source -> destination' after the message"
