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
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Final

from .base import ParsedChunk

__all__ = ["PLAIN_BYTES", "Block", "BlockParser", "count_lines", "decode_lines", "is_plain"]

PLAIN_BYTES: Final = bytes(range(0x20, 0x7F)).replace(b'"', b"")
"""Printable ASCII other than ``"``: text whose lines a CSV reader splits exactly like
:func:`decode_lines` (no quoting, no ``\\r``, no control or non-ASCII byte)."""


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
