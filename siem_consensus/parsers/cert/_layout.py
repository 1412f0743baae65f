"""CERT insider-threat CSV kinds, headers and the per-row reference conversion (pure Python).

The vectorised path in ``_fast.py`` settles only rows on which it agrees with
:func:`convert` here; every other row (quoted, odd spacing, unusual digits, bad values) comes
through this module, which parses it or rejects it with a specific reason. Regexes use ASCII
classes only (``[0-9]``, explicit ``[Ii]``) so that Python ``re`` and polars' Rust ``regex``
mean the same thing. See ``docs/insider-data.md`` for the mapping.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from .._zone import wall_to_utc
from ..base import MAX_LINE_CHARS, LineError, excerpt

__all__ = [
    "KINDS",
    "KIND_NAMES",
    "Kind",
    "convert",
    "header_columns",
    "header_problem",
    "parse_date",
    "sniff_combined",
    "sniff_kind",
    "split_fields",
    "take",
]

KIND_NAMES: Final = ("logon", "device", "file", "http", "email")
"""The five CERT event files, in the order their records are usually processed."""

SINGLE_HEADER: Final = r"^\ufeff?[ \t]*[Ii][Dd][ \t]*,[ \t]*[Dd][Aa][Tt][Ee][ \t]*(?:,|$)"
"""A header row of one CERT file (``id,date,...``)."""

COMBINED_HEADER: Final = r"^\ufeff?[^,]*,[ \t]*[Ii][Dd][ \t]*,[ \t]*[Dd][Aa][Tt][Ee][ \t]*(?:,|$)"
"""A header row of the combined format (``<kind or anything>,id,date,...``)."""

SENT_ACTIONS: Final = frozenset({"www_upload", "file_write"})
"""Actions whose ``bytes`` are data the user sends out (``source_bytes``)."""

MAX_INT32: Final = 2**31 - 1
MAX_INT64: Final = 2**63 - 1
_DATE: Final = re.compile(
    r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4}) ([0-9]{1,2}):([0-9]{2}):([0-9]{2})"
)
_DIGITS: Final = re.compile(r"[0-9]+")
_NOT_WORD: Final = re.compile(r"[^a-z0-9]+")
_TRUE: Final = frozenset({"True", "true", "TRUE"})
_FLAG_VALUES: Final = _TRUE | {"False", "false", "FALSE", ""}
_BLANK: Final = " \t"


@dataclass(frozen=True)
class Kind:
    """One CERT event file: its columns and how its rows map onto events.

    Attributes:
        name: ``logon``, ``device``, ``file``, ``http`` or ``email``.
        category: ``event_category`` of its events (``web`` for http).
        default: r4.2 columns, used for files without a header.
        required: Columns a header must name to be a header of this kind.
        excluded: Columns whose presence says the header belongs to another kind.
        actions: Allowed ``event_action`` values; empty means any non-empty value.
        default_action: ``event_action`` when the layout has no ``activity`` column.
    """

    name: str
    category: str
    default: tuple[str, ...]
    required: tuple[str, ...]
    excluded: tuple[str, ...] = ()
    actions: frozenset[str] = frozenset()
    default_action: str = ""

    def label(self, combined: bool) -> str:
        """Prefix of this kind's dead-letter reasons."""
        return f"cert {self.name} row" if combined else f"cert-{self.name}"


_EVENT_COLUMNS: Final = ("filename", "url", "to")
KINDS: Final = {
    "logon": Kind(
        "logon",
        "logon",
        ("id", "date", "user", "pc", "activity"),
        ("date", "user", "activity"),
        ("file_tree", *_EVENT_COLUMNS),
        frozenset({"logon", "logoff"}),
    ),
    "device": Kind(
        "device",
        "device",
        ("id", "date", "user", "pc", "activity"),
        ("date", "user", "activity"),
        _EVENT_COLUMNS,
        frozenset({"connect", "disconnect"}),
    ),
    "file": Kind(
        "file",
        "file",
        ("id", "date", "user", "pc", "filename", "content"),
        ("date", "user", "filename"),
        ("url", "to"),
        default_action="file_copy",
    ),
    "http": Kind(
        "http",
        "web",
        ("id", "date", "user", "pc", "url", "content"),
        ("date", "user", "url"),
        ("filename", "to"),
        default_action="www_visit",
    ),
    "email": Kind(
        "email",
        "email",
        ("id", "date", "user", "pc", "to", "cc", "bcc", "from", "size", "attachments", "content"),
        ("date", "user", "to", "from"),
        ("filename", "url"),
        default_action="send",
    ),
}
"""The five kinds by name."""

