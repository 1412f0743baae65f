"""pytest plugin for ``make mutation``: a test covers a function only from close by.

mutmut 3 runs the suite once, unmutated, and records which tests call each mutated function;
each mutant then runs only those tests. Every end-to-end test (the CLI, a graph, a report)
calls most of the decision path, so without a limit each mutant is "covered" by hundreds of
slow tests that run to the end whenever the mutant survives. This plugin records a call only
when at most ``--mutation-depth`` frames of ``siem_consensus`` code lie between the test and
the called function: unit tests and short pipelines cover it, long end-to-end chains do not.

mutmut's own ``max_stack_depth`` option does the same, but resolves every frame's file with
``Path.resolve(strict=True)``, which raises on ``<frozen importlib._bootstrap>`` (a rule table
built at import time) and ``<string>`` frames, so it cannot be used here. The depth is a
pytest option (in ``[tool.mutmut] pytest_add_cli_args``) so that changing it changes mutmut's
configuration fingerprint and the coverage is collected again.

While coverage is collected, ``MUTANT_UNDER_TEST=stats`` is taken out of the environment
(mutmut keeps it in the process, too): a CLI test's child process would inherit it and try to
record coverage without mutmut's configuration, which fails the test. A child's calls are
never recorded anyway; in a mutant's run the child inherits the mutant, as it should.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from typing import Any

import pytest

_DEPTH_OPTION = "--mutation-depth"
_MUTANT = "MUTANT_UNDER_TEST"
_RECORDER = "record_trampoline_hit"
_STASHED = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register ``--mutation-depth`` (0: no limit)."""
    parser.addoption(
        _DEPTH_OPTION,
        type=int,
        default=0,
        help="record a call to a mutated function only within this many siem_consensus frames",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Wrap mutmut's trampoline-hit recorder with the depth limit (stats runs only)."""
    if os.environ.get(_MUTANT) == "stats":
        config.stash[_STASHED] = os.environ.pop(_MUTANT)
    limit: int = config.getoption(_DEPTH_OPTION)
    if limit <= 0:
        return
    try:
        from mutmut.mutation import trampoline
    except ImportError:  # not under mutmut
        return
    spec = importlib.util.find_spec("siem_consensus")
    if spec is None or not spec.submodule_search_locations:
        return
    source = os.path.join(next(iter(spec.submodule_search_locations)), "")
    record: Callable[..., None] = getattr(trampoline, _RECORDER)
    if getattr(record, "_depth_limited", False):
        return

    def limited(name: str, caller: str | None = None) -> None:
        if _within(sys._getframe(1), source, limit):
            record(name, caller=caller)

    limited._depth_limited = True  # type: ignore[attr-defined]
    setattr(trampoline, _RECORDER, limited)  # the trampoline looks it up at every call


def pytest_unconfigure(config: pytest.Config) -> None:
    """Put ``MUTANT_UNDER_TEST`` back as mutmut set it."""
    if _STASHED in config.stash:
        os.environ.setdefault(_MUTANT, config.stash[_STASHED])


def _within(frame: Any, source: str, limit: int) -> bool:
    """Whether at most ``limit`` frames of ``source`` lie between ``frame`` and pytest."""
    seen = 0
    while frame is not None:
        filename: str = frame.f_code.co_filename
        if "pytest" in filename:
            return True
        if filename.startswith(source):
            seen += 1
            if seen > limit:
                return False
        frame = frame.f_back
    return True
