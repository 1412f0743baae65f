"""Insider detector evaluation on the seeded CERT-format generator.

Run: ``python -m siem_consensus.evaluation.insider [--seeds 1-20] [--users 60] [--days 45]``

For every seed and scenario variant the generator (:mod:`siem_consensus.generators.insider`)
writes a CERT-format data set into a temporary directory; it is read back with the CERT
parsers (:func:`~siem_consensus.parsers.cert.cert_inputs`, ``read_ldap``) and streamed through
:class:`~siem_consensus.detectors.insider.InsiderDetector` with default thresholds and the
directory. Variants: ``all`` (every scenario in one organisation) and ``single`` (one data set
per scenario, the others left out). The detector is told the generator's two competitor
domains, as a company would configure its own.

Reported:

* user level: an incident on a ground-truth insider is a true positive (any time, any kind),
  an insider without one a false negative, a benign user with one a false positive;
  precision and recall over users, and recall per scenario (at any severity and at high or
  above);
* incidents on benign users per 1,000 benign user-days (active users x days of the
  detection period), how many of them are high or critical (the goal is none), and the
  first 50 of them in the JSON output;
* the review load: incidents per data set by severity;
* decisions (the embedded analysts, each alone, then the insider default policy,
  ``unanimous`` at 0.85): per scenario, insiders with an ``alert``, with an alert or
  ``needs_review`` (degraded decisions never count) and insiders whose every incident was
  dismissed; benign users' incidents by outcome (false alerts); outcome counts, degraded,
  embedded-analyst errors and the review load (alert + needs_review) per data set and per
  day of data.

``--cert-shapes`` runs the CERT r4.2 scenario shapes instead, each scenario scored alone
(:mod:`._insider_cert`): ``python -m siem_consensus.evaluation.insider --cert-shapes --seeds 1``.

The command exits with status 1 when any embedded-analyst verdict is an error.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..detectors.base import detect_stream
from ..detectors.insider import InsiderDetector, InsiderThresholds
from ..generators.insider import SCENARIOS, generate_insider_dataset
from ..models import Decision, Incident, Outcome, Severity
from ..parsers.cert import cert_inputs, read_ldap
from ..sources import EventStream
from ._decisions import (
    embedded_errors,
    exit_on_errors,
    judge_embedded,
    outcome_counts,
    outcomes_by_incident,
    reaches_human,
)
from ._insider_cert import evaluate_cert_shapes, print_cert_shapes

__all__ = ["COMPETITORS", "RunResult", "evaluate", "main", "parse_seeds", "run_one"]

COMPETITORS = ("northwind-aero.com", "contoso-defense.com")
"""Competitor domains of the generated organisation."""

_SEVERITIES = [s.value for s in Severity]


@dataclass
class RunResult:
    """One generated data set through the detector."""

    seed: int
    variant: str
    insiders: dict[str, str]
    incidents: list[Incident]
    benign_user_days: int
    seconds: float
    benign_users: int = 0
    notes: list[str] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    days: int = 0

    def flagged(self) -> set[str]:
        """Users with at least one incident."""
        return {i.entities.users[0] for i in self.incidents if i.entities.users}


def parse_seeds(text: str) -> list[int]:
    """``1-20`` or ``1,3,5-7`` -> the seeds in order."""
    seeds: list[int] = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        seeds.extend(range(int(first), int(last or first) + 1))
    return seeds


def run_one(
    seed: int,
    users: int,
    days: int,
    scenarios: tuple[str, ...],
    variant: str,
    thresholds: InsiderThresholds | None = None,
) -> RunResult:
    """Generate one data set, stream it through the detector, keep what scoring needs."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="insider-eval-") as tmp:
        data = generate_insider_dataset(tmp, seed, users=users, days=days, scenarios=scenarios)
        inputs = cert_inputs(Path(tmp))
        directory = read_ldap(inputs.ldap) if inputs.ldap else None
        detector = InsiderDetector(thresholds, directory=directory, competitor_domains=COMPETITORS)
        incidents = detect_stream(iter(EventStream(inputs.event_files)), detector)
    insiders = {t.user: t.scenario for t in data.truth}
    benign_days = _benign_days(detector, insiders)
    return RunResult(
        seed=seed,
        variant=variant,
        insiders=insiders,
        incidents=incidents,
        benign_user_days=benign_days,
        seconds=time.perf_counter() - started,
        benign_users=len(data.benign_users),
        decisions=judge_embedded("insider", incidents),
        days=days,
    )


