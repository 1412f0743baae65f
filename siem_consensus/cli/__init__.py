"""Command line: ``siem-consensus COMMAND`` (firewall, ids, insider, auth, stream, review, ...).

Exit codes (also at the end of ``--help``; see :mod:`._exit`): 0 done, 1 ``--fail-on`` matched,
2 usage or configuration error, 3 input, connector or sink failure, 4 provider failure (or
``--fail-on degraded``), 130 interrupted, 141 output pipe closed. No failure prints a
traceback: each is one line on stderr.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._exit import guarded
from ._options import COMMANDS, build_parser
from ._output import check_output
from ._triage import parse_budget

__all__ = ["main", "parse_budget"]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``siem-consensus`` command."""
    return guarded(lambda: _dispatch(argv))


def _dispatch(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    for option in ("checkpoint", "actions_log"):  # SQLite files: their folder must exist
        check_output(getattr(args, option, None), "--" + option.replace("_", "-"), stdout_ok=False)
    if args.command in COMMANDS:
        import sys

        from ._defaults import apply_defaults
        from ._triage import run_triage

        apply_defaults(args, sys.argv[1:] if argv is None else argv)

        return run_triage(args)
    if args.command == "review":
        from ._review import run_review

        return run_review(args)
    from ._tools import run_demo, run_export, run_formats

    if args.command == "export":
        return run_export(args)
    if args.command == "demo":
        return run_demo(args)
    if args.command == "cache":
        from ._cache import run_cache

        return run_cache(args)
    if args.command == "stream":
        import sys

        from ._defaults import apply_defaults
        from ._stream import run_stream

        apply_defaults(args, sys.argv[1:] if argv is None else argv)  # as the batch commands
        return run_stream(args)
    return run_formats()
