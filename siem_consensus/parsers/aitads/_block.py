"""Whole-block AIT-ADS parsing: polars' CSV reader splits the lines, accounting follows its rows.

A block (raw bytes of whole lines, see :mod:`._blocks`) is *plain* when every byte is printable
ASCII other than ``"``, or a newline, and the CSV reader, with no quoting and all seven columns
as strings, gives one row of seven fields per line. Then row ``i`` is line ``first_line + i``
and its text is exactly ``",".join(row)``:

* rows whose time reads as a whole number of seconds (0 to 10^11 - 1) and whose address is
  valid (or absent) become events in columns, with the values
  :meth:`~.aitads.AitAdsParser.parse_line` gives;
* the other rows (the header, a fractional or bad time, a bad address, an over-long line) are
  rebuilt as text and go through ``parse_line``, so each ends as the same skip, event or dead
  letter as line by line.

A block that is not plain (a quote, a control or non-ASCII byte, ``\\r``, a blank or short
line, a field too many) is split in two at a line boundary and each half is tried again, down
to :data:`LEAF_LINES` lines, which go to the line-by-line path: one bad line costs a few small
reads and the rest of the block still parses in bulk.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

import polars as pl

from .._blocks import Block, decode_lines, is_plain
from .._ids_common import to_ip
from ..base import (
    EVENT_SCHEMA,
    MAX_LINE_CHARS,
    LineError,
    LineParser,
    ParsedChunk,
    empty_frame,
    rows_to_frame,
)

__all__ = ["HEADER", "LEAF_LINES", "address_table", "null_if_empty", "parse_block"]

HEADER: Final = ("time", "name", "ip", "host", "short", "time_label", "event_label")
"""Columns of an AIT-ADS alert file, in order."""

LEAF_LINES: Final = 2048
"""A block this small that is not plain goes to the line-by-line path without more splitting."""

_SCHEMA: Final = dict.fromkeys(HEADER, pl.String())
_MAX_EPOCH: Final = 10**11 - 1
_FEW: Final = 16

Fallback = Callable[[Sequence[str], int], ParsedChunk]
"""The line-by-line parse of decoded lines (lines, first line number)."""


def parse_block(
    parser: LineParser, block: Block, first_line: int, source: str, fallback: Fallback
) -> ParsedChunk:
    """Parse the lines of ``block`` (see the module docstring); ``fallback`` parses the decoded
    lines of a small block that is not plain."""
    data, lines = block.data, block.lines
    rows = _plain_rows(block)
    if rows is not None:
        return _parsed(parser, rows, first_line, source, long_lines=len(data) > MAX_LINE_CHARS)
    if lines <= LEAF_LINES:
        return fallback(decode_lines(data), first_line)
    cut = data.find(b"\n", len(data) // 2) + 1
    if cut <= 0 or cut >= len(data):
        cut = data.rfind(b"\n", 0, len(data) - 1) + 1
    above = data.count(b"\n", 0, cut)
    # A half of a plain block is plain; halves of any other block are looked at again.
    plain = block.plain or None
    head = parse_block(parser, Block(data[:cut], above, plain), first_line, source, fallback)
    tail = Block(data[cut:], lines - above, plain)
    rest = parse_block(parser, tail, first_line + above, source, fallback)
    events = [p.events for p in (head, rest) if not p.events.is_empty()]
    return ParsedChunk(
        pl.concat(events) if len(events) > 1 else events[0] if events else head.events,
        head.dead_letters + rest.dead_letters,
        head.skipped + rest.skipped,
    )


def _plain_rows(block: Block) -> pl.DataFrame | None:
    """The seven string fields of each line of a plain block; None when it is not plain."""
    data = block.data
    # b"x^" is a zlib header: the CSV reader would try to decompress the block.
    if not data or data.startswith(b"x^"):
        return None
    if not (block.plain if block.plain is not None else is_plain(data)):
        return None
    try:
        rows = pl.read_csv(
            data,
            has_header=False,
            schema=_SCHEMA,
            quote_char=None,
            empty_string_is_null=False,
            truncate_ragged_lines=False,
        )
    except (pl.exceptions.PolarsError, OSError):  # a field too many, or a short first line
        return None
    if rows.height != block.lines:
        return None
    # A short line reads as empty trailing fields: only the comma count tells them apart.
    if rows["event_label"].str.len_bytes().min() == 0 and data.count(b",") != 6 * block.lines:
        return None
    return rows


def _parsed(
    parser: LineParser, rows: pl.DataFrame, first_line: int, source: str, *, long_lines: bool
) -> ParsedChunk:
    """Events from the fast rows; the other rows through ``parse_line``."""
    distinct = _distinct(rows)
    ips = distinct["ip"]
    addresses = address_table(ips)
    epoch = rows["time"].cast(pl.Int64, strict=False).alias("epoch")
    low, high = epoch.min(), epoch.max()
    timed = isinstance(low, int) and isinstance(high, int) and 0 <= low <= high <= _MAX_EPOCH
    if timed and not epoch.null_count() and len(ips) == addresses.height and not long_lines:
        line = pl.int_range(first_line, first_line + rows.height, dtype=pl.Int64)
        return ParsedChunk(_events(rows, line, pl.lit(epoch), distinct, addresses, parser.name))
    # What the cast accepts beyond plain digits ("+5", "-5", leading zeros) parse_line reads
    # as the same time; the range keeps clear of overflow and of fractional or odd times.
    fast = epoch.is_between(0, _MAX_EPOCH).fill_null(False)
    if addresses.height < len(ips):
        fast &= rows["ip"].is_in(addresses["ip"].implode())
    if long_lines:
        fast &= _widths(rows) <= MAX_LINE_CHARS
    others = (~fast).arg_true()
    raw = rows[others].select(pl.concat_str(HEADER, separator=",")).to_series()
    numbered = zip((others + first_line).to_list(), raw.to_list(), strict=True)
    slow, dead, skipped = parser.parse_numbered(numbered, source)
    frames = []
    if len(others) <= _FEW:  # a header, a bad value: the rows between are zero-copy slices
        for start, stop in _between(others.to_list(), rows.height):
            line = pl.int_range(first_line + start, first_line + stop, dtype=pl.Int64)
            part, times = rows.slice(start, stop - start), pl.lit(epoch.slice(start, stop - start))
            frames.append(_events(part, line, times, distinct, addresses, parser.name))
    elif fast.any():
        line = pl.lit(fast.arg_true().cast(pl.Int64) + first_line)
        part, times = rows.filter(fast), pl.lit(epoch.filter(fast))
        frames.append(_events(part, line, times, distinct, addresses, parser.name))
    if not frames and not slow:
        return ParsedChunk(empty_frame(), dead, skipped)
    events = pl.concat([*frames, *([rows_to_frame(slow, parser.name)] if slow else [])])
    return ParsedChunk(events.sort("line") if slow else events, dead, skipped)


def _widths(rows: pl.DataFrame) -> pl.Series:
    """Length of each line in bytes (plain rows: exactly their text)."""
    lengths = pl.sum_horizontal(pl.col(c).str.len_bytes() for c in HEADER) + len(HEADER) - 1
    return rows.select(lengths).to_series()


def _between(marked: list[int], height: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of the runs of row positions below ``height`` not in ``marked``
    (sorted)."""
    runs, start = [], 0
    for position in [*marked, height]:
        if position > start:
            runs.append((start, position))
        start = position + 1
    return runs


