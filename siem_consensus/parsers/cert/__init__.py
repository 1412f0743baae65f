"""CERT insider-threat test data set files (r4.2 family): logon, device, file, http, email.

One parser per file (``cert-logon``, ``cert-device``, ``cert-file``, ``cert-http``,
``cert-email``), each locating its columns by the header row (r4.2 and r6.2 variants, extra
columns allowed) or, without a header, using the r4.2 columns; and ``cert`` for a combined CSV
whose first column names the kind. Dates ``MM/DD/YYYY HH:MM:SS`` are taken as UTC. The free-text
``content`` columns are dropped (privacy and size); CERT does not quote its CSV, so commas in
``content`` spill into extra fields, which are joined back into it. The mapping onto events and
the optional ``bytes`` volume column are documented in ``docs/insider-data.md``.

This is a hot path (CERT ``http.csv`` has tens of millions of rows): :meth:`parse_chunk` parses
a chunk with polars (``_fast.py``) and hands only the rows it cannot settle to
:meth:`parse_line`, the per-line reference (``_layout.py``), which parses them or rejects
them with a specific reason. Header rows are skipped and (re)define the columns from there on.

Also here: :func:`read_ldap` (monthly LDAP snapshots: latest record per user, first and last
month seen) and :func:`cert_inputs` (the CERT files of a directory or a list of files).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

import polars as pl

from ...models import DeadLetter
from ..base import (
    EVENT_SCHEMA,
    MAX_LINE_CHARS,
    SKIP,
    LineError,
    LineParser,
    ParsedChunk,
    _precheck,
    _reason,
    _Skip,
    register,
    rows_to_frame,
)
from ._fast import fast_events
from ._inputs import CertInputs, cert_format, cert_inputs, read_ldap
from ._layout import (
    _BLANK,
    COMBINED_HEADER,
    KIND_NAMES,
    KINDS,
    SINGLE_HEADER,
    Kind,
    convert,
    header_columns,
    header_problem,
    sniff_combined,
    sniff_kind,
    split_fields,
    take,
)

__all__ = [
    "CertCombinedParser",
    "CertDeviceParser",
    "CertEmailParser",
    "CertFileParser",
    "CertHttpParser",
    "CertInputs",
    "CertLogonParser",
    "cert_format",
    "cert_inputs",
    "read_ldap",
]

_SINGLE_RE: Final = re.compile(SINGLE_HEADER)
_COMBINED_RE: Final = re.compile(COMBINED_HEADER)
_KIND_LIST: Final = ", ".join(KIND_NAMES)


@dataclass
class _Collected:
    """What the segments of one chunk produced so far."""

    frames: list[pl.DataFrame] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    skipped: int = 0

    def chunk(self, first_line: int, dataset: str) -> ParsedChunk:
        columns = {"line": pl.col("idx").cast(pl.Int64) + first_line, "dataset": pl.lit(dataset)}
        parts = []
        for fast in self.frames:
            present = set(fast.columns)
            parts.append(
                fast.select(
                    columns.get(name, pl.col(name) if name in present else pl.lit(None))
                    .cast(dtype)
                    .alias(name)
                    for name, dtype in EVENT_SCHEMA.items()
                )
            )
        parts.append(rows_to_frame(self.rows, dataset))
        return ParsedChunk(pl.concat(parts).sort("line"), self.dead, self.skipped)


class _CertParser(LineParser):
    """Chunk loop shared by the CERT parsers: split at header rows, fast path, then per line."""

    _header: ClassVar[re.Pattern[str]]

    def _fast(self, part: pl.DataFrame) -> pl.DataFrame:
        """Event columns plus ``idx`` of the rows of ``part`` (``idx``, ``raw``) it settles."""
        raise NotImplementedError

    def parse_chunk(self, lines: Sequence[str], first_line: int, source: str) -> ParsedChunk:
        """Vectorised parse; header rows and unsettled rows go through :meth:`parse_line`."""
        try:
            raw = pl.Series("raw", lines, dtype=pl.String)
        except UnicodeEncodeError:  # lone surrogates: polars cannot hold them
            return super().parse_chunk(lines, first_line, source)
        frame = pl.DataFrame([raw]).with_row_index("idx")
        heads = frame.filter(pl.col("raw").str.contains(self._header.pattern))["idx"].to_list()
        out, start = _Collected(), 0
        for stop in [*heads, len(lines)]:
            self._segment(frame.slice(start, stop - start), lines, (first_line, source), out)
            if stop < len(lines):
                self._slow(lines, [stop], (first_line, source), out)
            start = stop + 1
        return out.chunk(first_line, self.name)

    def _segment(
        self, part: pl.DataFrame, lines: Sequence[str], where: tuple[int, str], out: _Collected
    ) -> None:
        raw = pl.col("raw")
        eligible = part.filter(
            ~raw.str.contains('"', literal=True)
            & ~raw.str.contains("\x00", literal=True)
            & (raw.str.len_chars() <= MAX_LINE_CHARS)
        )
        fast = self._fast(eligible)
        out.frames.append(fast)
        slow = part.select("idx").join(fast.select("idx"), on="idx", how="anti")
        self._slow(lines, sorted(slow["idx"].to_list()), where, out)

    def _slow(
        self, lines: Sequence[str], indexes: list[int], where: tuple[int, str], out: _Collected
    ) -> None:
        first_line, source = where
        for index in indexes:
            line, number = lines[index], first_line + index
            problem = _precheck(line)
            if problem == "blank":
                out.skipped += 1
                continue
            if problem:
                out.dead.append(self.dead(source, number, problem, line))
                continue
            try:
                row = self.parse_line(line)
            except (LineError, ValueError, KeyError, IndexError, TypeError) as exc:
                out.dead.append(self.dead(source, number, _reason(exc), line))
                continue
            if isinstance(row, _Skip):
                out.skipped += 1
                continue
            row["line"] = number
            out.rows.append(row)


class _KindParser(_CertParser):
    """One CERT event file; subclasses set ``kind``."""

    kind: ClassVar[Kind]
    _header: ClassVar[re.Pattern[str]] = _SINGLE_RE

    def __init__(self) -> None:
        self.layout: tuple[str, ...] = self.kind.default

    @classmethod
    def sniff(cls, lines: Sequence[str]) -> float:
        """Share of lines that are this file's header or valid rows of it."""
        return sniff_kind(cls.kind, lines)

    def parse_line(self, line: str) -> dict[str, Any] | _Skip:
        """Parse one row; a header row (re)defines the columns and is skipped.

        Raises:
            LineError: a header of another file, a wrong field count or a bad value.
        """
        if _SINGLE_RE.match(line):
            columns = header_columns(line)
            problem = header_problem(self.kind, columns)
            if problem is not None:
                raise LineError(f"{self.name}: {problem} (is this {self.kind.name}.csv?)")
            self.layout = columns
            return SKIP
        values = take(self.layout, split_fields(line, self.name), self.name)
        return convert(self.kind, values, self.name)

    def _fast(self, part: pl.DataFrame) -> pl.DataFrame:
        return fast_events(part, self.kind, self.layout)


