"""The AIT Alert Data Set (AIT-ADS, Landauer et al. 2024): Wazuh, Suricata and AMiner alerts.

::

    time,name,ip,host,short,time_label,event_label
    1642213952,Wazuh: ClamAV database update,172.17.131.81,mail,W-Sys-Cav,false_positive,-

The data set ships gzip-compressed (``fox_alerts.csv.gz``, ...); ``EventStream`` reads such a
file in place. The header row (wherever it appears) and blank lines are skipped lines. The
parser is a :class:`~._blocks.BlockParser`: a file is handed over in blocks of raw lines that
polars' CSV reader splits (:mod:`._block`), and the rows it cannot settle (header, bad
values) go through :meth:`AitAdsParser.parse_line`. Decoded lines (``parse_chunk``) are joined
into such a block when they round-trip; otherwise, and for the small pieces of a block that is
not plain CSV, plain rows (seven fields, printable ASCII, integer time) are parsed vectorised
from the lines and the others line by line. Every path gives the same events, dead letters and
skips.

Mapping: ``time`` (epoch seconds) -> ``timestamp``; ``name`` -> ``rule_name``; ``host`` ->
``observer_name``; ``ip`` -> ``source_ip``; ``short`` -> ``event_code``; ``rule_category`` =
``<prefix>/<short>`` where the prefix is the part of ``name`` before ``:`` (``Wazuh``,
``Suricata`` or ``AMiner``), e.g. ``Suricata/S-Dns-Qry3``. There are no rule ids or severities.

What ``ip`` is: the data set does not say whether it is the attacker or the victim. It is
neither. In all six scenarios every ``host`` has exactly one ``ip``, on every alert, whatever
the alert: Suricata alerts raised on ``inet-firewall`` during the service scans carry the
firewall's own address (``10.35.32.1`` in fox) and the same alerts on ``mail`` carry the mail
server's. So ``ip`` is the address of the host that reported the alert. It is kept in
``source_ip`` so that alerts can be grouped by address, but it is **not** the initiator of the
traffic: correlate on ``observer_name``/``source_ip`` as "where it was seen", never as "who
attacked".

The labels (``time_label``, ``event_label``) are never put into events, so a detector cannot see
the answer; :func:`read_ait_labels` gives them to evaluation code keyed by line number. Names
with commas are handled (extra fields are joined back into ``name``; a quoted row is read as
CSV).
"""

from __future__ import annotations

import csv
import gzip
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, Final

import polars as pl

from .._blocks import Block, BlockParser
from .._ids_common import scrub, to_ip
from .._values import parse_epoch, share
from ..base import (
    EVENT_SCHEMA,
    MAX_LINE_CHARS,
    SKIP,
    LineError,
    LineParser,
    ParsedChunk,
    _Skip,
    empty_frame,
    register,
)
from ._block import HEADER, address_table, null_if_empty, parse_block

__all__ = ["HEADER", "AitAdsParser", "read_ait_labels"]

_WIDTH: Final = len(HEADER)
_HEADER_LINE: Final = ",".join(HEADER)
_FAST: Final = r"^[0-9]{1,11},[ !#-~]*$"  # integer time, printable ASCII, no quotes
_ROW: Final = re.compile(r"-?[0-9]{1,12}(?:\.[0-9]*)?,[^,:]+:[^\n]*,[0-9A-Fa-f.:]+(?:,[^,]*){4}")


