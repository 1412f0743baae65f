"""OpenSSH ``sshd`` messages in a syslog authentication log (``auth.log``, ``secure``).

::

    Dec 10 06:55:48 LabSZ sshd[24200]: Failed password for invalid user webmaster from
    173.234.31.186 port 38926 ssh2

The header is a BSD (``Dec 10 06:55:48``) or ISO 8601 timestamp (rsyslog high precision,
journald ``short-iso``), optionally after an RFC 5424 ``<pri>1`` prefix, then the host and the
program with its pid. Every line with such a header is an event; a line without one is a dead
letter. Lines of other programs in the same file (``sudo``, ``CRON``, ``systemd-logind``) are
events with only the header fields and the message.

``sshd`` (and ``sshd-session``, OpenSSH 9.8+) messages are recognised as below; the table's
``event_action`` values are what the auth detector reads. Only the two *attempt* actions carry
an ``event_outcome``, so that the several lines sshd writes about one attempt count once.

================================================  ==================  ============  ===========
message                                           event_action        outcome       attempts
================================================  ==================  ============  ===========
``Accepted <method> for U from IP port P``        ``logon``           success       1
``Failed <method> for U from IP port P``          ``logon``           failure       1
``Failed <method> for invalid user U from ...``   ``invalid_user``    failure       1
``message repeated N times: [ Failed ... ]``      as the quoted line  failure       N
``Invalid user U from IP``                        ``invalid_user``    (none)
``Connection closed by ...``, ``Received          ``disconnect``      (none)
disconnect from ...``, ``Disconnected from ...``
``Did not receive identification string ...``     ``no_identification``
``reverse mapping checking ... BREAK-IN ...``     ``reverse_mapping_failed``
``Disconnecting: Too many authentication          ``too_many_failures``
failures``, ``maximum authentication attempts``
``pam_unix(sshd:auth): authentication failure``   ``pam_failure``     (none)
``pam_unix(sshd:session): session opened/closed`` ``session_opened`` / ``session_closed``
any other sshd message                            (none)
================================================  ==================  ============  ===========

``event_code`` is the authentication method (``password``, ``publickey``, ``none``,
``keyboard-interactive/pam``); ``host_name`` the syslog host (the server attacked);
``source_ip``/``source_port`` the client; ``event_category`` is ``authentication`` for sshd
lines; ``auth_attempts`` is set only for ``message repeated`` lines (null means one).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, ClassVar, Final

import polars as pl

from .._syslog import BSD_TS, ISO_TS, parse_syslog_time
from .._values import share, to_ip, to_port
from .._year import SyslogYear
from ..base import EVENT_SCHEMA, LineError, LineParser, ParsedChunk, register
from ._fast import COLUMNS, fast_rows

__all__ = ["OpenSshParser"]

_HEADER: Final = re.compile(
    rf"(?:<[0-9]{{1,3}}>(?:1 )?)?(?:(?P<bsd>{BSD_TS})|(?P<iso>{ISO_TS})) +"
    r"(?P<host>[^ :\[]+) +(?P<prog>[A-Za-z0-9_./()-]+)(?:\[(?P<pid>[0-9]+)\])?: ?"
)
_CACHE: Final = 65_536
_SSHD: Final = frozenset({"sshd", "sshd-session"})
_AUTH_PROGRAMS: Final = _SSHD | {"sudo", "su", "CRON", "cron", "systemd-logind", "login"}
_IP: Final = r"(?P<ip>[0-9A-Fa-f:.]+)"
_PORT: Final = r"(?: port (?P<port>[0-9]+))?"
_ATTEMPT: Final = re.compile(
    rf"(?P<verb>Accepted|Failed) (?P<method>[^ ]+) for (?P<invalid>invalid user )?(?P<user>.*?)"
    rf" from {_IP}{_PORT}(?: ssh2)?(?:: .*)?$"
)
_REPEATED: Final = re.compile(r"message repeated (?P<n>[0-9]+) times: \[ ?(?P<inner>.*?) ?\]$")
_NOTICES: Final = (
    (re.compile(rf"^Invalid user (?P<user>.*?) from {_IP}{_PORT}$"), "invalid_user"),
    (
        re.compile(
            rf"^(?:Connection closed by|Disconnected from|Connection reset by)"
            rf"(?: (?:authenticating|invalid) user (?P<user>[^ ]*))? {_IP}{_PORT}"
        ),
        "disconnect",
    ),
    (re.compile(rf"^Received disconnect from {_IP}{_PORT}:"), "disconnect"),
    (re.compile(rf"^Did not receive identification string from {_IP}{_PORT}"), "no_identification"),
    (
        re.compile(r"^reverse mapping checking getaddrinfo for [^ ]+ \[(?P<ip>[^\]]+)\] failed"),
        "reverse_mapping_failed",
    ),
    (
        re.compile(
            r"^(?:Disconnecting: Too many authentication failures for"
            r"|error: maximum authentication attempts exceeded for)"
            rf" (?:invalid user )?(?P<user>[^ ]*)(?: from {_IP}{_PORT})?"
        ),
        "too_many_failures",
    ),
    (
        re.compile(
            r"^pam_unix\(sshd:auth\): authentication failure;.*?(?: user=(?P<user>[^ ]+))? *$"
        ),
        "pam_failure",
    ),
    (re.compile(r"^PAM [0-9]+ more authentication failures?;"), "pam_failure"),
    (
        re.compile(r"^pam_unix\(sshd:session\): session opened for user (?P<user>[^ ]+)"),
        "session_opened",
    ),
    (
        re.compile(r"^pam_unix\(sshd:session\): session closed for user (?P<user>[^ ]+)"),
        "session_closed",
    ),
)


@register
class OpenSshParser(LineParser):
    """OpenSSH ``sshd`` lines of a syslog auth log (see the module docstring for the mapping).

    Args:
        year: Year for syslog timestamps that carry none; when None, each one's year is inferred
            (:class:`~siem_consensus.parsers._year.SyslogYear`: the latest year that puts it at
            most a day after the time of the run).
    """

    name: ClassVar[str] = "openssh"
    description: ClassVar[str] = "OpenSSH sshd lines of a syslog auth.log / secure file"

    def __init__(self, year: int | None = None) -> None:
        self.year: int | SyslogYear = SyslogYear() if year is None else year
        # Auth logs repeat themselves (one bot, many lines a second): valid timestamps and
        # addresses are parsed once. Bounded: cleared when full.
        self._times: dict[str, datetime | None] = {}
        self._ips: dict[str, str | None] = {}

    def parse_chunk(self, lines: Sequence[str], first_line: int, source: str) -> ParsedChunk:
        """Common sshd lines vectorised (:mod:`._fast`), the rest line by line."""

        def slow(numbered: list[tuple[int, str]]) -> tuple[list[dict[str, Any]], Any, int]:
            return self.parse_numbered(numbered, source)

        fast, rows, dead, skipped = fast_rows(lines, first_line, self.year, slow)
        schema = {name: EVENT_SCHEMA[name] for name in COLUMNS}
        data = {name: [row.get(name) for row in rows] for name in COLUMNS}
        frame = pl.concat([fast, pl.DataFrame(data, schema=schema)]).sort("line")
        frame = frame.with_columns(
            *(
                pl.lit(None, dtype).alias(name)
                for name, dtype in EVENT_SCHEMA.items()
                if name not in schema and name != "dataset"
            ),
            pl.lit(self.name, pl.String).alias("dataset"),
        ).select(list(EVENT_SCHEMA))
        return ParsedChunk(frame, dead, skipped)

    def _time(self, bsd: str | None, iso: str | None) -> datetime | None:
        key = bsd or iso
        if key is None:
            return None
        if key not in self._times:
            if len(self._times) >= _CACHE:
                self._times.clear()
            self._times[key] = parse_syslog_time(bsd, iso, self.year)
        return self._times[key]

    def _ip(self, text: str | None) -> str | None:
        if text is None:
            return None
        if text not in self._ips:
            if len(self._ips) >= _CACHE:
                self._ips.clear()
            self._ips[text] = to_ip(text, "source address")
        return self._ips[text]

    @classmethod
    def sniff(cls, lines: Sequence[str]) -> float:
        """Share of syslog lines written by sshd or another login program (sudo, CRON, ...).

        At least one of them must be sshd's: an auth.log without sshd is not this format.
        """
        programs = [_program(line) for line in lines]
        if not any(p in _SSHD for p in programs):
            return 0.0
        return share(lines, lambda line: _program(line) in _AUTH_PROGRAMS)

    def parse_line(self, line: str) -> dict[str, Any]:
        """Parse one syslog line.

        Raises:
            LineError: no syslog header, or an address, port or timestamp that is not valid.
        """
        header = _HEADER.match(line)
        if header is None:
            raise LineError("not a syslog line (expected 'MMM dd hh:mm:ss host program[pid]:')")
        message = line[header.end() :].strip()
        row: dict[str, Any] = {
            "timestamp": self._time(header["bsd"], header["iso"]),
            "host_name": header["host"],
            "message": message,
        }
        if header["prog"] in _SSHD:
            row["event_category"] = "authentication"
            row.update(_sshd(message, self._ip))
        return row


def _program(line: str) -> str | None:
    match = _HEADER.match(line) if len(line) < 65_536 else None
    return match["prog"] if match else None


def _sshd(message: str, ip: Callable[[str | None], str | None]) -> dict[str, Any]:
    """Columns from an sshd message (empty when sshd said something else)."""
    attempts = None
    repeated = _REPEATED.match(message)
    if repeated is not None:
        attempts = int(repeated["n"])
        if not 1 <= attempts <= 1_000_000:
            raise LineError(f"message repeated {repeated['n']} times is out of range")
        message = repeated["inner"]
    attempt = _ATTEMPT.match(message)
    if attempt is not None:
        return {
            "event_action": "invalid_user" if attempt["invalid"] else "logon",
            "event_outcome": "success" if attempt["verb"] == "Accepted" else "failure",
            "event_code": attempt["method"],
            "user_name": attempt["user"] or None,
            "source_ip": ip(attempt["ip"]),
            "source_port": to_port(attempt["port"], "port"),
            "auth_attempts": attempts,
        }
    for pattern, action in _NOTICES:
        match = pattern.match(message)
        if match is not None:
            return _notice(match, action, ip)
    return {}


def _notice(
    match: re.Match[str], action: str, ip: Callable[[str | None], str | None]
) -> dict[str, Any]:
    groups = match.groupdict()
    return {
        "event_action": action,
        "user_name": groups.get("user") or None,
        "source_ip": ip(groups.get("ip") or None),
        "source_port": to_port(groups.get("port"), "port"),
    }
