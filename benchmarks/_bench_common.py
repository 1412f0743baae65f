"""What the line-throughput benchmarks share: the floor, fresh-process runs, RSS and CPU time.

``bench_firewall.py`` and ``bench_auth.py`` measure parse (+ detect) of one generated file per
size against a *floor*: read the file and ``line.split()`` each line, the least any Python
parser does. Every measurement runs in a fresh interpreter (the script calls itself with
``--worker MODE --file PATH``) so that peak RSS (``ru_maxrss`` of that process) belongs to one
run; ``--repeat N`` keeps the fastest of N runs and the largest peak RSS among them.

A worker times its run from after the imports (``import_s`` is reported apart) and reports
``seconds`` (wall clock), ``cpu_s`` (user + system time of the process, every thread) and
``peak_rss_mb``, printed as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def run_floor(path: Path) -> dict[str, Any]:
    """Read ``path`` and split every line: the floor the parsers are measured against."""
    lines = 0
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line.split()
            lines += 1
    return {"lines": lines}


def cpu_s() -> float:
    """CPU seconds (user + system, every thread) this process has used."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def report(run: Callable[[], dict[str, Any]], began: float) -> None:
    """Time ``run`` (wall clock and CPU) and print its result as one JSON line.

    ``began`` is when the worker started, before its imports (reported as ``import_s``).
    """
    started, cpu = time.perf_counter(), cpu_s()
    result = run()
    result["seconds"] = time.perf_counter() - started
    result["cpu_s"] = cpu_s() - cpu
    result["import_s"] = started - began
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(
    script: str, mode: str, path: Path | Sequence[Path], extra: Sequence[str], repeat: int
) -> dict[str, Any]:
    """Fastest of ``repeat`` fresh-process runs of ``script --worker mode`` on ``path`` (one
    ``--file`` each when several), with the largest peak RSS among them."""
    files = [path] if isinstance(path, Path) else list(path)
    command = [sys.executable, script, "--worker", mode]
    command += [arg for file in files for arg in ("--file", str(file))]
    command += extra
    runs = []
    for _ in range(repeat):
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    best: dict[str, Any] = min(runs, key=lambda r: r["seconds"])
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    return best


def ensure_file(path: Path, write: Callable[[Path], object]) -> Path:
    """``path``, written by ``write`` (to a temporary name, then renamed) if it is missing."""
    if not path.exists():
        print(f"generating {path} ...", file=sys.stderr, flush=True)
        partial = path.with_suffix(".tmp")
        write(partial)
        partial.replace(path)
    return path


def common_args(
    parser: argparse.ArgumentParser, sizes: str, modes: Sequence[str]
) -> argparse.ArgumentParser:
    """Add the options every line benchmark has (sizes, cache, seed, chunk, repeat, worker)."""
    parser.add_argument("--sizes", default=sizes, help="comma-separated line counts")
    default_cache = Path(tempfile.gettempdir()) / "siem_consensus_bench"
    parser.add_argument("--cache-dir", type=Path, default=default_cache)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chunk-lines", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (fastest kept)")
    parser.add_argument("--worker", choices=modes, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    return parser


def sizes_of(text: str) -> list[int]:
    """``1000000,5_000_000`` -> ``[1000000, 5000000]``."""
    return [int(s.replace("_", "")) for s in text.split(",")]


def load_average() -> float:
    """The one-minute load average (NaN where the platform has none)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def verdict(met: bool) -> str:
    """``met`` / ``NOT met``, for the target lines."""
    return "met" if met else "NOT met"


def detection_result(stream: Any, detector: Any, incidents: Sequence[Any]) -> dict[str, Any]:
    """What a parse+detect run reports: lines, dead letters, incidents (and per kind), counters."""
    kinds: dict[str, int] = {}
    for incident in incidents:
        kinds[incident.kind] = kinds.get(incident.kind, 0) + 1
    return {
        "lines": stream.stats.lines,
        "dead_letters": stream.stats.dead_letters,
        "incidents": len(incidents),
        "kinds": kinds,
        "counters": detector.counters,
    }