@register
class AitAdsParser(LineParser, BlockParser):
    """AIT-ADS alert CSV rows (``time,name,ip,host,short,time_label,event_label``)."""

    name: ClassVar[str] = "ait-ads"
    description: ClassVar[str] = "AIT Alert Data Set CSV (time,name,ip,host,short,labels)"

    @classmethod
    def sniff(cls, lines: Sequence[str]) -> float:
        """Share of lines that are the AIT-ADS header or rows of its shape."""
        return share(lines, lambda line: line.strip() == _HEADER_LINE or _ROW.fullmatch(line))

    def parse_line(self, line: str) -> dict[str, Any] | _Skip:
        """Parse one alert row (the label columns are read past, not kept).

        Raises:
            LineError: fewer than seven fields, or an invalid time or address.
        """
        if line.strip() == _HEADER_LINE:
            return SKIP
        fields = _fields(line)
        name = ",".join(fields[1 : len(fields) - 5]).strip()
        ip, host, short = (value.strip() for value in fields[-5:-2])
        prefix = name.partition(":")[0].strip() if ":" in name else None
        return scrub(
            {
                "timestamp": parse_epoch(fields[0].strip(), "time"),
                "rule_name": name or None,
                "source_ip": to_ip(ip, "ip"),
                "observer_name": host or None,
                "event_code": short or None,
                "rule_category": "/".join(part for part in (prefix, short) if part) or None,
            }
        )

    def parse_block(self, block: Block, first_line: int, source: str) -> ParsedChunk:
        """Parse a block of raw lines with polars' CSV reader (see :mod:`._block`)."""

        def by_line(decoded: Sequence[str], first: int) -> ParsedChunk:
            return self._parse_lines(decoded, first, source)

        return parse_block(self, block, first_line, source, by_line)

    def parse_chunk(self, lines: Sequence[str], first_line: int, source: str) -> ParsedChunk:
        """Parse decoded lines as one block when they round-trip through UTF-8 bytes."""
        if not lines:
            return ParsedChunk(empty_frame())
        data = _as_block(lines)
        if data is None:
            return self._parse_lines(lines, first_line, source)
        return self.parse_block(Block(data, len(lines)), first_line, source)

    def _parse_lines(self, lines: Sequence[str], first_line: int, source: str) -> ParsedChunk:
        """Vectorised parse of the plain rows; the others go through :meth:`parse_line`."""
        try:
            raw = pl.Series("raw", lines, dtype=pl.String)
        except UnicodeEncodeError:  # lone surrogates: polars cannot hold them
            return super().parse_chunk(lines, first_line, source)
        fast = _fast_rows(pl.DataFrame([raw]).with_row_index("idx"))
        settled = set(fast["idx"].to_list())
        frames = [_event_frame(fast, first_line, self.name)]
        dead, skipped = [], 0
        for start, stop in _runs([i for i in range(len(lines)) if i not in settled]):
            part = super().parse_chunk(lines[start:stop], first_line + start, source)
            frames.append(part.events)
            dead.extend(part.dead_letters)
            skipped += part.skipped
        return ParsedChunk(pl.concat(frames).sort("line"), dead, skipped)


