"""Start-up cost of the command line and of ``import siem_consensus``, against bare Python.

Usage::

    python benchmarks/bench_startup.py [--runs 3]

Each measurement starts a fresh process and takes the best of ``--runs``, of its wall clock
and, separately, of its CPU time (user + system of the child, from the kernel's accounting):

* ``bare``: ``python -c "import argparse, json"``, the least any Python command line costs;
* ``help``: ``siem-consensus --help`` (the installed entry point next to this interpreter);
* ``import``: ``python -c "import siem_consensus"``;
* ``refused``: ``siem-consensus firewall LOG --thresholds BAD.toml``, a run refused before any
  analysis (exit 2): it should cost no more than ``import``, since it needs no graph;
* ``firewall``: ``siem-consensus firewall LOG --format json`` on the seeded 1,380-line ASA log
  of example 1: start-up, LangGraph and a small analysis.

It prints both ratios to ``bare``. Target from issue 12: ``help`` <= 8x ``bare``; ``import``
stays light (graphs, analysts, connectors and vendor SDKs load on first use). On a shared
machine the best of several runs is the fair figure: the others measure the neighbours; CPU
time is less sensitive to them than wall time.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _best(command: list[str], runs: int, cwd: str, code: int = 0) -> tuple[float, float]:
    """Best wall time and best CPU time (user + system) of ``runs`` runs of ``command``."""
    walls, cpus = [], []
    for _ in range(runs):
        before = os.times()
        started = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, capture_output=True, check=False)
        walls.append(time.perf_counter() - started)
        after = os.times()
        cpus.append(
            after.children_user + after.children_system
            - before.children_user - before.children_system
        )  # fmt: skip
        if done.returncode != code:
            raise SystemExit(f"{command}: exit {done.returncode}, want {code}: {done.stderr!r}")
    return min(walls), min(cpus)


def _inputs(folder: Path) -> None:
    from siem_consensus.generators.firewall import scenario_1

    (folder / "asa.log").write_text("\n".join(scenario_1(seed=7)) + "\n", encoding="utf-8")
    (folder / "bad.toml").write_text("[firewall\nport_scan_ports = ", encoding="utf-8")


def main() -> None:
    """Measure and print the times and the ratios to bare Python."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    script = Path(sys.executable).with_name("siem-consensus")
    cli = [str(script)] if script.exists() else [sys.executable, "-m", "siem_consensus.cli"]
    with tempfile.TemporaryDirectory() as folder:
        _inputs(Path(folder))
        rows = {
            "bare python": _best([sys.executable, "-c", "import argparse, json"], runs, folder),
            "--help": _best([*cli, "--help"], runs, folder),
            "import": _best([sys.executable, "-c", "import siem_consensus"], runs, folder),
            "refused": _best(
                [*cli, "firewall", "asa.log", "--thresholds", "bad.toml"], runs, folder, code=2
            ),  # fmt: skip
            "firewall": _best([*cli, "firewall", "asa.log", "--format", "json"], runs, folder),
        }
    bare_wall, bare_cpu = rows["bare python"]
    print(f"{'':12} {'wall':>8} {'x bare':>7} {'CPU':>8} {'x bare':>7}")
    for name, (wall, cpu) in rows.items():
        target = "   (target <= 8x)" if name == "--help" else ""
        print(
            f"{name:12} {wall * 1000:6.0f} ms {wall / bare_wall:6.1f}x "
            f"{cpu * 1000:6.0f} ms {cpu / bare_cpu:6.1f}x{target}"
        )


if __name__ == "__main__":
    main()
