"""Block parsing: a parser that takes many raw lines at once, as the bytes read from the file.

:class:`~siem_consensus.sources.EventStream` reads a file in blocks of whole physical lines
(every line of a block ends with ``\\n`` except perhaps the last line of the input). A parser
that subclasses :class:`BlockParser` gets each block as bytes, so a native reader (polars' CSV
reader) can split it without one Python object per line; other parsers get the decoded lines.

A block must turn into exactly what :meth:`~siem_consensus.parsers.base.Parser.parse_chunk`
gives for the same lines decoded by :func:`decode_lines` (the decoding of
:func:`~siem_consensus.sources.read_lines`): the block path is a speed-up, never a different
reading. The reader counts the lines of a block, independently of the parser, and checks that
every one of them became an event, a dead letter or a skip.

A parser that subclasses :class:`SeriesParser` gets each chunk of decoded lines as one polars
``String`` series (:func:`split_lines`): the lines are split by polars, not one Python string
per line, and the chunk must parse exactly as the same lines given to ``parse_chunk``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Final

import polars as pl

from .base import ParsedChunk

__all__ = [
    "PLAIN_BYTES",
    "Block",
    "BlockParser",
    "SeriesParser",
    "count_lines",
    "decode_lines",
    "is_plain",
    "split_lines",
]

PLAIN_BYTES: Final = bytes(range(0x20, 0x7F)).replace(b'"', b"")
"""Printable ASCII other than ``"``: text whose lines a CSV reader splits exactly like
:func:`decode_lines` (no quoting, no ``\\r``, no control or non-ASCII byte)."""


_BOM: Final = b"\xef\xbb\xbf"
_ONE_COLUMN: Final[dict[str, Any]] = {
    "has_header": False,
    "separator": "\x1f",
    "quote_char": None,
    "new_columns": ["raw"],
    "infer_schema": False,
    "encoding": "utf8",
}


@dataclass(frozen=True)
class Block:
    """Whole physical lines as read, with what the reader learnt about them in one pass."""

    data: bytes
    """The raw lines."""
    lines: int
    """How many (:func:`count_lines`), counted by the reader."""
    plain: bool | None = None
    """True when every byte is in :data:`PLAIN_BYTES` or a newline; None when not looked at."""


class BlockParser(ABC):
    """Mixin for a parser that reads whole blocks of raw lines (see the module docstring)."""

    @abstractmethod
    def parse_block(self, block: Block, first_line: int, source: str) -> ParsedChunk:
        """Parse the lines of ``block``; ``first_line`` is the 1-based number of the first.

        Returns:
            What ``parse_chunk(decode_lines(block.data), first_line, source)`` returns.
        """


class SeriesParser(ABC):
    """Mixin for a line parser that reads a chunk of lines as one polars series."""

    @abstractmethod
    def parse_series(self, lines: pl.Series, first_line: int, source: str) -> ParsedChunk:
        """Parse ``lines`` (a ``String`` series, no nulls); ``first_line`` numbers the first.

        Returns:
            What ``parse_chunk(lines.to_list(), first_line, source)`` returns.
        """


def count_lines(data: bytes) -> int:
    """Physical lines in ``data``: its newlines, plus a last line that has none."""
    if not data:
        return 0
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def is_plain(data: bytes) -> bool:
    """Whether every byte of ``data`` is in :data:`PLAIN_BYTES` or a newline."""
    return not data.translate(None, PLAIN_BYTES + b"\n")


def decode_lines(data: bytes) -> list[str]:
    """The lines of ``data`` as :func:`~siem_consensus.sources.read_lines` yields them: UTF-8
    with invalid bytes replaced, line ends and trailing ``\\r`` removed."""
    if not data:
        return []
    text = data.decode("utf-8", errors="replace")
    if text.endswith("\n"):
        text = text[:-1]
    lines = text.split("\n")
    return [line.rstrip("\r") for line in lines] if "\r" in text else lines


def split_lines(data: bytes, lines: int | None = None) -> pl.Series:
    """:func:`decode_lines` of ``data`` as a ``String`` series, split without a Python string
    per line.

    Polars' CSV reader (one column, no quoting) splits valid UTF-8 exactly like
    :func:`decode_lines` as long as there is no ``\r`` (it drops one before ``\n``, not
    all), no unit separator (``\x1f``, its column separator here) and no byte order mark; an
    empty line is a null there and becomes ``""``. Anything else, or a line count other than
    :func:`count_lines` (``lines`` when the caller counted), is split by :func:`decode_lines`.
    """
    if not data:
        return pl.Series("raw", [], dtype=pl.String)
    expected = count_lines(data) if lines is None else lines
    if b"\r" not in data and b"\x1f" not in data and not data.startswith(_BOM):
        try:
            frame = pl.read_csv(data, **_ONE_COLUMN)
        except pl.exceptions.PolarsError:  # invalid UTF-8 above all
            frame = None
        if frame is not None and frame.height == expected:
            return frame.get_column("raw").fill_null("")
    return pl.Series("raw", decode_lines(data), dtype=pl.String)
