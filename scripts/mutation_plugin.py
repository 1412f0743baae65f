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

With ``forkserver_warmup = "collect"`` (not the configured default yet: docs/testing.md) the fork
server collects the test selection once, so every worker forks with ``siem_consensus`` and
the test modules already imported instead of importing and collecting them per mutant.
Two things make that safe:

- polars must not start its thread pool before ``fork()`` (a pool inherited without its
  threads deadlocks the worker). The one computation at import time that would start it is
  the validation of the constant ATT&CK regexes (``enrich/attack_map.py``); during the warm-up
  ``Series.str.contains`` is stood in for, so the pool starts in each worker when first used.
  If the warm-up starts new threads anyway, the plugin says so in
  ``mutants/mutation-warmup.txt`` and every worker imports afresh.
- A mutated function called while modules are imported (a rule table built at import time)
  would run unmutated in a preloaded worker. The warm-up records those functions; a worker
  whose mutant belongs to one of them replaces itself (``exec``) with a fresh pytest that
  imports everything with the mutant active, as before.
"""

from __future__ import annotations

import gc
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
_WARMUP_REPORT = "mutation-warmup.txt"


class _Warmup:
    """What the fork server's warm-up found (inherited by every forked worker)."""

    active = False
    done = False
    fresh_import = False  # the warm-up started threads: every worker imports afresh
    import_time: set[str] = set()  # mutated functions called while importing
    restore: list[Callable[[], None]] = []


def _threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 0


def pytest_load_initial_conftests(early_config: pytest.Config, args: list[str]) -> None:
    """In the fork server's collect-only warm-up, record calls made while importing."""
    if "--collect-only" not in args or os.environ.get(_MUTANT) != "" or _Warmup.done:
        return
    try:
        from mutmut.mutation import trampoline
    except ImportError:
        return
    _Warmup.active = True
    threads = _threads()
    record: Callable[..., None] = getattr(trampoline, _RECORDER)

    def at_import(name: str, caller: str | None = None) -> None:
        _Warmup.import_time.add(name)

    setattr(trampoline, _RECORDER, at_import)
    os.environ[_MUTANT] = "stats"
    import polars

    namespace = polars.series.string.StringNameSpace
    contains = namespace.contains

    def no_pool(self: Any, pattern: Any, *a: Any, **k: Any) -> Any:
        return polars.Series([False] * self._s.len())

    namespace.contains = no_pool  # type: ignore[method-assign]

    def restore() -> None:
        namespace.contains = contains  # type: ignore[method-assign]
        setattr(trampoline, _RECORDER, record)
        os.environ[_MUTANT] = ""
        _Warmup.fresh_import = _threads() > threads
        _Warmup.active, _Warmup.done = False, True
        gc.freeze()
        with open(_WARMUP_REPORT, "w", encoding="utf-8") as out:
            out.write(f"threads before/after warm-up: {threads}/{_threads()}\n")
            out.write(f"workers import afresh: {_Warmup.fresh_import}\n")
            out.write("mutated functions called at import (their mutants import afresh):\n")
            out.writelines(f"  {name}\n" for name in sorted(_Warmup.import_time))

    _Warmup.restore.append(restore)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Freeze what a mutant's worker has imported; end of the warm-up: undo its stand-ins.

    pytest runs ``gc.collect()`` five times when it ends (to report unraisable exceptions),
    over every object of the package, the third-party libraries and the test modules: about
    1.5 CPU s per mutant, more than its tests. Frozen objects are left out of those
    collections; objects the tests create are still collected and reported.
    """
    if "__mutmut_" in os.environ.get(_MUTANT, ""):
        gc.freeze()
    while _Warmup.restore:
        _Warmup.restore.pop()()


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
    if _Warmup.active:
        return
    _import_afresh_if_needed(config)
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


def _import_afresh_if_needed(config: pytest.Config) -> None:
    """In a forked worker, exec a fresh pytest when preloaded modules would hide the mutant."""
    mutant = os.environ.get(_MUTANT, "")
    if not _Warmup.done or "__mutmut_" not in mutant:
        return
    function = mutant.rpartition("__mutmut_")[0]
    if not _Warmup.fresh_import and function not in _Warmup.import_time:
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    args = [sys.executable, "-m", "pytest", *config.invocation_params.args]
    os.execv(sys.executable, args)


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