def _distinct(rows: pl.DataFrame) -> dict[str, list[str]]:
    """The distinct values of the text columns events are made of (in one parallel query)."""
    names = ("name", "ip", "host", "short")
    found = rows.select(pl.col(c).unique().implode() for c in names).row(0)
    return dict(zip(names, found, strict=True))


def address_table(values: list[str]) -> pl.DataFrame:
    """Each distinct ``ip`` text and its normalised form; invalid ones are left out."""
    good: dict[str, str | None] = {}
    for value in values:
        try:
            good[value] = to_ip(value, "ip")
        except LineError:
            continue
    return pl.DataFrame(
        {"ip": list(good), "source_ip": list(good.values())},
        schema={"ip": pl.String(), "source_ip": pl.String()},
    )


def _events(
    rows: pl.DataFrame,
    line: pl.Expr,
    epoch: pl.Expr,
    distinct: dict[str, list[str]],
    addresses: pl.DataFrame,
    dataset: str,
) -> pl.DataFrame:
    """Event columns of fast rows: the values ``parse_line`` gives, worked out per distinct
    value (``distinct``: a superset of the values in ``rows``) and mapped to the rows where
    that is cheaper than per row."""
    short = _text("short", distinct["short"])
    columns = {
        "line": line,
        "timestamp": pl.from_epoch(epoch, time_unit="s"),
        "dataset": pl.lit(dataset),
        "rule_name": _text("name", distinct["name"]),
        "source_ip": _address(addresses),
        "observer_name": _text("host", distinct["host"]),
        "event_code": short,
        "rule_category": _category(distinct["name"], short),
    }
    return rows.select(
        columns.get(column, pl.lit(None)).cast(dtype).alias(column)
        for column, dtype in EVENT_SCHEMA.items()
    )


def _text(column: str, values: list[str]) -> pl.Expr:
    """``column`` stripped of spaces, null when empty; the work is skipped when none of its
    distinct ``values`` needs it (the usual case)."""
    text = pl.col(column)
    stripped = [value.strip(" ") for value in values]
    if stripped != values:
        text = text.str.strip_chars(" ")
    return null_if_empty(text) if "" in stripped else text


def _category(names: list[str], short: pl.Expr) -> pl.Expr:
    """``<prefix>/<short>``, the prefix being the stripped part of the stripped name before
    ``:`` (none without a colon); either part may be missing, both missing is null."""
    prefixes = [_prefix(name.strip(" ")) for name in names]
    prefix = pl.col("name").replace_strict(names, prefixes, return_dtype=pl.String)
    category = pl.concat_str([prefix, short], separator="/", ignore_nulls=True)
    return null_if_empty(category) if None in prefixes else category


def _prefix(name: str) -> str | None:
    """What :meth:`~.aitads.AitAdsParser.parse_line` takes as the prefix of a stripped name."""
    return (name.partition(":")[0].strip() or None) if ":" in name else None


def _address(addresses: pl.DataFrame) -> pl.Expr:
    """``source_ip``: the normalised address (null for an empty or ``-`` one)."""
    if addresses["ip"].equals(addresses["source_ip"], check_names=False):
        return pl.col("ip")
    return pl.col("ip").replace_strict(
        addresses["ip"], addresses["source_ip"], default=None, return_dtype=pl.String
    )


def null_if_empty(text: pl.Expr) -> pl.Expr:
    """``text``, null where it is empty."""
    return pl.when(text != "").then(text)
