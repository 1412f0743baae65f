"""Start-up cost of the command line and of ``import siem_consensus``, against bare Python.

Usage::

    python benchmarks/bench_startup.py [--runs 3]

Each measurement starts a fresh process (wall clock, best of ``--runs``):

* ``bare``: ``python -c "import argparse, json"``, the least any Python command line costs;
* ``help``: ``siem-consensus --help`` (the installed entry point next to this interpreter);
* ``import``: ``python -c "import siem_consensus"``.

It prints both ratios to ``bare``. Target from issue 12: ``help`` <= 8x ``bare``; ``import``
stays light (graphs, analysts, connectors and vendor SDKs load on first use). On a shared
machine the best of several runs is the fair figure: the others measure the neighbours.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path


def _best(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    """Measure and print the three times and the two ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    script = Path(sys.executable).with_name("siem-consensus")
    cli = [str(script)] if script.exists() else [sys.executable, "-m", "siem_consensus.cli"]
    bare = _best([sys.executable, "-c", "import argparse, json"], runs)
    help_ = _best([*cli, "--help"], runs)
    imported = _best([sys.executable, "-c", "import siem_consensus"], runs)
    print(f"bare python  {bare * 1000:7.0f} ms")
    print(f"--help       {help_ * 1000:7.0f} ms   {help_ / bare:4.1f}x bare (target <= 8x)")
    print(f"import       {imported * 1000:7.0f} ms   {imported / bare:4.1f}x bare")


if __name__ == "__main__":
    main()
