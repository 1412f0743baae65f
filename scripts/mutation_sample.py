"""A seeded random sample of mutants per module, for a quick estimate of the scores.

A full ``make mutation`` runs every mutant; on a busy machine a sample first shows where the
survivors are. Prints mutant names, one per line, taken from ``mutants/<module>.meta``
(run ``make mutation`` once, or any ``mutmut run``, to generate them)::

    make mutation MUTANTS="$(python scripts/mutation_sample.py 20)"

Usage: ``python scripts/mutation_sample.py N [--seed S] [--not-run] [--module GLOB]``.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutation_report import ROOT, mutated_modules  # noqa: E402


def sample(n: int, *, seed: int = 0, not_run: bool = False, module: str = "*") -> list[str]:
    """Up to ``n`` mutant names per mutated module matching ``module``, sorted."""
    rng = random.Random(seed)
    chosen: list[str] = []
    for path in mutated_modules():
        meta = ROOT / "mutants" / f"{path}.meta"
        if not fnmatch.fnmatch(str(path), module) or not meta.exists():
            continue
        codes: dict[str, int | None] = json.loads(meta.read_text(encoding="utf-8"))[
            "exit_code_by_key"
        ]
        names = sorted(k for k, v in codes.items() if not not_run or v is None)
        chosen += sorted(rng.sample(names, min(n, len(names))))
    return chosen


def main(argv: list[str] | None = None) -> int:
    """Print the sample."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="mutants per module")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--not-run", action="store_true", help="only mutants not run yet")
    parser.add_argument("--module", default="*", help="fnmatch pattern over module paths")
    args = parser.parse_args(argv)
    print("\n".join(sample(args.n, seed=args.seed, not_run=args.not_run, module=args.module)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