def _benign_days(detector: InsiderDetector, insiders: dict[str, str]) -> int:
    users = detector.user_days["user"].to_list() if detector.user_days.height else []
    return sum(1 for user in users if user not in insiders)


def _variants(names: list[str]) -> list[tuple[str, tuple[str, ...]]]:
    out: list[tuple[str, tuple[str, ...]]] = []
    if "all" in names:
        out.append(("all", tuple(SCENARIOS)))
    if "single" in names:
        out.extend((scenario, (scenario,)) for scenario in SCENARIOS)
    return out


def evaluate(
    seeds: list[int],
    users: int = 60,
    days: int = 45,
    variants: tuple[str, ...] = ("all",),
    thresholds: InsiderThresholds | None = None,
) -> dict[str, Any]:
    """Run every seed and variant and summarise (see the module docstring)."""
    runs = [
        run_one(seed, users, days, scenarios, name, thresholds)
        for seed in seeds
        for name, scenarios in _variants(list(variants))
    ]
    return summarise(runs, {"seeds": seeds, "users": users, "days": days, "variants": variants})


_SCENARIO_COLUMNS = ("injected", "found", "high", "alert", "review", "dismissed", "degraded")


def _per_scenario(runs: list[RunResult]) -> dict[str, dict[str, int]]:
    table = {s: dict.fromkeys(_SCENARIO_COLUMNS, 0) for s in SCENARIOS}
    for run in runs:
        by_id = outcomes_by_incident(run.decisions)
        for user, scenario in run.insiders.items():
            mine = [i for i in run.incidents if i.entities.users == (user,)]
            decided = [by_id.get(i.id) for i in mine]
            row = table[scenario]
            row["injected"] += 1
            row["found"] += bool(mine)
            row["high"] += any(i.severity.rank >= Severity.HIGH.rank for i in mine)
            row["alert"] += any(reaches_human(d, alert_only=True) for d in decided)
            row["review"] += any(reaches_human(d) for d in decided)
            row["dismissed"] += bool(mine) and all(
                d is not None and d.outcome is Outcome.DISMISSED for d in decided
            )
            row["degraded"] += any(d is not None and d.degraded for d in decided)
    return table


def _decisions(runs: list[RunResult]) -> dict[str, Any]:
    """Outcome counts over every data set, the review load per data set and per day."""
    decisions = [d for r in runs for d in r.decisions]
    days = sum(r.days for r in runs)
    counts = outcome_counts(decisions, days or None)
    counts["review_load_per_data_set"] = round(counts["review_load"] / len(runs), 2) if runs else 0
    benign: Counter[str] = Counter()
    for run in runs:
        by_id = outcomes_by_incident(run.decisions)
        for incident in run.incidents:
            if incident.entities.users[0] not in run.insiders and incident.id in by_id:
                benign[by_id[incident.id].outcome.value] += 1
    counts["benign_by_outcome"] = dict(benign)
    return counts


def _load(runs: list[RunResult]) -> dict[str, float]:
    """Incidents per data set by severity."""
    load = Counter(i.severity.value for r in runs for i in r.incidents)
    return {s: round(load[s] / len(runs), 2) for s in _SEVERITIES} if runs else {}


def summarise(runs: list[RunResult], setup: dict[str, Any]) -> dict[str, Any]:
    """Aggregate run results into the reported figures."""
    tp = sum(len(r.flagged() & set(r.insiders)) for r in runs)
    fn = sum(len(set(r.insiders) - r.flagged()) for r in runs)
    fp = sum(len(r.flagged() - set(r.insiders)) for r in runs)
    benign = [i for r in runs for i in r.incidents if i.entities.users[0] not in r.insiders]
    benign_days = sum(r.benign_user_days for r in runs)
    return {
        "setup": {**setup, "data_sets": len(runs)},
        "users": {
            "true_positive": tp,
            "false_negative": fn,
            "false_positive": fp,
            "precision": round(tp / (tp + fp), 4) if tp + fp else None,
            "recall": round(tp / (tp + fn), 4) if tp + fn else None,
        },  # fmt: skip
        "scenarios": _per_scenario(runs),
        "benign": {
            "incidents": len(benign),
            "user_days": benign_days,
            "per_1000_user_days": round(1000 * len(benign) / benign_days, 3) if benign_days else 0,
            "high_or_critical": sum(i.severity.rank >= Severity.HIGH.rank for i in benign),
            "by_kind": dict(Counter(i.kind for i in benign)),
            "examples": [
                {
                    "seed": r.seed,
                    "variant": r.variant,
                    "user": i.entities.users[0],
                    "kind": i.kind,
                    "severity": i.severity.value,
                    "score": i.score,
                    "days": i.stats["days"],
                    "features": i.stats["features"],
                    "narrative": i.stats["narrative"],
                }
                for r in runs
                for i in r.incidents
                if i.entities.users[0] not in r.insiders
            ][:50],
        },
        "decisions": _decisions(runs),
        "embedded_errors": [
            f"seed {r.seed} {r.variant}: {e}" for r in runs for e in embedded_errors(r.decisions)
        ],
        "review_load_per_data_set": _load(runs),
        "review_load_by_variant": {
            name: _load([r for r in runs if r.variant == name])
            for name in dict.fromkeys(r.variant for r in runs)
        },
        "seconds": round(sum(r.seconds for r in runs), 1),
    }


