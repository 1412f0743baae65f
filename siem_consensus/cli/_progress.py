"""What a person watching the terminal sees: progress with percent and ETA (``rich``), the
logging level, the ``--verbose`` accounting, and the input caps from the flags."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ..parsers.reading import Limits
    from ..report import Report

__all__ = ["Progress", "configure_logging", "describe", "limits", "make_progress", "zone"]


class Progress:
    """A ``rich`` progress bar on a terminal: lines read, percent and ETA for inputs of known
    size (the lines alone otherwise), redrawn at most 5 times a second and erased at the end.

    ``rich`` is imported here, on first use, so that ``--help`` stays light. It honours
    ``NO_COLOR`` (no colours, the bar still moves). Several inputs restart the bar per input.
    """

    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as Bar

        self.clock, self.last = clock, -1.0
        self.bar = Bar(
            TextColumn("read {task.fields[lines]:,} lines"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[eta]}"),  # "ETA" when the size is known
            TimeRemainingColumn(),
            console=Console(file=stream),
            auto_refresh=False,  # drawn from __call__: no thread, nothing after close()
            transient=True,
            redirect_stdout=False,  # the report goes to stdout after the bar is gone
            get_time=clock,
        )
        self.task: Any = None
        self.total = 0

    def __call__(self, lines: int, done: int, total: int) -> None:
        if self.task is None:
            self.bar.start()
            self.task = self.bar.add_task(
                "read", total=total or None, completed=done, lines=lines, eta=_eta(total)
            )
        elif total != self.total or done < self.bar.tasks[0].completed:
            # the next input: its own rate and ETA (reset replaces the fields)
            self.bar.reset(self.task, total=total or None, lines=lines, eta=_eta(total))
        self.total = total
        self.bar.update(
            self.task, total=total or None, completed=done, lines=lines, eta=_eta(total)
        )
        now = self.clock()
        if now - self.last >= 0.2:
            self.last = now
            self.bar.refresh()

    def close(self) -> None:
        """Erase the bar."""
        if self.task is not None:
            self.bar.stop()
            self.task = None


def _eta(total: int) -> str:
    return "ETA" if total else ""


def make_progress(stream: TextIO, *, enabled: bool) -> Progress | None:
    """A progress bar when asked for and ``stream`` is a terminal (``TERM=dumb``: none)."""
    if not enabled or not stream.isatty() or os.environ.get("TERM") == "dumb":
        return None
    return Progress(stream)


def configure_logging(level: str | None) -> None:
    """Library log records at ``level`` and above on stderr (none by default)."""
    if level is None:
        return
    import logging

    class CurrentStderr(logging.Handler):
        """Writes to ``sys.stderr`` as it is when a record comes: while the progress bar shows,
        that is rich's proxy, which prints the record above the bar instead of across it."""

        def emit(self, record: logging.LogRecord) -> None:
            try:
                sys.stderr.write(self.format(record) + "\n")
            except Exception:
                self.handleError(record)

    logging.basicConfig(
        level=level.upper(),
        handlers=[CurrentStderr()],
        format="siem-consensus: %(levelname)s %(message)s",
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
