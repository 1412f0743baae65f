"""Running the installed ``siem-consensus`` entry point as a subprocess, as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

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
