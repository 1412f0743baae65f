"""CICFlowMeter flow CSV (the CIC-IDS2017 / CSE-CIC-IDS2018 datasets).

The header row gives the column order (it is a skipped line, as is a repeated header). Header
names vary across CICFlowMeter versions in case, spaces and wording (``Src IP`` / ``Source IP``,
``Dst Port`` / ``Destination Port``, ``Total Length of Fwd Packets`` / ``TotLen Fwd Pkts``); they
are compared lower-cased with everything but letters and digits removed.

Mapping: protocol number 6/17/1/58 -> tcp/udp/icmp/ipv6-icmp (others kept as the number),
``Total Length of Fwd/Bwd Packet(s)`` -> source/destination bytes, ``event_action`` ``flow``.
Timestamps: ``2017-07-07 17:51:49.618008`` (ISO) or ``7/7/2017 5:51[:49] [PM]`` (month first,
as in CIC-IDS2017; day first when the first number is over 12, as in ``14/02/2018``); they are
local capture times: UTC unless ``--timezone`` (``timezone=``) names the capture's zone (an
ISO time with an offset keeps it). The ``Label`` column is deliberately not read: evaluation
code reads labels separately, so a detector never sees the answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Final

from ._syslog import parse_iso
from ._values import to_count, to_ip, to_port
from ._zone import wall_to_utc
from .base import MAX_LINE_CHARS, SKIP, LineError, LineParser, _Skip, register

__all__ = ["CicFlowMeterParser"]

_ALIASES: Final = {
    "source_ip": ("srcip", "sourceip"),
    "source_port": ("srcport", "sourceport"),
    "destination_ip": ("dstip", "destinationip"),
    "destination_port": ("dstport", "destinationport"),
    "protocol": ("protocol",),
    "timestamp": ("timestamp",),
    "source_bytes": ("totallengthoffwdpacket", "totallengthoffwdpackets", "totlenfwdpkts"),
    "destination_bytes": ("totallengthofbwdpacket", "totallengthofbwdpackets", "totlenbwdpkts"),
}
_PROTOCOLS: Final = {"6": "tcp", "17": "udp", "1": "icmp", "58": "ipv6-icmp"}
_SLASHED: Final = re.compile(
    r"(?P<a>[0-9]{1,2})/(?P<b>[0-9]{1,2})/(?P<y>[0-9]{4}) (?P<h>[0-9]{1,2}):(?P<m>[0-9]{2})"
    r"(?::(?P<s>[0-9]{2})(?:\.(?P<f>[0-9]{1,6}))?)?(?: ?(?P<ampm>[AaPp][Mm]))?"
)
_INTEGRAL: Final = re.compile(r"([0-9]+)\.0*")
_HEADER_HINT: Final = re.compile(r"(?i)flow[ _]?duration")


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _header_columns(line: str) -> dict[str, int] | None:
    """Column index per event field if ``line`` is a CICFlowMeter header row, else None."""
    if _HEADER_HINT.search(line) is None:
        return None
    names = [_normalise(name) for name in line.split(",")]
    if "flowduration" not in names or "protocol" not in names:
        return None
    columns = {}
    for field, aliases in _ALIASES.items():
        for alias in aliases:
            if alias in names:
                columns[field] = names.index(alias)
                break
    return columns


@register
class CicFlowMeterParser(LineParser):
    """CICFlowMeter CSV rows, columns located by the header row."""

    name: ClassVar[str] = "cicflowmeter"
    description: ClassVar[str] = "CICFlowMeter flow CSV (CIC-IDS2017 style, header row required)"

    def __init__(self) -> None:
        self.columns: dict[str, int] | None = None
        self.width = 0

    @classmethod
    def sniff(cls, lines: Sequence[str]) -> float:
        """Share of lines that are the header row or rows of the header's width (0 without it)."""
        width = 0
        recognised = 0
        for line in lines:
            if len(line) > MAX_LINE_CHARS:
                continue
            if _header_columns(line) is not None:
                width = line.count(",")
                recognised += 1
            elif width and line.count(",") == width:
                recognised += 1
        return recognised / len(lines) if lines else 0.0

    def parse_line(self, line: str) -> dict[str, Any] | _Skip:
        """Parse one flow row; a header row (re)defines the columns and is skipped.

        Raises:
            LineError: a row before any header, a short row or an unusable value.
        """
        header = _header_columns(line)
        if header is not None:
            self.columns, self.width = header, line.count(",") + 1
            return SKIP
        if self.columns is None:
            raise LineError("CICFlowMeter row before any header row (the header gives the columns)")
        values = line.split(",")
        if len(values) < self.width:
            raise LineError(
                f"CICFlowMeter row truncated: {len(values)} fields, header has {self.width}"
            )
        return self._row({field: values[index].strip() for field, index in self.columns.items()})

    def _row(self, raw: dict[str, str]) -> dict[str, Any]:
        protocol = raw.get("protocol", "")
        return {
            "timestamp": _time(raw["timestamp"]) if raw.get("timestamp") else None,
            "event_action": "flow",
            "source_ip": to_ip(raw.get("source_ip"), "Src IP"),
            "source_port": to_port(raw.get("source_port"), "Src Port"),
            "destination_ip": to_ip(raw.get("destination_ip"), "Dst IP"),
            "destination_port": to_port(raw.get("destination_port"), "Dst Port"),
            "network_transport": _PROTOCOLS.get(protocol, protocol or None),
            "source_bytes": to_count(_integral(raw.get("source_bytes")), "Total Length of Fwd"),
            "destination_bytes": to_count(
                _integral(raw.get("destination_bytes")), "Total Length of Bwd"
            ),
        }


def _integral(text: str | None) -> str | None:
    """``70.0`` (some CICFlowMeter versions write counters as floats) -> ``70``."""
    match = _INTEGRAL.fullmatch(text or "")
    return match[1] if match else text


def _time(text: str) -> datetime:
    """CICFlowMeter timestamp, ISO or ``M/D/YYYY h:mm[:ss] [AM|PM]`` (see the module docstring)."""
    match = _SLASHED.fullmatch(text)
    if match is None:
        try:
            return parse_iso(text)
        except LineError:
            raise LineError(f"invalid CICFlowMeter timestamp {text[:40]!r}") from None
    first, second = int(match["a"]), int(match["b"])
    month, day = (second, first) if first > 12 else (first, second)
    hour = int(match["h"])
    if match["ampm"]:
        hour = hour % 12 + (12 if match["ampm"].lower() == "pm" else 0)
    micro = int((match["f"] or "0").ljust(6, "0"))
    try:
        wall = datetime(
            int(match["y"]), month, day, hour, int(match["m"]), int(match["s"] or 0), micro, UTC
        )
        return wall_to_utc(wall)
    except ValueError:
        raise LineError(f"invalid CICFlowMeter timestamp {text[:40]!r}") from None
