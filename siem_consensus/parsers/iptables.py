"""Linux netfilter (iptables / nftables / ufw) kernel log lines.

::

    Jan 18 14:23:45 web01 kernel: [12345.678] IPTABLES-DROP: IN=eth0 OUT= MAC=... SRC=1.2.3.4
    DST=10.0.0.1 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=54321 DF PROTO=TCP SPT=4444 DPT=22 ...

The syslog header is optional (``dmesg`` output has none) and may carry a BSD or ISO 8601
(journald ``short-iso``) timestamp. The text between ``kernel:`` (and the ``[uptime]``) and
``IN=`` is the rule's log prefix: it becomes ``rule_name`` and its words give the action
(DROP/DENY/BLOCK -> ``deny``, REJECT -> ``reject``, ACCEPT/ALLOW/PASS -> ``allow``, otherwise
``log``). ``LEN`` (the IP packet length) becomes ``source_bytes``. In ICMP errors the quoted
packet (``[SRC=... DST=...]``) is ignored: the first ``SRC``/``DST`` are the outer header.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar, Final

from ._syslog import BSD_TS, ISO_TS, parse_syslog_time
from ._values import share, to_count, to_ip, to_port
from ._year import SyslogYear
from .base import LineError, LineParser, register

__all__ = ["IptablesParser"]

_HEADER: Final = re.compile(
    rf"(?:<[0-9]{{1,3}}>(?:1 )?)?(?:(?P<bsd>{BSD_TS})|(?P<iso>{ISO_TS})) +"
    r"(?:(?P<host>[^ ]+) +)?kernel(?:\[[0-9]+\])?: *"
)
_UPTIME: Final = re.compile(r"\[ *[0-9]+\.[0-9]+\] *")
_IN: Final = re.compile(r"(?:^|(?<= ))IN=[^ ]* ")
_SNIFF: Final = re.compile(r"(?:^| )IN=[^ ]* OUT=[^ ]* .*SRC=[^ ]+ DST=[^ ]+")
_WORDS: Final = {
    "deny": ("DROP", "DROPPED", "DENY", "DENIED", "BLOCK", "BLOCKED"),
    "reject": ("REJECT", "REJECTED"),
    "allow": ("ACCEPT", "ACCEPTED", "ALLOW", "ALLOWED", "PASS"),
}
_ACTIONS: Final = {word: action for action, words in _WORDS.items() for word in words}


@register
class IptablesParser(LineParser):
    """Netfilter kernel log lines (``IN=... OUT=... SRC=... DST=... PROTO=...``).

    Args:
        year: Year for syslog timestamps that carry none; when None, each one's year is inferred
            (:class:`~siem_consensus.parsers._year.SyslogYear`: the latest year that puts it at
            most a day after the time of the run).
    """

    name: ClassVar[str] = "iptables"
    description: ClassVar[str] = "Linux netfilter/iptables/ufw kernel log (IN= OUT= SRC= DST=)"

    def __init__(self, year: int | None = None) -> None:
        self.year: int | SyslogYear = SyslogYear() if year is None else year

    @classmethod
    def sniff(cls, lines: Sequence[str]) -> float:
        """Share of lines with the ``IN= OUT= ... SRC= DST=`` netfilter fields."""
        return share(lines, _SNIFF.search)

    def parse_line(self, line: str) -> dict[str, Any]:
        """Parse one netfilter line.

        Raises:
            LineError: no ``IN=`` field, a required field missing or a value unusable.
        """
        header = _HEADER.match(line)
        rest = line[header.end() :] if header else line
        uptime = _UPTIME.match(rest)
        rest = rest[uptime.end() :] if uptime else rest
        start = _IN.search(rest)
        if start is None:
            raise LineError("not a netfilter log line (no 'IN=<interface> ' field)")
        prefix = rest[: start.start()].strip(" :[]") or None
        fields = _fields(rest[start.start() :])
        for key in ("SRC", "DST", "PROTO"):
            if key not in fields:
                raise LineError(f"netfilter line truncated: no {key}= field")
        transport = fields["PROTO"].lower()
        return {
            "timestamp": parse_syslog_time(
                header["bsd"] if header else None, header["iso"] if header else None, self.year
            ),
            "event_action": _action(prefix),
            "source_ip": to_ip(fields["SRC"], "SRC"),
            "source_port": to_port(fields.get("SPT"), "SPT"),
            "destination_ip": to_ip(fields["DST"], "DST"),
            "destination_port": to_port(fields.get("DPT"), "DPT"),
            "network_transport": transport,
            "source_bytes": to_count(fields.get("LEN"), "LEN"),
            "rule_name": prefix,
            "host_name": header["host"] if header else None,
            "message": rest.strip(" "),
        }


def _fields(text: str) -> dict[str, str]:
    """``KEY=value`` tokens up to a quoted ``[...]`` packet; flags (``DF``, ``SYN``) are dropped."""
    fields: dict[str, str] = {}
    for token in text.split(" "):
        if token.startswith("["):
            break
        key, sep, value = token.partition("=")
        if sep and key.isalpha() and key.isupper():
            fields.setdefault(key, value)
    return fields


def _action(prefix: str | None) -> str:
    """Action named by the log prefix words (``IPTABLES-DROP``, ``[UFW BLOCK]``), else ``log``."""
    for word in re.split(r"[^A-Za-z]+", prefix or ""):
        action = _ACTIONS.get(word.upper())
        if action:
            return action
    return "log"
