"""Zeek logs: what every Zeek parser shares, with one hook per log type (:class:`ZeekLog`).

A Zeek log says what it is: the TSV header names it (``#path http``) and lists its columns
(``#fields``); a JSON record has its log type's field set (an http record has ``method`` and
``uri``, an ssh record ``auth_attempts``). :func:`log_type` reads either, so that a parser
reads only its own log type: a Zeek log of a type no parser reads (http, ssl, files, weird,
x509, ...) is not taken for a conn.log, and :func:`unread_zeek_log` names it for the "not
read" message.

To read a log type, declare a :class:`ZeekLog` (its name, default columns, the first columns
of a row, and the function that turns a record into event columns) and subclass
:class:`ZeekTsvLog` and :class:`ZeekJsonLog` with ``log`` set to it. The modules of the log
types must not import each other: the ssh and dns parsers register before the conn parser,
which reads any Zeek log of no recognisable type.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Final

from ._syslog import parse_iso
from ._values import GuardedJsonParser, flatten, loads_object, parse_epoch, share
from .base import PARSERS, SKIP, LineError, LineParser, _Skip

__all__ = [
    "DIRECTIVE",
    "ZeekJsonLog",
    "ZeekLog",
    "ZeekTsv",
    "ZeekTsvLog",
    "log_type",
    "unread_zeek_log",
    "zeek_time",
]

DIRECTIVE: Final = re.compile(
    r"#(?:separator|set_separator|empty_field|unset_field|path|open"
    r"|fields|types|close)\b"
)

_CONN_ONLY: Final = frozenset(
    ("conn_state", "history", "orig_pkts", "resp_pkts", "orig_ip_bytes", "resp_ip_bytes")
    + ("missed_bytes", "tunnel_parents")
)
_DNS_ONLY: Final = frozenset(("rcode", "rcode_name", "qtype", "qtype_name", "trans_id"))
_OTHERS: Final = {
    "http": frozenset(("method", "uri", "status_code", "trans_depth", "user_agent")),
    "ssl": frozenset(("server_name", "cipher", "ssl_history", "resumed", "established")),
    "x509": frozenset(("certificate.version", "certificate.subject", "san.dns")),
    "files": frozenset(("mime_type", "seen_bytes", "total_bytes", "missing_bytes", "analyzers")),
    "weird": frozenset(("addl", "notice", "peer")),
    "notice": frozenset(("note", "msg", "actions", "suppress_for")),
    "dhcp": frozenset(("mac", "assigned_addr", "lease_time", "msg_types")),
    "smtp": frozenset(("mailfrom", "rcptto", "helo")),
    "ftp": frozenset(("command", "reply_code", "reply_msg")),
}
"""Fields of Zeek's default logs that no log type read here has (to name a log's type)."""
_ZEEK_IDS: Final = frozenset(("uid", "fuid", "id", "id.orig_h", "_path"))


def log_type(names: Collection[str], path: str | None = None) -> str | None:
    """The Zeek log type (``conn``, ``dns``, ``ssh``, ``http``, ...) of a header or record.

    Args:
        names: The ``#fields`` of a TSV log, or the (flattened) keys of a JSON record.
        path: The ``#path`` line's value, or a JSON record's ``_path``. It decides when it
            names a known log type (``conn``, ``conn_long`` and ``conn-internal`` are conn
            logs); a path of another name (a custom filter's) leaves it to the fields.

    Returns:
        The type, the unknown ``path`` when the fields tell nothing either, or None.
    """
    for known in ("conn", "dns", "ssh", *_OTHERS):
        if path is not None and (path == known or path.startswith((known + "_", known + "-"))):
            return known
    fields = set(names)
    if "auth_success" in fields or "auth_attempts" in fields:
        return "ssh"
    if "query" in fields and fields & _DNS_ONLY:
        return "dns"
    if fields & _CONN_ONLY:
        return "conn"
    other = next((kind for kind, only in _OTHERS.items() if fields & only), None)
    return other or path or None


def zeek_time(value: object) -> datetime:
    """``ts`` as epoch seconds (number or numeric text) or an ISO 8601 string."""
    if isinstance(value, str) and not re.fullmatch(r"-?[0-9]+(?:\.[0-9]*)?", value):
        try:
            return parse_iso(value)
        except LineError:
            raise LineError(f"ts is neither epoch seconds nor ISO 8601: {value[:40]!r}") from None
    return parse_epoch(value, "ts")


def _unescape(text: str) -> str:
    """Zeek writes the separator as ``\\x09``."""
    return re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m[1], 16)), text)


class ZeekTsv:
    """The state of one TSV log: separator, path, column names and null markers from its header.

    Args:
        default_fields: Column order when the file has no ``#fields`` line.
    """

    def __init__(self, default_fields: Sequence[str]) -> None:
        self.separator = "\t"
        self.fields: list[str] = list(default_fields)
        self.nulls = {"-", "(empty)"}
        self.header = False
        self.path: str | None = None

    def directive(self, line: str) -> None:
        """Take a ``#`` line: ``#separator``, ``#path``, ``#fields``, ``#empty_field``, ...."""
        if line.startswith("#separator "):
            self.separator = _unescape(line[len("#separator ") :]) or "\t"
            return
        name, _, value = line[1:].partition(self.separator)
        if name == "fields":
            self.fields = value.split(self.separator)
            self.header = True
        elif name == "path":
            self.path = value.strip()
        elif name in ("empty_field", "unset_field"):
            self.nulls.add(value)

    def log_type(self) -> str | None:
        """The log type the header names (:func:`log_type`); None before a header line."""
        return log_type(self.fields if self.header else (), self.path)

    def record(self, line: str, *, headerless: str | None = None) -> dict[str, str]:
        """One row as ``{field: value}`` without the null markers.

        Raises:
            LineError: fewer values than fields (``headerless`` is the reason given when the
                file had no ``#fields`` line).
        """
        values = line.split(self.separator)
        if len(values) < len(self.fields):
            if headerless is not None and not self.header:
                raise LineError(headerless.format(found=len(values), expected=len(self.fields)))
            raise LineError(
                f"Zeek row truncated: {len(values)} fields, #fields declares {len(self.fields)}"
            )
        return {
            name: value
            for name, value in zip(self.fields, values, strict=False)
            if value not in self.nulls
        }


@dataclass(frozen=True)
class ZeekLog:
    """One Zeek log type as its parsers read it (the hook of :class:`ZeekTsvLog`/``JsonLog``).

    Attributes:
        name: Zeek's name of the log type (``conn``: ``conn.log``, ``#path conn``).
        default_fields: Column order of a TSV file without a ``#fields`` line.
        row: Event columns from one record (dotted names, nulls removed); raises
            :class:`~.base.LineError` for a record it cannot use.
        row_start: For the one type that also reads Zeek logs of no recognisable type (rows
            without a header, a header with no telling columns, JSON records with only the
            common fields): what its TSV rows start with. None: only logs that name this type.
        headerless: Reason for a short row in a file without ``#fields`` (``{found}`` and
            ``{expected}`` are filled in); the plain "truncated" reason when None.
    """

    name: str
    default_fields: tuple[str, ...]
    row: Callable[[Mapping[str, Any]], dict[str, Any]]
    row_start: re.Pattern[str] | None = None
    headerless: str | None = None

    def reads(self, kind: str | None) -> bool:
        """Whether a log of type ``kind`` (None: not recognisable) is this one's to read."""
        return kind == self.name or (kind is None and self.row_start is not None)


def _readers(kind: str) -> list[str]:
    """The registered formats that read Zeek logs of type ``kind``."""
    return sorted(
        fmt
        for fmt, cls in PARSERS.items()
        if issubclass(cls, ZeekTsvLog | ZeekJsonLog) and cls.log.name == kind
    )


def _wrong_type(kind: str, own: ZeekLog) -> LineError:
    readers = _readers(kind)
    hint = f"read it as {' or '.join(readers)}" if readers else "no parser here reads that type"
    return LineError(f"a record of a Zeek {kind}.log, not of a {own.name}.log: {hint}")


class ZeekTsvLog(LineParser):
    """A Zeek log type in its native TSV format; set ``log`` (and ``name``, ``description``).

    ``#separator``, ``#path``, ``#fields``, ``#empty_field`` and ``#unset_field`` are honoured
    and every ``#`` line is a skipped line; rows may carry extra trailing columns; a row shorter
    than the header is a dead letter, and so is every row of a file whose header names another
    log type (the format was forced on it).
    """

    log: ClassVar[ZeekLog]

    def __init__(self) -> None:
        self.tsv = ZeekTsv(self.log.default_fields)

    @classmethod
    def sniff(cls, lines: Sequence[str]) -> float:
        """1 when the sample's header names this log type; 0 when it names another; without
        a telling header, the share of rows that look like this type's (``row_start``)."""
        header = ZeekTsv(())
        for line in lines:
            if line.startswith("#"):
                header.directive(line)
        kind = header.log_type()
        if kind is not None:
            return 1.0 if cls.log.reads(kind) else 0.0
        row = cls.log.row_start
        if row is None:
            return 0.0
        return share(lines, lambda line: DIRECTIVE.match(line) or row.match(line))

    def parse_line(self, line: str) -> dict[str, Any] | _Skip:
        """Parse one row, or take a ``#`` directive (skipped).

        Raises:
            LineError: a row shorter than the header, with unusable values, or of a file whose
                header names another log type.
        """
        if line.startswith("#"):
            self.tsv.directive(line)
            return SKIP
        kind = self.tsv.log_type()
        if not self.log.reads(kind) and kind is not None:
            raise _wrong_type(kind, self.log)
        return self.log.row(self.tsv.record(line, headerless=self.log.headerless))


class ZeekJsonLog(GuardedJsonParser):
    """A Zeek log type as JSON lines (``LogAscii::use_json=T``); set ``log``.

    Records are flattened (``"id": {"orig_h": ...}`` is ``id.orig_h``) and null values dropped;
    a record of another log type (by its ``_path`` or its fields) is a dead letter.
    """

    log: ClassVar[ZeekLog]

    @classmethod
    def sniff(cls, lines: Sequence[str]) -> float:
        """Share of lines that are Zeek JSON records (with ``id.orig_h``) of this log type."""

        def recognise(line: str) -> bool:
            obj = loads_object(line)
            if obj is None:
                return False
            flat = flatten(obj)
            return "id.orig_h" in flat and cls.log.reads(_record_type(flat))

        return share(lines, recognise)

    def parse_record(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Columns of one record (flat ``id.orig_h`` or nested ``id``).

        Raises:
            LineError: unusable values, or a record of another log type.
        """
        flat = {key: value for key, value in flatten(obj).items() if value is not None}
        kind = _record_type(flat)
        if not self.log.reads(kind) and kind is not None:
            raise _wrong_type(kind, self.log)
        return self.log.row(flat)


def _record_type(flat: Mapping[str, Any]) -> str | None:
    path = flat.get("_path")
    return log_type(flat, path if isinstance(path, str) else None)


def unread_zeek_log(lines: Sequence[str]) -> str | None:
    """What a sample no parser recognised is, when it is a Zeek log of a type not read here.

    Returns:
        E.g. ``a Zeek http.log (#path http), a Zeek log type not read here (...)``, with the
        Zeek logs that are read and their formats; None when the sample is not such a log.
    """
    what = _unread(lines)
    if what is None:
        return None
    kinds = sorted({cls.log.name for cls in PARSERS.values() if issubclass(cls, ZeekTsvLog)})
    read = ", ".join(f"{kind}.log ({', '.join(_readers(kind))})" for kind in kinds)
    return f"{what}, a Zeek log type not read here (Zeek logs read: {read})"


def _unread(lines: Sequence[str]) -> str | None:
    header = ZeekTsv(())
    for line in lines:
        if line.startswith("#"):
            header.directive(line)
    kind = header.log_type()
    if kind is not None and not _readers(kind):
        named = f"#path {header.path}" if header.path else "by its #fields"
        return f"a Zeek {kind}.log ({named})"
    kinds = set()
    for line in lines:
        obj = loads_object(line)
        flat = {} if obj is None else flatten(obj)
        if "ts" in flat and not flat.keys().isdisjoint(_ZEEK_IDS):
            kinds.add(_record_type(flat))
    unread = sorted(kind for kind in kinds if kind is not None and not _readers(kind))
    if not unread:
        return None
    return f"Zeek {', '.join(unread)}.log records (JSON)"
