"""IDS correlator evaluation on the AIT Alert Data Set (Landauer et al., CSET 2024; CC BY 4.0).

Run: ``python -m siem_consensus.evaluation.ait_ads [--data ../shared/data/ait-ads]
[--scenarios fox,harrison,...] [--json OUT]``

Each scenario file (``<name>_alerts.csv.gz``) is read in place, decompressed line by line into
``EventStream(lines, input_format="ait-ads")`` and fed to a fresh
:class:`~siem_consensus.detectors.ids.IdsCorrelator`; alert membership comes from
:meth:`~siem_consensus.detectors.ids.IdsCorrelator.assign` on the same batches (slimmed to the
columns it reads). Labels come from :func:`~siem_consensus.parsers.aitads.read_ait_labels` and
are never shown to the detector. Reported per scenario:

* alerts in, incidents out (by kind), and the reduction ratio (alerts per incident);
* attack phases: the distinct ``time_label`` values other than ``false_positive`` (and,
  separately, the distinct ``event_label`` values other than ``-``); a phase is *covered* when
  at least one of its alerts is a member of an incident, counted for incidents of severity
  medium or above and for any incident;
* alert-level precision and recall of incident membership, against ``event_label != "-"``
  (precise labels) and against ``time_label != "false_positive"`` (every alert inside an
  attack window), for medium-or-above incidents and for any incident.

The detector has no outcome (the analysts and the consensus decide later), so "covered by a
medium incident" stands in for "would reach an analyst's queue".
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

import polars as pl

from ..detectors.ids import IdsCorrelator, IdsThresholds
from ..models import Incident, Severity
from ..parsers.aitads import read_ait_labels
from ..sources import EventStream, read_lines

__all__ = ["DEFAULT_DATA", "SCENARIOS", "evaluate", "evaluate_scenario", "main"]

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "ait-ads"
SCENARIOS = ("fox", "harrison", "russellmitchell", "santos", "shaw", "wheeler")
_ASSIGN_COLUMNS = (
    "line", "timestamp", "source_ip", "destination_ip", "host_name", "rule_name", "rule_id",
    "source",
)  # fmt: skip


def _lines(path: Path, limit: int | None) -> Iterator[str]:
    with gzip.open(path, "rb") as fh:
        yield from islice(read_lines(fh), limit)


def evaluate_scenario(
    path: Path,
    thresholds: IdsThresholds | None = None,
    *,
    limit: int | None = None,
    chunk_lines: int = 100_000,
) -> dict[str, Any]:
    """Correlate one scenario file and score the incidents against its labels.

    Args:
        path: ``<name>_alerts.csv.gz``.
        thresholds: Correlator thresholds (defaults when None).
        limit: Read only the first ``limit`` lines (header included), for quick checks.
        chunk_lines: Lines per batch.
    """
    started = time.perf_counter()
    source = path.name.removesuffix(".gz")
    detector = IdsCorrelator(thresholds)
    batches = []
    stream = EventStream([_lines(path, limit)], input_format="ait-ads", chunk_lines=chunk_lines)
    for _, batch in stream:
        batch = batch.with_columns(pl.lit(source).alias("source"))
        detector.update(batch)
        batches.append(batch.select(_ASSIGN_COLUMNS))
    incidents = detector.finish()
    members = pl.concat([detector.assign(b, incidents) for b in batches]) if batches else None
    seconds = time.perf_counter() - started
    labels = read_ait_labels(path)
    if limit is not None:
        labels = labels.filter(pl.col("line") <= limit)
    queued = _queued(incidents)
    result = _score(labels, source, incidents, members, queued)
    result.update(dead_letters=stream.stats.dead_letters, seconds=round(seconds, 2))
    return result


def _queued(incidents: list[Incident]) -> set[str]:
    """Ids of incidents the IDS graph's decision stage sends to a human (alert or review).

    Runs what the graph's ``analyze`` and ``validate`` nodes run: the embedded analysts,
    independently, then claim checks and the default majority policy at 0.8.
    """
    import asyncio

    from ..analysts import Analyst, BaselineAnalyst, RulesAnalyst, run_analyst
    from ..consensus import decide, get_policy
    from ..graphs.ids import stages_observed
    from ..models import Outcome

    analysts: list[Analyst] = [RulesAnalyst(), BaselineAnalyst()]
    policy = get_policy("majority", 0.8)

    async def judge(incident: Incident) -> bool:
        verdicts = [await run_analyst(a, incident) for a in analysts]
        decision = decide(incident, verdicts, policy, (stages_observed,))
        return decision.outcome is not Outcome.DISMISSED

    async def main() -> set[str]:
        return {i.id for i in incidents if await judge(i)}

    return asyncio.run(main())


def _score(
    labels: pl.DataFrame,
    source: str,
    incidents: list[Incident],
    members: pl.DataFrame | None,
    queued: set[str],
) -> dict[str, Any]:
    rank = {i.id: i.severity.rank for i in incidents}
    joined = labels.with_columns(pl.format("{}:{}", pl.lit(source), "line").alias("event_id"))
    if members is not None and not members.is_empty():
        joined = joined.join(members, on="event_id", how="left")
    else:
        joined = joined.with_columns(pl.lit(None, pl.String).alias("incident_id"))
    joined = joined.with_columns(
        pl.col("incident_id").is_not_null().alias("any"),
        (pl.col("incident_id").replace_strict(rank, default=-1, return_dtype=pl.Int64)
         >= Severity.MEDIUM.rank).alias("medium"),
        pl.col("incident_id").is_in(pl.Series(sorted(queued), dtype=pl.String).implode())
        .fill_null(False).alias("queued"),
    )  # fmt: skip
    alerts = joined.height
    attack_time = pl.col("time_label") != "false_positive"
    attack_event = pl.col("event_label") != "-"
    return {
        "alerts": alerts,
        "incidents": len(incidents),
        "incidents_medium": sum(1 for i in incidents if i.severity.rank >= Severity.MEDIUM.rank),
        "incidents_queued": len(queued),
        "by_kind": dict(sorted(Counter(i.kind for i in incidents).items())),
        "by_severity": dict(sorted(Counter(str(i.severity) for i in incidents).items())),
        "alerts_per_incident": round(alerts / len(incidents), 1) if incidents else None,
        "time_phases": _phases(joined, "time_label", attack_time),
        "event_phases": _phases(joined, "event_label", attack_event),
        "event_label": _precision_recall(joined, attack_event),
        "time_label": _precision_recall(joined, attack_time),
    }


_SCOPES = ("queued", "medium", "any")
"""queued: an alert or needs_review decision; medium: incident severity >= medium; any."""


def _phases(joined: pl.DataFrame, column: str, attack: pl.Expr) -> dict[str, Any]:
    table = (
        joined.filter(attack)
        .group_by(column)
        .agg(pl.len().alias("alerts"), *(pl.col(s).sum() for s in _SCOPES))
        .sort(column)
    )
    rows = {r[column]: {k: int(r[k]) for k in ("alerts", *_SCOPES)} for r in table.rows(
        named=True)}  # fmt: skip
    return {
        "phases": len(rows),
        **{f"covered_{s}": sum(1 for r in rows.values() if r[s]) for s in _SCOPES},
        "missed_medium": sorted(p for p, r in rows.items() if not r["medium"]),
        "missed_queued": sorted(p for p, r in rows.items() if not r["queued"]),
        "detail": rows,
    }


def _precision_recall(joined: pl.DataFrame, attack: pl.Expr) -> dict[str, Any]:
    out: dict[str, Any] = {}
    truth = joined.select(attack.sum()).item()
    for scope in _SCOPES:
        kept = joined.select(pl.col(scope).sum()).item()
        hits = joined.select((pl.col(scope) & attack).sum()).item()
        out[scope] = {
            "members": int(kept),
            "precision": round(hits / kept, 4) if kept else None,
            "recall": round(hits / truth, 4) if truth else None,
        }
    return out


def evaluate(
    data: Path = DEFAULT_DATA,
    scenarios: Sequence[str] = SCENARIOS,
    thresholds: IdsThresholds | None = None,
) -> dict[str, Any]:
    """Evaluate every scenario and add totals (phases covered, alerts per incident)."""
    per = {}
    for name in scenarios:
        path = data / f"{name}_alerts.csv.gz"
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found (AIT-ADS lives in shared/data/ait-ads)")
        per[name] = evaluate_scenario(path, thresholds)
    return {"scenarios": per, "totals": _totals(per)}


def _totals(per: dict[str, dict[str, Any]]) -> dict[str, Any]:
    alerts = sum(r["alerts"] for r in per.values())
    incidents = sum(r["incidents"] for r in per.values())
    totals: dict[str, Any] = {
        "alerts": alerts,
        "incidents": incidents,
        "alerts_per_incident": round(alerts / incidents, 1) if incidents else None,
        "min_alerts_per_incident": min((r["alerts_per_incident"] or 0) for r in per.values()),
        "seconds": round(sum(r["seconds"] for r in per.values()), 2),
        "incidents_queued": sum(r["incidents_queued"] for r in per.values()),
    }
    for kind in ("time_phases", "event_phases"):
        phases = sum(r[kind]["phases"] for r in per.values())
        for scope in _SCOPES:
            covered = sum(r[kind][f"covered_{scope}"] for r in per.values())
            totals[f"{kind}_{scope}"] = f"{covered}/{phases}"
            totals[f"{kind}_{scope}_share"] = round(covered / phases, 4) if phases else None
    return totals


def _print(result: dict[str, Any]) -> None:
    head = (f"{'scenario':<16}{'alerts':>9}{'incid.':>7}{'med+':>5}{'al/inc':>9}"
            f"{'phases med':>11}{'any':>6}{'events med':>11}{'any':>6}"
            f"{'P ev':>7}{'R ev':>7}{'P tl':>7}{'R tl':>7}{'sec':>7}")  # fmt: skip
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
        f"\nall: {t['alerts']:,} alerts -> {t['incidents']} incidents "
        f"({t['alerts_per_incident']:,} alerts per incident, lowest scenario "
        f"{t['min_alerts_per_incident']:,}); attack phases covered by medium+ incidents "
        f"{t['time_phases_medium']} ({t['time_phases_medium_share']:.1%}), by any "
        f"{t['time_phases_any']}; event phases {t['event_phases_medium']} / "
        f"{t['event_phases_any']}; {t['seconds']} s"
    )
    print(
        f"decisions (embedded analysts, majority 0.8): {t['incidents_queued']} of "
        f"{t['incidents']} incidents go to a human; attack phases covered by an alert or "
        f"needs_review incident {t['time_phases_queued']} ({t['time_phases_queued_share']:.1%}); "
        f"event phases {t['event_phases_queued']}"
    )
    print("P/R: alert-level precision/recall of medium+ incident membership against "
          "event_label != '-' (ev) and time_label != 'false_positive' (tl).")  # fmt: skip
    for name, r in result["scenarios"].items():
        missed = r["time_phases"]["missed_medium"]
        if missed:
            print(f"  {name}: phases without a medium+ incident: {', '.join(missed)}")


def _pct(value: float | None) -> str:
    return f"{'-':>7}" if value is None else f"{value:>7.1%}"


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help="comma-separated subset of: " + ", ".join(SCENARIOS))  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        raise SystemExit(f"{args.data} not found: the AIT-ADS files live in shared/data/ait-ads")
    names = [n.strip() for n in args.scenarios.split(",") if n.strip()]
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown:
        raise SystemExit(f"unknown scenarios {unknown}; choose from {', '.join(SCENARIOS)}")
    result = evaluate(args.data, names)
    _print(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