def _print(result: dict[str, Any]) -> None:
    setup, users, benign = result["setup"], result["users"], result["benign"]
    print(
        f"data sets: {setup['data_sets']} (seeds {setup['seeds'][0]}-{setup['seeds'][-1]}, "
        f"variants {', '.join(setup['variants'])}, {setup['users']} users, {setup['days']} days)"
    )
    print(
        f"users: TP {users['true_positive']} FN {users['false_negative']} FP "
        f"{users['false_positive']}  precision {users['precision']}  recall {users['recall']}"
    )
    print(f"{'scenario':<28}{'injected':>9}{'found':>7}{'high+':>7}{'alert':>7}{'al|rev':>8}"
          f"{'dismissed':>10}{'degraded':>9}")  # fmt: skip
    for name, row in result["scenarios"].items():
        print(
            f"{name:<28}{row['injected']:>9}{row['found']:>7}{row['high']:>7}{row['alert']:>7}"
            f"{row['review']:>8}{row['dismissed']:>10}{row['degraded']:>9}"
        )
    print(
        f"benign: {benign['incidents']} incidents over {benign['user_days']:,} user-days = "
        f"{benign['per_1000_user_days']} per 1,000; high or critical: "
        f"{benign['high_or_critical']}; by kind {benign['by_kind']}"
    )
    d = result["decisions"]
    print(
        f"decisions (unanimous at 0.85, embedded analysts): alert {d['alert']}, needs_review "
        f"{d['needs_review']}, dismissed {d['dismissed']}, degraded {d['degraded']}, embedded "
        f"errors {d['errors']}; review load {d['review_load_per_data_set']} per data set, "
        f"{d['review_load_per_day']} per day of data; benign users' incidents by outcome "
        f"{d['benign_by_outcome']}"
    )
    print(f"incidents per data set by severity: {result['review_load_per_data_set']}")
    for name, load in result["review_load_by_variant"].items():
        print(f"  {name:<26} {load}")
    print(f"time: {result['seconds']} s")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", help="e.g. 1-20 or 1,3,5-7 (default 1-20; 1 with --cert-shapes)")
    parser.add_argument("--users", type=int, help="default 60 (300 with --cert-shapes)")
    parser.add_argument("--days", type=int, help="default 45 (180 with --cert-shapes)")
    parser.add_argument(
        "--variants", default="all,single", help="comma-separated: all, single (default both)"
    )
    parser.add_argument(
        "--thresholds", help="InsiderThresholds as JSON, e.g. '{\"baseline_days\": 21}'"
    )
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument(
        "--cert-shapes",
        action="store_true",
        help="evaluate the three CERT r4.2 scenario shapes (defaults: 300 users, 180 days)",
    )
    parser.add_argument("--per-scenario", type=int, default=8, help="insiders per CERT shape")
    args = parser.parse_args(argv)
    thresholds = InsiderThresholds.model_validate_json(args.thresholds) if args.thresholds else None
    if args.cert_shapes:
        result = evaluate_cert_shapes(
            parse_seeds(args.seeds or "1"),
            args.users if args.users is not None else 300,
            args.days if args.days is not None else 180,
            args.per_scenario,
            thresholds,
        )
        print_cert_shapes(result)
        if args.json:
            args.json.write_text(json.dumps(result, indent=2, default=str))
        exit_on_errors(result)
        return
    variants = tuple(v.strip() for v in args.variants.split(",") if v.strip())
    users = args.users if args.users is not None else 60
    days = args.days if args.days is not None else 45
    result = evaluate(parse_seeds(args.seeds or "1-20"), users, days, variants, thresholds)
    _print(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    exit_on_errors(result)


if __name__ == "__main__":
    main()
