"""Caps on what one input may hold: line length, decompressed size, gzip expansion."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import InputError

__all__ = ["DEFAULT_LIMITS", "Limits", "LimitedReader"]


@dataclass(frozen=True)
class Limits:
    """How much one input may hold before it is refused with an :class:`InputError`.

    Attributes:
        max_line_bytes: Longest physical line (lines over 1 MiB already become dead letters
            unparsed; past this the input is not a log and reading stops).
        max_input_bytes: Most bytes read from one input, after decompression.
        max_gzip_ratio: Most a gzip input may expand (decompressed / compressed bytes, checked
            once past 1 MiB): real logs compress 3-140x (AIT-ADS alert CSVs reach 138x), a
            stream of padding or blank lines about 1000x.
    """

    max_line_bytes: int = 16 << 20
    max_input_bytes: int = 64 << 30
    max_gzip_ratio: float = 300.0


DEFAULT_LIMITS = Limits()


class LimitedReader:
    """A binary reader that counts what passes through and enforces :class:`Limits`.

    Args:
        raw: The binary file (plain or decompressing).
        name: The input's name, for messages.
        limits: The caps.
        compressed: Size of the compressed file, for the gzip expansion check.
    """

    def __init__(self, raw: Any, name: str, limits: Limits, compressed: int | None = None) -> None:
        self.raw, self.name, self.limits, self.compressed = raw, name, limits, compressed
        self.read_bytes = self.newlines = self.run = 0
        self.check_lines = True

    def read(self, size: int = -1, /) -> bytes:
        """Read like the wrapped file; raise InputError once a cap is passed."""
        data: bytes = self.raw.read(size)
        self.read_bytes += len(data)
        limits = self.limits
        if self.read_bytes > limits.max_input_bytes:
            raise InputError(
                f"{self.name}: more than {_size(limits.max_input_bytes)} read (after "
                "decompression); raise the cap with --max-input-bytes / Limits.max_input_bytes"
            )
        if self.compressed and self.read_bytes > 1 << 20:
            ratio = self.read_bytes / self.compressed
            if ratio > limits.max_gzip_ratio:
                raise InputError(
                    f"{self.name}: gzip expands {ratio:.0f}x (more than "
                    f"{limits.max_gzip_ratio:g}x): padding or blank lines, not a log; raise "
                    "the cap with --max-gzip-ratio / Limits.max_gzip_ratio"
                )
        if self.check_lines:
            self._lines(data)
        return data

    def _lines(self, data: bytes) -> None:
        cap = self.limits.max_line_bytes
        newlines = data.count(b"\n")
        if not newlines:
            self.run += len(data)
            if self.run > cap:
                self._too_long(self.newlines + 1)
            return
        if self.run + data.find(b"\n") > cap:
            self._too_long(self.newlines + 1)
        if len(data) > cap:  # only then can a line inside this piece be too long
            for k, part in enumerate(data.split(b"\n")[1:-1], start=2):
                if len(part) > cap:
                    self._too_long(self.newlines + k)
        self.run = len(data) - data.rfind(b"\n") - 1
        self.newlines += newlines
        if self.run > cap:
            self._too_long(self.newlines + 1)

    def _too_long(self, line: int) -> None:
        raise InputError(
            f"{self.name}: line {line:,} is longer than {_size(self.limits.max_line_bytes)}: "
            "not a log line; raise the cap with --max-line-bytes / Limits.max_line_bytes"
        )

    def seek(self, offset: int, /) -> int:
        """Rewind (to 0: what the readers here do); the counts start again."""
        self.read_bytes = self.newlines = self.run = 0
        result: int = self.raw.seek(offset)
        return result

    def close(self) -> None:
        """Close the wrapped file."""
        self.raw.close()

    def __enter__(self) -> LimitedReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):g} {unit}"
    return f"{n} bytes"
