"""Zeek's native TSV logs: the header directives and rows as records, for every Zeek log parser.

Shared by ``zeek`` (conn.log) and ``zeek-ssh`` (ssh.log), which must not import each other (the
ssh parser registers first, so that it claims ssh.log files before the conn parser does).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Final

from ._syslog import parse_iso
from ._values import parse_epoch
from .base import LineError

__all__ = ["DIRECTIVE", "ZeekTsv", "zeek_time"]

DIRECTIVE: Final = re.compile(
    r"#(?:separator|set_separator|empty_field|unset_field|path|open"
    r"|fields|types|close)\b"
)


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
    """The state of one TSV log: separator, column names and null markers from its header.

    Args:
        default_fields: Column order when the file has no ``#fields`` line.
    """

    def __init__(self, default_fields: Sequence[str]) -> None:
        self.separator = "\t"
        self.fields: list[str] = list(default_fields)
        self.nulls = {"-", "(empty)"}
        self.header = False

    def directive(self, line: str) -> None:
        """Take a ``#`` line: ``#separator``, ``#fields``, ``#empty_field``, ``#unset_field``."""
        if line.startswith("#separator "):
            self.separator = _unescape(line[len("#separator ") :]) or "\t"
            return
        name, _, value = line[1:].partition(self.separator)
        if name == "fields":
            self.fields = value.split(self.separator)
            self.header = True
        elif name in ("empty_field", "unset_field"):
            self.nulls.add(value)

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