@register
class CertLogonParser(_KindParser):
    """CERT ``logon.csv``: Logon / Logoff of a user on a PC."""

    name: ClassVar[str] = "cert-logon"
    description: ClassVar[str] = "CERT insider-threat logon.csv (id,date,user,pc,activity)"
    kind: ClassVar[Kind] = KINDS["logon"]


@register
class CertDeviceParser(_KindParser):
    """CERT ``device.csv``: removable media Connect / Disconnect."""

    name: ClassVar[str] = "cert-device"
    description: ClassVar[str] = "CERT insider-threat device.csv (removable media connect)"
    kind: ClassVar[Kind] = KINDS["device"]


@register
class CertFileParser(_KindParser):
    """CERT ``file.csv``: file copies (r4.2) or open/write/copy/delete (r6.2)."""

    name: ClassVar[str] = "cert-file"
    description: ClassVar[str] = "CERT insider-threat file.csv (r4.2 or r6.2 columns)"
    kind: ClassVar[Kind] = KINDS["file"]


@register
class CertHttpParser(_KindParser):
    """CERT ``http.csv``: web visits (r4.2) or visits, downloads, uploads (r6.2)."""

    name: ClassVar[str] = "cert-http"
    description: ClassVar[str] = "CERT insider-threat http.csv (r4.2 or r6.2 columns)"
    kind: ClassVar[Kind] = KINDS["http"]


@register
class CertEmailParser(_KindParser):
    """CERT ``email.csv``: sent (r4.2) or sent and viewed (r6.2) emails."""

    name: ClassVar[str] = "cert-email"
    description: ClassVar[str] = "CERT insider-threat email.csv (r4.2 or r6.2 columns)"
    kind: ClassVar[Kind] = KINDS["email"]


@register
class CertCombinedParser(_CertParser):
    """All CERT kinds in one CSV: ``<kind>,<that kind's columns>`` (see the module docs)."""

    name: ClassVar[str] = "cert"
    description: ClassVar[str] = "CERT insider-threat rows of every kind, kind in column 1"
    _header: ClassVar[re.Pattern[str]] = _COMBINED_RE

    def __init__(self) -> None:
        self.layouts: dict[str, tuple[str, ...]] = {n: k.default for n, k in KINDS.items()}

    @classmethod
    def sniff(cls, lines: Sequence[str]) -> float:
        """Share of lines that are combined-format headers or rows."""
        return sniff_combined(lines)

    def parse_line(self, line: str) -> dict[str, Any] | _Skip:
        """Parse one row; ``<kind>,id,date,...`` defines that kind's columns and is skipped.

        Raises:
            LineError: an unknown kind, a wrong field count or a bad value.
        """
        first, _, rest = line.partition(",")
        kind = KINDS.get(first.strip(_BLANK))
        if _COMBINED_RE.match(line):
            return self._header_row(kind, rest)
        if kind is None:
            raise LineError(
                f"cert: unknown kind {first[:40]!r} in the first column "
                f"(expected one of {_KIND_LIST})"
            )
        label = kind.label(combined=True)
        values = take(self.layouts[kind.name], split_fields(rest, label), label)
        return convert(kind, values, label)

    def _header_row(self, kind: Kind | None, rest: str) -> _Skip:
        if kind is None:  # a generic header such as ``kind,id,date,...``
            return SKIP
        columns = header_columns(rest)
        problem = header_problem(kind, columns)
        if problem is not None:
            raise LineError(f"cert {kind.name} header: {problem}")
        self.layouts[kind.name] = columns
        return SKIP

    def _fast(self, part: pl.DataFrame) -> pl.DataFrame:
        pieces = pl.col("raw").str.splitn(",", 2).struct.rename_fields(["kind", "rest"])
        split = part.select("idx", pieces.alias("p")).unnest("p")
        found = []
        for name, kind in KINDS.items():
            rows = split.filter(pl.col("kind").str.strip_chars(_BLANK) == name)
            if rows.height:
                rows = rows.select("idx", pl.col("rest").alias("raw"))
                found.append(fast_events(rows.drop_nulls("raw"), kind, self.layouts[name]))
        if not found:
            return pl.DataFrame(schema={"idx": pl.UInt32()})
        return pl.concat(found, how="diagonal_relaxed")
