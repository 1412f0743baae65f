"""Flags every detector command shares for scripting: exit policy, output, logging, inputs."""

from __future__ import annotations

import argparse

from ..errors import UsageError
from ._exit import EXIT_CODES_HELP

__all__ = ["CACHE", "SEVERITIES", "add_run_flags", "add_version", "epilog", "parse_budget"]

SEVERITIES = ("info", "low", "medium", "high", "critical")
LOG_LEVELS = ("debug", "info", "warning", "error")
CACHE = "~/.cache/siem-consensus/responses.sqlite"


def epilog() -> str:
    """The exit-code table shown at the end of ``--help``."""
    return EXIT_CODES_HELP


def add_version(parser: argparse.ArgumentParser) -> None:
    """``--version``: the installed package version, without importing the package."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        text = version("siem-consensus")
    except PackageNotFoundError:  # pragma: no cover - running from a plain checkout
        text = "unknown"
    parser.add_argument("--version", action="version", version=f"siem-consensus {text}")


def add_run_flags(p: argparse.ArgumentParser) -> None:
    """Exit policy, output filters, verbosity, time zone and input caps."""
    p.add_argument(
        "--fail-on",
        metavar="WHAT",
        help="exit non-zero on findings: comma list of alert, review (exit 1), degraded (exit 4)",
    )
    p.add_argument(
        "--min-severity", choices=SEVERITIES, help="show only incidents at or above this severity"
    )
    p.add_argument(
        "--only", metavar="OUTCOMES", help="show only these outcomes: alert,needs_review,dismissed"
    )
    noise = p.add_mutually_exclusive_group()
    noise.add_argument(
        "--quiet", "-q", action="store_true", help="no progress, no warnings: errors only"
    )
    noise.add_argument(
        "--verbose", "-v", action="store_true", help="per-input accounting and timings on stderr"
    )
    p.add_argument("--log-level", choices=LOG_LEVELS, help="library log messages on stderr")
    p.add_argument(
        "--timezone",
        metavar="ZONE",
        help="zone of time stamps written without one (IANA name, e.g. Europe/Vienna; default UTC)",
    )
    p.add_argument(
        "--max-line-bytes",
        type=_size,
        metavar="SIZE",
        help="longest physical line an input may hold (default 16MiB; e.g. 64KiB, 1MiB)",
    )
    p.add_argument(
        "--max-input-bytes",
        type=_size,
        metavar="SIZE",
        help="most (decompressed) bytes read from one input (default 64GiB; e.g. 500MiB)",
    )
    p.add_argument(
        "--max-gzip-ratio",
        type=_ratio,
        metavar="X",
        help="most a gzip input may expand once past 1MiB (default 300; logs compress 3-140x)",
    )


def _size(text: str) -> int:
    """``4096``, ``64KiB``, ``10MB``, ``2GiB`` -> bytes."""
    units = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    raw = text.strip().lower().removesuffix("b").removesuffix("i")
    number, unit = (raw[:-1], raw[-1]) if raw and raw[-1] in "kmgt" else (raw, "")
    try:
        value = int(float(number) * units[unit])
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (4096, 64KiB, 10MiB)") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: a size must be positive")
    return value


def _ratio(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 1:
        raise argparse.ArgumentTypeError(f"{text!r}: a gzip expansion ratio is more than 1")
    return value


def parse_budget(text: str) -> tuple[int | None, float | None]:
    """``200000``/``200000tok`` -> (tokens, None); ``$5``/``5usd`` -> (None, dollars)."""
    raw = text.strip().lower().replace("_", "").replace(",", "")
    try:
        if raw.startswith("$") or raw.endswith("usd"):
            return None, float(raw.strip("$").removesuffix("usd"))
        return int(raw.removesuffix("tok").removesuffix("tokens")), None
    except ValueError:
        raise UsageError(
            f"--budget {text!r} is neither tokens (200000 or 200000tok) nor dollars ($5 or 5usd)"
        ) from None
