"""What a person watching the terminal sees: progress with percent and ETA, logging level,
the ``--verbose`` accounting, and the input caps from the flags."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ..parsers.reading import Limits
    from ..report import Report

__all__ = ["Progress", "configure_logging", "describe", "limits", "make_progress", "zone"]


class Progress:
    """One progress line on stderr (a TTY), redrawn at most 5 times a second.

    With a known size it shows the share read and the time left at the rate so far:
    ``read 120,000 lines  42%  ETA 0:13``; otherwise the lines read.
    """

    def __init__(self, stream: TextIO, clock: Any = time.monotonic) -> None:
        self.stream, self.clock = stream, clock
        self.started = clock()
        self.last = 0.0

    def __call__(self, lines: int, done: int, total: int) -> None:
        now = self.clock()
        if now - self.last < 0.2:
            return
        self.last = now
        self.stream.write("\r\033[K" + self.text(lines, done, total, now - self.started))
        self.stream.flush()

    @staticmethod
    def text(lines: int, done: int, total: int, elapsed: float) -> str:
        """The progress line for ``done`` of ``total`` bytes after ``elapsed`` seconds."""
        line = f"read {lines:,} lines"
        if total and done:
            share = min(done / total, 1.0)
            left = elapsed * (1 - share) / share
            line += f"  {share:.0%}  ETA {int(left) // 60}:{int(left) % 60:02d}"
        return line

    def close(self) -> None:
        """Erase the line."""
        if self.last:
            self.stream.write("\r\033[K")
            self.stream.flush()


def make_progress(stream: TextIO, *, enabled: bool) -> Progress | None:
    """A progress line when asked for and ``stream`` is a terminal (``TERM=dumb``: none)."""
    if not enabled or not stream.isatty() or os.environ.get("TERM") == "dumb":
        return None
    return Progress(stream)


def configure_logging(level: str | None) -> None:
    """Library log records at ``level`` and above on stderr (none by default)."""
    if level is None:
        return
    import logging

    logging.basicConfig(
        level=level.upper(), stream=sys.stderr, format="siem-consensus: %(levelname)s %(message)s"
    )


def describe(report: Report) -> None:
    """``--verbose``: the input accounting per input and the time of each stage."""
    stats = report.input
    say = sys.stderr.write
    say(
        f"input: {stats.lines:,} lines -> {stats.events:,} events, {stats.dead_letters:,} dead "
        f"letters, {stats.skipped_lines:,} skipped\n"
    )
    for name, fmt in stats.formats.items():
        say(f"  {name}: {fmt}\n")
    for stage, seconds in report.timings.items():
        say(f"time {stage}: {seconds:.2f}s\n")


def limits(args: argparse.Namespace) -> Limits:
    """The input caps: the flags given, the library defaults otherwise."""
    from ..parsers.reading import DEFAULT_LIMITS, Limits

    given = {
        key: getattr(args, key)
        for key in ("max_line_bytes", "max_input_bytes", "max_gzip_ratio")
        if getattr(args, key, None) is not None
    }
    return Limits(**given) if given else DEFAULT_LIMITS


def zone(name: str | None) -> Any:
    """The ``--timezone`` as a ``ZoneInfo`` (None when not given).

    Raises:
        UsageError: Not an IANA zone name known to this system (or to ``tzdata``).
    """
    if name is None:
        return None
    from zoneinfo import ZoneInfo

    from ..parsers._zone import check_zone

    check_zone(name, "--timezone")
    return ZoneInfo(name)
