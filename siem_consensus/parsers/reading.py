"""Raw input to physical lines: large binary blocks, gzip on the fly, read-ahead.

The lowest layer of reading, shared by :mod:`siem_consensus.sources` and anything else that
reads files (connectors, evaluations): bytes in, whole lines (or blocks of them) out.
"""

from __future__ import annotations

import gzip
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar

import polars as pl

from ..errors import InputError
from ._blocks import PLAIN_BYTES, Block, decode_lines, split_lines
from ._limits import DEFAULT_LIMITS, LimitedReader, Limits

__all__ = [
    "DEFAULT_LIMITS",
    "LimitedReader",
    "Limits",
    "Readable",
    "Replay",
    "Rewindable",
    "open_binary",
    "open_limited",
    "open_stream",
    "read_ahead",
    "read_blocks",
    "read_line_series",
    "read_lines",
]

_T = TypeVar("_T")
_END: Any = object()


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class Rewindable(Readable, Protocol):
    def seek(self, offset: int, /) -> int: ...


def read_lines(fh: Readable, block: int = 1 << 22) -> Iterator[str]:
    """Decoded physical lines of a binary file, read and decoded in large blocks.

    Equivalent to iterating the file and decoding each line (UTF-8, invalid bytes replaced,
    line ends and trailing ``\r`` removed), but the per-line Python work is the hot path of
    parsing, so it is done once per block (:func:`read_blocks` of whole lines, decoded by
    :func:`~._blocks.decode_lines`). Splitting on ``\n`` before decoding is safe: the
    byte never occurs inside a multi-byte UTF-8 sequence.
    """
    for lines in read_blocks(fh, 1, piece=block):
        yield from decode_lines(lines.data)


def read_line_series(fh: Readable, lines: int, piece: int = 1 << 22) -> Iterator[pl.Series]:
    """The lines :func:`read_lines` yields, ``lines`` at a time, as polars ``String`` series.

    The last series may be shorter; none is empty. Pieces of whole lines are read, decoded and
    split (:func:`~._blocks.split_lines`) one ahead in a background thread
    (:func:`read_ahead`) and cut into series of exactly ``lines`` lines: a chunk holds the
    lines that ``lines`` lines taken from :func:`read_lines` hold.
    """
    pending: list[pl.Series] = []
    held = 0
    for part in read_ahead(split_lines(data) for data in _whole_lines(fh, piece)):
        pending.append(part)
        held += part.len()
        if held < lines:
            continue
        joined = pl.concat(pending, rechunk=False)
        start = 0
        while held - start >= lines:
            yield joined.slice(start, lines).rechunk()
            start += lines
        pending = [joined.slice(start)] if start < held else []
        held -= start
    if held:
        yield pl.concat(pending).rechunk()


def _whole_lines(fh: Readable, piece: int) -> Iterator[bytes]:
    """``fh`` in pieces of about ``piece`` bytes, each cut after its last newline (the rest
    goes with the next piece; only the last piece may end without a newline)."""
    rest = b""
    while data := fh.read(piece):
        cut = data.rfind(b"\n") + 1
        if not cut:
            rest += data
            continue
        yield b"".join((rest, memoryview(data)[:cut])) if rest else data[:cut]
        rest = data[cut:]
    if rest:
        yield rest


def read_blocks(
    fh: Readable, lines: int, piece: int = 1 << 20, max_bytes: int = 1 << 26
) -> Iterator[Block]:
    """Blocks of whole physical lines of a binary file, with their number of lines.

    Each block ends with a newline (only the last block of the input may end without one) and
    holds at least ``lines`` lines, or at least ``max_bytes`` bytes, unless the input ends
    first. Lines are not decoded (:func:`~._blocks.decode_lines` gives the lines
    :func:`read_lines` would). The pass that counts newlines also tells whether a block is
    ``plain`` (:data:`~._blocks.PLAIN_BYTES` and newlines only): one pass, not two.
    """
    pending: list[bytes] = []
    size = count = 0
    plain = True
    while data := fh.read(piece):
        odd = data.translate(None, PLAIN_BYTES)  # the newlines, and any byte that is not plain
        newlines = odd.count(b"\n")
        clean = newlines == len(odd)
        if newlines and (count + newlines >= lines or size + len(data) >= max_bytes):
            cut = data.rfind(b"\n") + 1
            pending.append(data[:cut])
            yield Block(b"".join(pending), count + newlines, plain and clean)
            rest = data[cut:]
            # the rest of the piece goes with the next block (plain only if the whole piece was)
            pending, size, count, plain = ([rest] if rest else []), len(rest), 0, clean
            continue
        pending.append(data)
        size += len(data)
        count += newlines
        plain = plain and clean
    if pending:
        data = b"".join(pending)
        yield Block(data, count + (0 if data.endswith(b"\n") else 1), plain)


