"""Per-module mutation scores from the last ``mutmut run`` (``make mutation`` prints this).

Reads the modules to mutate from ``[tool.mutmut] only_mutate`` in pyproject.toml, the result of
every mutant from ``mutants/<module>.meta`` (written by mutmut 3) and the mutants accepted as
equivalent from the "Equivalent survivors" section of docs/testing.md, then prints one line per
module::

    module                                   killed/total   score  survived  no tests  ...

``score`` is killed / (total - equivalent - not run): a mutant that survived, had no covering
test or was never run counts against the module only once it ran. Timeouts count as killed
(the mutant made a test hang, which the timeout caught). ``--fail-under 85`` exits 1 when the
overall score is lower.

Usage: ``python scripts/mutation_report.py [--fail-under PCT] [--survivors]``.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "testing.md"
_EQUIVALENT_HEADING = "## Equivalent survivors"
_MUTANT_NAME = re.compile(r"^\s*[-*|]\s*`([\w.ǁ]+__mutmut_\d+)`")

# mutmut 3's exit codes (mutmut/stats.py): what each means for the score.
_KILLED = {1, 3, 36, 24, -24, 152, 255, 37}  # failed test, pytest error, timeouts, type check
_SURVIVED = {0}
_NO_TESTS = {5, 33}
_NOT_RUN = {None, 34}  # not checked yet, skipped


@dataclass
class ModuleScore:
    """Counts for one mutated module."""

    path: str
    statuses: Counter[str] = field(default_factory=Counter)
    survivors: list[str] = field(default_factory=list)

    @property
    def judged(self) -> int:
        """Mutants that ran and are not accepted as equivalent."""
        return sum(n for s, n in self.statuses.items() if s not in ("not run", "equivalent"))

    @property
    def score(self) -> float | None:
        """Killed / judged, in percent; ``None`` when nothing ran."""
        return 100.0 * self.statuses["killed"] / self.judged if self.judged else None


def _status(code: int | None) -> str:
    if code in _KILLED:
        return "killed"
    if code in _SURVIVED:
        return "survived"
    if code in _NO_TESTS:
        return "no tests"
    if code in _NOT_RUN:
        return "not run"
    return "suspicious"


def mutated_modules(root: Path = ROOT) -> list[Path]:
    """The files ``[tool.mutmut] only_mutate`` selects, relative to the project root."""
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    patterns: list[str] = config["tool"]["mutmut"]["only_mutate"]
    files = sorted(p.relative_to(root) for p in (root / "siem_consensus").rglob("*.py"))
    return [f for f in files if any(fnmatch.fnmatch(str(f), pat) for pat in patterns)]


def equivalent_mutants(docs: Path = DOCS) -> set[str]:
    """Mutant names listed (as `` `name` `` list items or table rows) under the heading."""
    text = docs.read_text(encoding="utf-8") if docs.exists() else ""
    _, _, section = text.partition(_EQUIVALENT_HEADING)
    section = section.split("\n## ", 1)[0]
    return {m.group(1) for line in section.splitlines() if (m := _MUTANT_NAME.match(line))}


def score_module(path: Path, equivalent: set[str], root: Path = ROOT) -> ModuleScore:
    """Counts for one module from its ``mutants/<path>.meta`` file."""
    result = ModuleScore(str(path))
    meta = root / "mutants" / f"{path}.meta"
    if not meta.exists():
        return result
    codes: dict[str, int | None] = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    for name, code in codes.items():
        status = _status(code)
        if status in ("survived", "no tests") and name in equivalent:
            status = "equivalent"
        result.statuses[status] += 1
        if status in ("survived", "no tests", "suspicious"):
            result.survivors.append(f"{name} ({status})")
    return result


def _line(name: str, s: ModuleScore) -> str:
    total = sum(s.statuses.values())
    score = "   n/a" if s.score is None else f"{s.score:5.1f}%"
    counts = "  ".join(
        f"{s.statuses[k]:>{len(k)}}"
        for k in ("survived", "no tests", "equivalent", "not run", "suspicious")
    )
    return f"{name:<42} {s.statuses['killed']:>5}/{total:<5}  {score}  {counts}"


def report(scores: list[ModuleScore], *, survivors: bool = False) -> tuple[str, float | None]:
    """The printed table and the overall score (over all modules' judged mutants)."""
    header = "survived  no tests  equivalent  not run  suspicious"
    lines = [f"{'module':<42} {'killed/total':>11}  score   {header}"]
    overall = ModuleScore("all modules")
    for s in scores:
        lines.append(_line(s.path, s))
        overall.statuses.update(s.statuses)
    lines.append(_line("all modules", overall))
    if survivors:
        for s in scores:
            lines += [f"  {name}" for name in s.survivors]
    return "\n".join(lines), overall.score


def main(argv: list[str] | None = None) -> int:
    """Print the per-module table; exit 1 under ``--fail-under`` or when nothing ran."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fail-under", type=float, help="minimum overall score, in percent")
    parser.add_argument("--survivors", action="store_true", help="list surviving mutants")
    args = parser.parse_args(argv)
    equivalent = equivalent_mutants()
    scores = [score_module(path, equivalent) for path in mutated_modules()]
    table, overall = report(scores, survivors=args.survivors)
    print(table)
    if overall is None:
        print("no mutant has run yet: `make mutation` first", file=sys.stderr)
        return 1
    if args.fail_under is not None and overall < args.fail_under:
        print(f"overall score {overall:.1f}% < {args.fail_under:.1f}%", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
