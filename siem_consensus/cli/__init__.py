"""Command line: ``siem-consensus firewall|ids|insider|stream|review|export|demo|formats``.

Exit codes: 0 done, 2 usage or configuration error, 3 runtime failure (unreadable input,
provider, connector; also when a ``--to`` sink refused decisions, after the report is written).
Alerts do not change the exit code.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ..errors import RuntimeFailure, UsageError
from ._options import COMMANDS, build_parser
from ._review import run_review
from ._stream import run_stream
from ._tools import run_demo, run_export, run_formats
from ._triage import parse_budget, run_triage

__all__ = ["main", "parse_budget"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``siem-consensus`` command."""
    args = build_parser().parse_args(argv)
    try:
        if args.command in COMMANDS:
            return run_triage(args)
        if args.command == "review":
            return run_review(args)
        if args.command == "export":
            return run_export(args)
        if args.command == "demo":
            return run_demo(args)
        if args.command == "stream":
            return run_stream(args)
        return run_formats()
    except UsageError as exc:
        print(f"siem-consensus: error: {exc}", file=sys.stderr)
        return 2
    except RuntimeFailure as exc:
        print(f"siem-consensus: failed: {exc}", file=sys.stderr)
        return 3


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