_ACTIVITY_HINT: Final = {
    "logon": "Logon or Logoff",
    "device": "Connect or Disconnect",
}


def header_columns(line: str) -> tuple[str, ...]:
    """Column names of a header row: lower-cased, blanks and a byte-order mark removed."""
    return tuple(name.strip(_BLANK).lower() for name in line.lstrip("\ufeff").split(","))


def header_problem(kind: Kind, columns: Sequence[str]) -> str | None:
    """Why ``columns`` is not a header of ``kind``, or None when it is."""
    if len(set(columns)) != len(columns):
        return "header names a column twice"
    missing = [name for name in kind.required if name not in columns]
    if missing:
        return f"header lacks column(s) {', '.join(missing)}"
    others = [name for name in kind.excluded if name in columns]
    if others:
        return f"header has column(s) {', '.join(others)} of another CERT file"
    if "content" in columns and columns[-1] != "content":
        return "header has 'content' before other columns (it must be last)"
    return None


def split_fields(line: str, label: str) -> list[str]:
    """Comma-separated fields; a row with a double quote is read as CSV.

    Raises:
        LineError: the CSV reader rejects the row.
    """
    if '"' not in line:
        return line.split(",")
    try:
        return next(csv.reader([line]))
    except (csv.Error, StopIteration) as exc:
        raise LineError(f"{label}: unreadable quoted CSV ({exc})") from None


def take(layout: Sequence[str], fields: Sequence[str], label: str) -> dict[str, str]:
    """Map fields onto column names; extra fields spill into a last ``content`` column.

    Raises:
        LineError: too few fields, or too many without a ``content`` column to spill into.
    """
    count, spill = len(layout), layout[-1] == "content"
    if len(fields) < count or (len(fields) > count and not spill):
        want = f"at least {count}" if spill else str(count)
        raise LineError(f"{label}: expected {want} fields, got {len(fields)}")
    return {
        name: value.strip(_BLANK)
        for name, value in zip(layout, fields, strict=False)
        if name != "content"
    }


def parse_date(text: str, label: str) -> datetime:
    """A CERT ``MM/DD/YYYY HH:MM:SS`` date: wall-clock time in the ``--timezone`` zone (UTC
    unless set), returned in UTC.

    Raises:
        LineError: not that shape, or not a real date and time.
    """
    match = _DATE.fullmatch(text)
    if match is not None:
        month, day, year, hour, minute, second = (int(part) for part in match.groups())
        try:
            return wall_to_utc(datetime(year, month, day, hour, minute, second, tzinfo=UTC))
        except ValueError:
            pass
    raise LineError(
        f"{label}: unparseable date {excerpt(text, 40)!r} (expected MM/DD/YYYY HH:MM:SS)"
    )


def convert(kind: Kind, values: dict[str, str], label: str) -> dict[str, Any]:
    """Event columns of one row (``values`` from :func:`take`).

    Raises:
        LineError: a missing user, bad date, unknown activity or unusable number.
    """
    if not values.get("user"):
        raise LineError(f"{label}: empty user")
    row: dict[str, Any] = {
        "timestamp": parse_date(values["date"], label),
        "user_name": values["user"],
        "host_name": values.get("pc") or None,
        "event_category": kind.category,
        "event_action": _action(kind, values, label),
    }
    row.update(_EXTRAS[kind.name](values, row["event_action"], label))
    return row


def _action(kind: Kind, values: dict[str, str], label: str) -> str:
    if "activity" not in values:
        return kind.default_action
    raw = values["activity"]
    action = _NOT_WORD.sub("_", raw.lower()).strip("_")
    if not action:
        raise LineError(f"{label}: empty activity")
    if kind.actions and action not in kind.actions:
        hint = _ACTIVITY_HINT[kind.name]
        raise LineError(f"{label}: unknown activity {excerpt(raw, 40)!r} (expected {hint})")
    return action


def _count(text: str | None, name: str, label: str, limit: int = MAX_INT64) -> int | None:
    if not text:
        return None
    if _DIGITS.fullmatch(text) is None or int(text) > limit:
        raise LineError(f"{label}: {name} is not a byte count: {excerpt(text, 40)!r}")
    return int(text)


def _required(values: dict[str, str], name: str, label: str) -> str:
    value = values.get(name, "")
    if not value:
        raise LineError(f"{label}: empty {name}")
    return value


def _volume(values: dict[str, str], action: str, label: str) -> dict[str, Any]:
    size = _count(values.get("bytes"), "bytes", label)
    column = "source_bytes" if action in SENT_ACTIONS else "destination_bytes"
    return {column: size}


