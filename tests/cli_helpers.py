"""Running ``siem-consensus``: as a subprocess through the installed entry point, as a user
would (:func:`run_cli`), or through :func:`siem_consensus.cli.main` in the test's own process
(:func:`run_main`).

A child process costs about 1.5 s of CPU to import the package and LangGraph, so
:func:`run_cli` is for what only a process shows: exit status, signals, stdin, a terminal, the
traceback switch, the import cost. A test that reads a command's report and messages uses
:func:`run_main`: the same arguments, working folder and environment, the same exit code
(argparse's ``SystemExit`` included), stdout and stderr, in milliseconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def entry_point() -> list[str]:
    """The console script next to this interpreter, else ``python -m siem_consensus.cli``."""
    script = Path(sys.executable).with_name("siem-consensus")
    if script.exists():
        return [str(script)]
    found = shutil.which("siem-consensus")
    return [found] if found else [sys.executable, "-m", "siem_consensus.cli"]


def cli_env(**extra: str) -> dict[str, str]:
    """The environment with this checkout first on the path and no traceback switch."""
    env = {k: v for k, v in os.environ.items() if k != "SIEM_CONSENSUS_TRACEBACK"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("SIEM_CONSENSUS_CONNECTORS", None)
    env.update(extra)
    return env


def run_cli(
    args: Sequence[str],
    cwd: Path,
    stdin: bytes | None = None,
    timeout: float = 120,
    **env: str,
) -> subprocess.CompletedProcess[str]:
    """Run ``siem-consensus ARGS`` in ``cwd`` and capture its text output."""
    proc = subprocess.run(
        [*entry_point(), *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        timeout=timeout,
        env=cli_env(**env),
        check=False,
    )
    return subprocess.CompletedProcess(
        proc.args,
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )


def run_main(
    args: Sequence[str],
    cwd: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    **env: str,
) -> subprocess.CompletedProcess[str]:
    """Run ``siem-consensus ARGS`` in this process, in ``cwd``, as :func:`run_cli` would.

    The environment is :func:`cli_env`'s (no traceback switch, no connections file from the
    environment) plus ``env``, restored after the test; the result carries the exit code and
    what the command printed on stdout and stderr.
    """
    from siem_consensus.cli import main

    monkeypatch.chdir(cwd)
    for name in ("SIEM_CONSENSUS_TRACEBACK", "SIEM_CONSENSUS_CONNECTORS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()  # what the test printed before is not the command's
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse refuses a flag (2) or answers --help (0)
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(["siem-consensus", *args], code, out, err)