def _fast_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows with exactly seven plain fields, an integer time and a valid (or no) address.

    Printable ASCII only, so whitespace is spaces and ``strip`` means the same in Python and
    polars; whatever is not settled here goes to :meth:`AitAdsParser.parse_line`.
    """
    raw = pl.col("raw")
    plain = frame.filter(
        (raw.str.len_bytes() <= MAX_LINE_CHARS)
        & raw.str.contains(_FAST)
        & (raw.str.count_matches(",", literal=True) == _WIDTH - 1)
    )
    fields = plain.select("idx", raw.str.split_exact(",", _WIDTH - 1).alias("f")).unnest("f")
    fields = fields.rename({f"field_{i}": name for i, name in enumerate(HEADER)})
    text = [pl.col(name).str.strip_chars(" ") for name in ("name", "ip", "host", "short")]
    fields = fields.with_columns(text)
    addresses = address_table(fields["ip"].unique().to_list())
    return fields.join(addresses, on="ip", how="inner")


def _event_frame(fields: pl.DataFrame, first_line: int, dataset: str) -> pl.DataFrame:
    """Event columns from :func:`_fast_rows`, the same values :meth:`parse_line` gives."""
    name, short = null_if_empty(pl.col("name")), null_if_empty(pl.col("short"))
    prefix = pl.when(name.str.contains(":", literal=True)).then(
        null_if_empty(name.str.split(":").list.first().str.strip_chars(" "))
    )
    columns = {
        "line": pl.col("idx").cast(pl.Int64) + first_line,
        "timestamp": pl.from_epoch(pl.col("time").cast(pl.Int64), time_unit="s"),
        "dataset": pl.lit(dataset),
        "rule_name": name,
        "source_ip": pl.col("source_ip"),
        "observer_name": null_if_empty(pl.col("host")),
        "event_code": short,
        "rule_category": null_if_empty(
            pl.concat_str([prefix, short], separator="/", ignore_nulls=True)
        ),
    }
    return fields.select(
        columns.get(column, pl.lit(None)).cast(dtype).alias(column)
        for column, dtype in EVENT_SCHEMA.items()
    )


def _as_block(lines: Sequence[str]) -> bytes | None:
    """``lines`` as one block of raw lines, or None when its decoded lines would differ from
    them (a lone surrogate, ``\\r`` or ``\\n`` inside a line)."""
    try:
        block = ("\n".join(lines) + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return None
    if b"\r" in block or block.count(b"\n") != len(lines):
        return None
    return block


def _runs(indexes: list[int]) -> Iterator[tuple[int, int]]:
    """Consecutive ``indexes`` as ``(start, stop)`` slices."""
    start = previous = None
    for index in indexes:
        if start is None or previous is None or index != previous + 1:
            if start is not None and previous is not None:
                yield start, previous + 1
            start = index
        previous = index
    if start is not None and previous is not None:
        yield start, previous + 1


def _fields(line: str) -> list[str]:
    """The CSV fields of a row; a name with commas spreads over several of them."""
    if '"' in line:
        try:
            fields = next(csv.reader([line]))
        except csv.Error as exc:
            raise LineError(f"AIT-ADS row is not valid CSV: {exc}") from None
    else:
        fields = line.split(",")
    if len(fields) < _WIDTH:
        raise LineError(f"AIT-ADS row has {len(fields)} fields, expected {_WIDTH} ({_HEADER_LINE})")
    return fields


def read_ait_labels(path: str | os.PathLike[str]) -> pl.DataFrame:
    """The labels of an AIT-ADS alert file, for evaluation code (never given to detectors).

    Lines are numbered like the parser numbers them (1-based physical lines, the header being
    line 1), so ``{source}:{line}`` event ids join on ``line``. ``.gz`` files are decompressed.
    Every row with at least seven fields has a label row, even one the parser rejects for a bad
    value; the header, blank lines and shorter rows have none.

    Args:
        path: An AIT-ADS ``*_alerts.csv`` or ``*_alerts.csv.gz`` file.

    Returns:
        Columns ``line`` (Int64), ``time_label`` and ``event_label`` (String, as written in the
        file: an attack phase or ``false_positive``; an attack step or ``-``).
    """
    numbers: list[int] = []
    time_labels: list[str] = []
    event_labels: list[str] = []
    for number, line in enumerate(_lines(Path(path)), start=1):
        if not line.strip() or line.strip() == _HEADER_LINE:
            continue
        try:
            fields = _fields(line)
        except LineError:
            continue
        numbers.append(number)
        time_labels.append(fields[-2].strip())
        event_labels.append(fields[-1].strip())
    return pl.DataFrame(
        {"line": numbers, "time_label": time_labels, "event_label": event_labels},
        schema={"line": pl.Int64(), "time_label": pl.String(), "event_label": pl.String()},
    )


def _lines(path: Path) -> Iterator[str]:
    """Lines of a plain or gzip file, decoded like :mod:`siem_consensus.sources` does."""
    with gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb") as fh:
        for raw in fh:
            yield raw.decode("utf-8", errors="replace").rstrip("\r\n")