def read_ahead(items: Iterator[_T]) -> Iterator[_T]:
    """``items``, each one produced in a background thread while the previous one is used.

    Reading a block (decompressing, counting, copying) then overlaps with parsing the one
    before, which runs in polars without the GIL. Each item is made by a thread of its own,
    started once the previous item was taken: at most two are alive, and no thread outlives
    the item it makes, whether the consumer finishes, fails, closes or drops this generator
    (closing waits for the item in the making, so the file is not closed under it). An
    exception of the producer is raised here, in order.
    """

    def start() -> tuple[threading.Thread, list[tuple[bool, Any]]]:
        box: list[tuple[bool, Any]] = []

        def produce() -> None:
            try:
                box.append((True, next(items, _END)))
            except BaseException as exc:  # raised again in the consumer
                box.append((False, exc))

        worker = threading.Thread(target=produce, name="siem-consensus-read-ahead", daemon=True)
        worker.start()
        return worker, box

    worker, box = start()
    try:
        while True:
            worker.join()
            made, item = box[0]
            if not made:
                raise item
            if item is _END:
                return
            worker, box = start()
            yield item
    finally:
        worker.join()


def open_limited(path: Path, name: str, limits: Limits = DEFAULT_LIMITS) -> LimitedReader:
    """``path`` opened for binary reading (gzip decompressed on the fly) under ``limits``."""
    raw = open_binary(path)
    compressed = path.stat().st_size if isinstance(raw, gzip.GzipFile) else None
    return LimitedReader(raw, name, limits, compressed)


def open_stream(fh: IO[bytes], name: str, limits: Limits = DEFAULT_LIMITS) -> LimitedReader:
    """A binary stream (stdin) under ``limits``, decompressed when it starts as gzip does."""
    peek = getattr(fh, "peek", None)
    head = peek(2)[:2] if peek is not None else b""
    if head == b"\x1f\x8b":
        return LimitedReader(_GzipInput(fileobj=fh, mode="rb", filename=name), name, limits)
    return LimitedReader(fh, name, limits)


class Replay:
    """A stream (stdin) that can be rewound to its start while its first MiB is read.

    Format detection reads the head of an input and rewinds; a pipe cannot, so the first
    ``keep`` bytes are kept and served again. Past them nothing is kept.
    """

    def __init__(self, raw: LimitedReader, keep: int = 1 << 20) -> None:
        self.raw, self.keep = raw, keep
        self.buf, self.pos, self.rewindable = b"", 0, True

    @property
    def check_lines(self) -> bool:
        """Whether the line-length cap applies (not to a JSON array)."""
        return self.raw.check_lines

    @check_lines.setter
    def check_lines(self, value: bool) -> None:
        self.raw.check_lines = value

    def read(self, size: int = -1, /) -> bytes:
        """The kept bytes first (after a rewind), then the stream's."""
        if self.pos < len(self.buf):
            end = len(self.buf) if size < 0 else self.pos + size
            data = self.buf[self.pos : end]
            self.pos += len(data)
            return data + (self.raw.read() if size < 0 else b"")
        data = self.raw.read(size)
        if self.rewindable:
            self.buf += data
            self.pos = len(self.buf)
            if len(self.buf) > self.keep:
                self.buf, self.pos, self.rewindable = b"", 0, False
        return data

    def seek(self, offset: int, /) -> int:
        """Back to the start, while the head is kept."""
        if offset != 0 or not self.rewindable:
            raise InputError(f"{self.raw.name}: the stream's head is no longer kept to re-read")
        self.pos = 0
        return 0


def open_binary(path: Path) -> gzip.GzipFile | IO[bytes]:
    """``path`` opened for binary reading; gzip files (by their magic bytes) are decompressed
    on the fly, in place."""
    with path.open("rb") as fh:
        magic = fh.read(2)
    return _GzipInput(path, "rb") if magic == b"\x1f\x8b" else path.open("rb")


class _GzipInput(gzip.GzipFile):
    """A gzip input: a truncated or corrupt stream is an :class:`InputError` naming the file,
    raised where the reading stops (what was read before it has been parsed)."""

    def read(self, size: int | None = -1) -> bytes:
        try:
            return super().read(size)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise InputError(f"{self.name}: truncated or corrupt gzip data ({exc})") from exc
