"""IDS evaluation on the AIT Alert Data Set (Landauer et al., CSET 2024; CC BY 4.0): detector
figures and the decisions users get.

Run: ``python -m siem_consensus.evaluation.ait_ads [--data ../shared/data/ait-ads]
[--scenarios fox,harrison,...] [--json OUT] [--phases]``

Each scenario file (``<name>_alerts.csv.gz``) goes through the product's own entry point,
:func:`~siem_consensus.api.correlate_ids_alerts` (parse, correlate, the embedded ``rules`` and
``baseline`` analysts, claim checks and the IDS default policy, ``majority`` at 0.8), with
``members_path`` for the alert membership of every incident. Labels come from
:func:`~siem_consensus.parsers.aitads.read_ait_labels` and are never shown to the product.
Reported per scenario (:mod:`._ait_scoring`):

* alerts, incidents by kind and severity, alerts per incident;
* decisions: ``alert`` / ``needs_review`` / ``dismissed``, degraded, embedded-analyst errors,
  the review load (alert + needs_review incidents) per scenario and per day of data, alerts
  per alert-or-review incident, and dismissed incidents holding precisely labelled attack
  alerts (``event_label != "-"``);
* attack phases (distinct ``time_label`` other than ``false_positive``; separately the precise
  ``event_label`` other than ``-``): a phase is covered by a scope when one of its alerts is a
  member of an incident in that scope: ``alert`` (an alert decision), ``review`` (alert or
  needs_review), ``medium`` (incident severity medium or above) and ``any``. Degraded
  decisions are never coverage. Per phase: incidents touching it by outcome and the highest
  severity among them (``--phases`` prints them);
* incidents holding no alert of an attack interval (false-positive incidents) per scope;
* alert-level precision and recall of incident membership for each scope.

The command exits with status 1 when any embedded-analyst verdict is an error.
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
import time
from collections.abc import Sequence
from itertools import islice
from pathlib import Path
from typing import Any

import polars as pl

from ..api import DECISION_DEFAULTS, correlate_ids_alerts
from ..detectors.ids import IdsThresholds
from ..parsers.aitads import read_ait_labels
from ._ait_scoring import score, totals
from ._decisions import embedded_errors, exit_on_errors

__all__ = ["DEFAULT_DATA", "SCENARIOS", "evaluate", "evaluate_scenario", "main"]

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "ait-ads"
SCENARIOS = ("fox", "harrison", "russellmitchell", "santos", "shaw", "wheeler")


def _head(path: Path, limit: int, into: Path) -> Path:
    """The first ``limit`` lines of ``path`` (header included) as a new gzip file."""
    out = into / path.name
    with gzip.open(path, "rt", encoding="utf-8") as src, gzip.open(out, "wt") as dst:
        dst.writelines(islice(src, limit))
    return out


def _days(path: Path) -> float:
    """Days of data: the span of the ``time`` column (epoch seconds), at least one day."""
    times = pl.read_csv(path, columns=["time"], schema_overrides={"time": pl.Float64})["time"]
    first, last = times.min(), times.max()
    span = last - first if isinstance(first, float) and isinstance(last, float) else 0.0
    return max(span / 86400, 1.0)


def evaluate_scenario(
    path: Path,
    thresholds: IdsThresholds | None = None,
    *,
    limit: int | None = None,
    policy: str | None = None,
    threshold: float | None = None,
) -> dict[str, Any]:
    """Run one scenario file through ``correlate_ids_alerts`` and score it against its labels.

    Args:
        path: ``<name>_alerts.csv.gz``.
        thresholds: Correlator thresholds (defaults when None).
        limit: Read only the first ``limit`` lines (header included), for quick checks.
        policy: Consensus policy (the IDS default when None).
        threshold: Policy threshold (the IDS default when None).
    """
    defaults = DECISION_DEFAULTS["ids"]
    with tempfile.TemporaryDirectory(prefix="ait-eval-") as tmp:
        source = path if limit is None else _head(path, limit, Path(tmp))
        members_csv = Path(tmp) / "members.csv"
        started = time.perf_counter()
        report = correlate_ids_alerts(
            source,
            input_format="ait-ads",
            thresholds=thresholds,
            policy=policy or defaults.policy,
            threshold=defaults.threshold if threshold is None else threshold,
            members_path=members_csv,
        )
        seconds = time.perf_counter() - started
        members = _members(members_csv)
        days = _days(source)
    labels = read_ait_labels(path)
    if limit is not None:
        labels = labels.filter(pl.col("line") <= limit)
    result = score(labels, report.incidents, report.decisions, members, days)
    result.update(
        dead_letters=report.input.dead_letters,
        embedded_errors=embedded_errors(report.decisions),
        policy=f"{report.policy} at {report.threshold:g}",
        seconds=round(seconds, 2),
    )
    return result


def _members(path: Path) -> pl.DataFrame:
    """``line, incident_id`` from a members CSV (``event_id`` is ``{source}:{line}``)."""
    schema = {"event_id": pl.String, "incident_id": pl.String}
    if not path.is_file():
        return pl.DataFrame(schema={"line": pl.Int64, "incident_id": pl.String})
    frame = pl.read_csv(path, schema=schema)
    line = pl.col("event_id").str.extract(r":(\d+)$").cast(pl.Int64)
    return frame.select(line.alias("line"), "incident_id")


def evaluate(
    data: Path = DEFAULT_DATA,
    scenarios: Sequence[str] = SCENARIOS,
    thresholds: IdsThresholds | None = None,
) -> dict[str, Any]:
    """Evaluate every scenario and add totals (phases covered, alerts per incident, load)."""
    per = {}
    for name in scenarios:
        path = data / f"{name}_alerts.csv.gz"
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found (AIT-ADS lives in shared/data/ait-ads)")
        per[name] = evaluate_scenario(path, thresholds)
    errors = [f"{name}: {e}" for name, r in per.items() for e in r["embedded_errors"]]
    return {"scenarios": per, "totals": totals(per), "embedded_errors": errors}


def _print(result: dict[str, Any]) -> None:
    head = (f"{'scenario':<16}{'alerts':>9}{'incid.':>7}{'med+':>5}{'al/inc':>9}"
            f"{'phases med':>11}{'any':>6}{'events med':>11}{'any':>6}"
            f"{'P ev':>7}{'R ev':>7}{'P tl':>7}{'R tl':>7}{'sec':>7}")  # fmt: skip
    print("detector")
    print(head)
    for name, r in result["scenarios"].items():
        tp, ep = r["time_phases"], r["event_phases"]
        ev, tl = r["event_label"]["medium"], r["time_label"]["medium"]
        print(
            f"{name:<16}{r['alerts']:>9,}{r['incidents']:>7}{r['incidents_medium']:>5}"
            f"{r['alerts_per_incident'] or 0:>9,.0f}"
            f"{tp['covered_medium']:>7}/{tp['phases']:<3}{tp['covered_any']:>6}"
            f"{ep['covered_medium']:>7}/{ep['phases']:<3}{ep['covered_any']:>6}"
            f"{_pct(ev['precision'])}{_pct(ev['recall'])}{_pct(tl['precision'])}"
            f"{_pct(tl['recall'])}{r['seconds']:>7.1f}"
        )
    t = result["totals"]
    print(
        f"all: {t['alerts']:,} alerts -> {t['incidents']} incidents "
        f"({t['alerts_per_incident']:,} alerts per incident); attack phases covered by "
        f"medium+ incidents {t['time_phases_medium']}, by any {t['time_phases_any']}"
    )
    _print_decisions(result)


def _print_decisions(result: dict[str, Any]) -> None:
    first = next(iter(result["scenarios"].values()), None)
    print(f"\ndecisions ({first['policy'] if first else '-'}, embedded analysts)")
    print(f"{'scenario':<16}{'alert':>6}{'review':>7}{'dism.':>6}{'degr.':>6}{'err':>4}"
          f"{'load':>5}{'/day':>6}{'al/load':>9}{'att.dism':>9}"
          f"{'phases alert':>13}{'alert|rev':>10}{'events al|rev':>14}")  # fmt: skip
    for name, r in result["scenarios"].items():
        d, tp, ep = r["decisions"], r["time_phases"], r["event_phases"]
        print(
            f"{name:<16}{d['alert']:>6}{d['needs_review']:>7}{d['dismissed']:>6}"
            f"{d['degraded']:>6}{d['errors']:>4}{d['review_load']:>5}"
            f"{d['review_load_per_day'] or 0:>6.1f}{r['alerts_per_review'] or 0:>9,.0f}"
            f"{d['attack_incidents_dismissed']:>9}"
            f"{tp['covered_alert']:>9}/{tp['phases']:<3}{tp['covered_review']:>8}/{tp['phases']:<2}"
            f"{ep['covered_review']:>11}/{ep['phases']}"
        )
    t = result["totals"]
    print(
        f"all: review load {t['review_load']} incidents (at most {t['max_review_load']} per "
        f"scenario; lowest {t['min_alerts_per_review']:,} alerts per alert-or-review "
        f"incident); attack phases covered by alert {t['time_phases_alert']} "
        f"({t['time_phases_alert_share']:.1%}), by alert or needs_review "
        f"{t['time_phases_review']} ({t['time_phases_review_share']:.1%}); "
        f"embedded-analyst errors {len(result['embedded_errors'])}"
    )
    false = t["false_incidents"]
    print(
        f"incidents holding no alert of an attack interval: {false['alert']} alert, "
        f"{false['review']} alert or needs_review, {false['medium']} medium+"
    )
    for name, r in result["scenarios"].items():
        missed = r["time_phases"]["missed_review"]
        if missed:
            print(
                f"  {name}: phases without an alert or needs_review incident: {', '.join(missed)}"
            )


def _print_phases(result: dict[str, Any]) -> None:
    """Per scenario and attack phase (time_label, then event_label): alerts, the highest
    severity of an incident holding one of them, and the best outcome reached."""
    for kind in ("time_phases", "event_phases"):
        print(f"\n{kind}: alerts / highest incident severity / best outcome")
        for name, r in result["scenarios"].items():
            cells = []
            for phase, row in r[kind]["detail"].items():
                best = next((o for o in ("alert", "review", "any") if row[o]), "none")
                cells.append(f"{phase} {row['alerts']:,}/{row['severity']}/{best}")
            print(f"  {name}: " + "; ".join(cells))


def _pct(value: float | None) -> str:
    return f"{'-':>7}" if value is None else f"{value:>7.1%}"


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point (exit status 1 on any embedded-analyst error verdict)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help="comma-separated subset of: " + ", ".join(SCENARIOS))  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--phases", action="store_true",
                        help="also print each phase's highest severity and outcome")  # fmt: skip
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        raise SystemExit(f"{args.data} not found: the AIT-ADS files live in shared/data/ait-ads")
    names = [n.strip() for n in args.scenarios.split(",") if n.strip()]
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown:
        raise SystemExit(f"unknown scenarios {unknown}; choose from {', '.join(SCENARIOS)}")
    result = evaluate(args.data, names)
    _print(result)
    if args.phases:
        _print_phases(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    exit_on_errors(result)


if __name__ == "__main__":
    main()