def _flag(values: dict[str, str], name: str, label: str) -> bool:
    value = values.get(name, "")
    if value not in _FLAG_VALUES:
        raise LineError(f"{label}: {name} is not True or False: {excerpt(value, 40)!r}")
    return value in _TRUE


def _file(values: dict[str, str], action: str, label: str) -> dict[str, Any]:
    flags = ("to_removable_media", "from_removable_media")
    message = ",".join(name for name in flags if _flag(values, name, label))
    return {
        "file_path": _required(values, "filename", label),
        "message": message or None,
        **_volume(values, action, label),
    }


def _http(values: dict[str, str], action: str, label: str) -> dict[str, Any]:
    return {"url_original": _required(values, "url", label), **_volume(values, action, label)}


def recipients(to: str, cc: str, bcc: str) -> str | None:
    """CERT ``;``-separated recipients of the three fields as one ``,``-joined list."""
    parts = (part.strip(_BLANK) for field in (to, cc, bcc) for part in field.split(";"))
    return ",".join(part for part in parts if part) or None


def attachment_count(text: str, label: str) -> int:
    """r4.2 writes the number of attachments; later releases a ``;``-separated name list.

    Raises:
        LineError: a count too large for 32 bits.
    """
    if _DIGITS.fullmatch(text) is not None:
        if int(text) > MAX_INT32:
            raise LineError(f"{label}: attachments count out of range: {excerpt(text, 40)!r}")
        return int(text)
    return sum(1 for part in text.split(";") if part.strip(_BLANK))


def _email(values: dict[str, str], action: str, label: str) -> dict[str, Any]:
    del action
    return {
        "email_from": values.get("from") or None,
        "email_to": recipients(values["to"], values.get("cc", ""), values.get("bcc", "")),
        "source_bytes": _count(values.get("size"), "size", label),
        "email_attachments": attachment_count(values.get("attachments", ""), label),
    }


def _nothing(values: dict[str, str], action: str, label: str) -> dict[str, Any]:
    del values, action, label
    return {}


_EXTRAS: Final[dict[str, Callable[[dict[str, str], str, str], dict[str, Any]]]] = {
    "logon": _nothing,
    "device": _nothing,
    "file": _file,
    "http": _http,
    "email": _email,
}

_HEADER_RE: Final = re.compile(SINGLE_HEADER)
_COMBINED_RE: Final = re.compile(COMBINED_HEADER)


def _headerless_marker(kind: Kind, values: dict[str, str]) -> bool:
    """Without a header, tell the kinds with free-form fifth columns apart."""
    if kind.name == "file":
        name = values["filename"]
        return "://" not in name and "@" not in name
    if kind.name == "http":
        return "://" in values["url"]
    if kind.name == "email":
        return "@" in values["from"] or "@" in values["to"]
    return True


def row_matches(kind: Kind, layout: Sequence[str], line: str, headerless: bool) -> bool:
    """Whether ``line`` is a valid row of ``kind`` under ``layout`` (for sniffing)."""
    label = kind.label(combined=False)
    try:
        values = take(layout, split_fields(line, label), label)
        convert(kind, values, label)
    except (LineError, ValueError):
        return False
    return not headerless or _headerless_marker(kind, values)


def sniff_kind(kind: Kind, lines: Sequence[str]) -> float:
    """Share of ``lines`` that are a header or a valid row of one CERT file ``kind``.

    Rows after a header of another kind do not count: that header says what the file is.
    """
    layout: tuple[str, ...] | None = kind.default
    headerless, hits = True, 0
    for line in lines:
        if len(line) > MAX_LINE_CHARS:
            continue
        if _HEADER_RE.match(line):
            columns = header_columns(line)
            layout = columns if header_problem(kind, columns) is None else None
            headerless, hits = False, hits + (layout is not None)
        elif layout is not None:
            hits += row_matches(kind, layout, line, headerless)
    return hits / len(lines) if lines else 0.0


def sniff_combined(lines: Sequence[str]) -> float:
    """Share of ``lines`` that are a header or a valid row of the combined CERT format."""
    layouts = {name: kind.default for name, kind in KINDS.items()}
    hits = 0
    for line in lines:
        if len(line) > MAX_LINE_CHARS:
            continue
        first, _, rest = line.partition(",")
        kind = KINDS.get(first.strip(_BLANK))
        if _COMBINED_RE.match(line):
            columns = header_columns(rest)
            if kind is not None and header_problem(kind, columns) is None:
                layouts[kind.name] = columns
            hits += kind is None or layouts[kind.name] == columns
            continue
        if kind is not None:
            hits += row_matches(kind, layouts[kind.name], rest, headerless=False)
    return hits / len(lines) if lines else 0.0
