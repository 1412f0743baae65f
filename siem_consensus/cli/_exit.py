"""Exit codes as a contract, and the guard that turns every failure into one line.

=====  ===================================================================================
code   meaning
=====  ===================================================================================
0      done (alerts alone do not change the code; see ``--fail-on``)
1      ``--fail-on alert`` or ``--fail-on review`` matched a decision
2      usage or configuration error (bad flag, unknown name, unwritable output, bad TOML)
3      input error: an input could not be read, every line was rejected, a damaged file among
       several (the others were analysed and reported), a connector failed or a ``--to``
       sink refused decisions
4      provider failure, or ``--fail-on degraded`` and a decision was degraded
70     internal error (a bug: please report it; ``SIEM_CONSENSUS_TRACEBACK=1`` shows where)
130    interrupted (Ctrl-C)
141    the reader of the output went away (``| head``): stopped quietly
=====  ===================================================================================

When several apply, the highest of 1, 3 and 4 wins.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import threading
from collections.abc import Callable

__all__ = [
    "BROKEN_PIPE",
    "EXIT_CODES_HELP",
    "FINDINGS",
    "INPUT",
    "INTERNAL",
    "INTERRUPTED",
    "OK",
    "PROVIDER",
    "USAGE",
    "guarded",
]

OK, FINDINGS, USAGE, INPUT, PROVIDER = 0, 1, 2, 3, 4
INTERNAL, INTERRUPTED, BROKEN_PIPE = 70, 130, 141

EXIT_CODES_HELP = """\
exit codes:
  0    done (alerts alone do not fail a run; see --fail-on)
  1    --fail-on alert|review matched a decision
  2    usage or configuration error (nothing was analysed)
  3    input error: unreadable or damaged input, every line rejected, connector or sink failed
  4    LLM provider failure, or --fail-on degraded and a decision was degraded
  130  interrupted (Ctrl-C)
  141  output pipe closed by its reader (| head)
"""


def guarded(run: Callable[[], int]) -> int:
    """Run the command; every failure becomes one line on stderr and an exit code."""
    from ..errors import InputError, ProviderError, RuntimeFailure, UsageError

    if not os.environ.get("SIEM_CONSENSUS_TRACEBACK"):
        threading.excepthook = _thread_failed
    try:
        code = run()
        sys.stdout.flush()
        return code
    except KeyboardInterrupt:
        _say("interrupted")
        return INTERRUPTED
    except BrokenPipeError:
        return _quiet_pipe()
    except UsageError as exc:
        _say(f"error: {exc}")
        return USAGE
    except ProviderError as exc:
        _say(f"provider failed: {exc}")
        return PROVIDER
    except (InputError, RuntimeFailure) as exc:
        _say(f"failed: {exc}")
        return INPUT
    except (OSError, sqlite3.Error) as exc:  # a file or database we were pointed at
        _say(f"failed: {exc}")
        return INPUT
    except Exception as exc:  # a bug: one line, never a traceback, unless asked
        if os.environ.get("SIEM_CONSENSUS_TRACEBACK"):
            raise
        _say(
            f"internal error: {type(exc).__name__}: {exc} (a bug; rerun with "
            "SIEM_CONSENSUS_TRACEBACK=1 and report what it shows)"
        )
        return INTERNAL


def _thread_failed(args: threading.ExceptHookArgs) -> None:
    """A helper thread failed (often after the failure already reported): one line."""
    _say(f"background thread: {args.exc_type.__name__}: {args.exc_value}")


def _say(text: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        print(f"siem-consensus: {text}", file=sys.stderr, flush=True)


def _quiet_pipe() -> int:
    """The reader closed the pipe: drop what is buffered without another EPIPE at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return BROKEN_PIPE
