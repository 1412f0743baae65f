"""The small commands: ``export``, ``demo`` and ``formats``."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from ._output import check_output, write_text

__all__ = ["run_demo", "run_export", "run_formats"]


def run_export(args: argparse.Namespace) -> int:
    check_output(args.output, "--output")
    from ..export import export_report

    write_text(export_report(args.report, args.format), args.output)
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from .. import examples

    runs: tuple[Callable[[], object], ...] = (
        examples.example_1,
        examples.example_2,
        examples.example_3,
        examples.example_4,
    )
    for number, run in enumerate(runs, 1):
        if args.example in (None, number):
            run()
    return 0


def run_formats() -> int:
    from ..parsers import PARSERS

    for name in sorted(PARSERS):
        print(f"{name:<14} {PARSERS[name].description}")
    return 0
