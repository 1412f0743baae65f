"""Firewall evaluation on the CIC-IDS2017 samples (Engelen et al., 2021 relabelling): detector
figures and the decisions users get.

Run: ``python -m siem_consensus.evaluation.cicids2017 [--data ../shared/data/cicids2017]
[--json OUT]``

The samples are one gzip CSV per class (random per-class samples, so timing inside a class is
thinned). All files go, in file order, through the product's own entry point,
:func:`~siem_consensus.api.analyze_firewall` (``cicflowmeter`` parser, the firewall detector,
the embedded ``rules`` and ``baseline`` analysts and the firewall default policy,
``unanimous`` at 0.8), with ``members_path`` for the flows inside each incident; every flow's
label is its ``Label`` column. Reported:

* flow level, per class: flows, flows inside an incident, inside an ``alert`` and inside an
  alert-or-``needs_review`` incident (degraded decisions never count), incidents touching the
  class by outcome, and overall precision of incident membership;
* source level: for each source address, attack if any of its flows is an attack; flagged by
  an incident, by an alert, by an alert or review; precision/recall over sources;
* decisions: outcomes, degraded, embedded-analyst errors, review load per run and per day
  of data, attack incidents dismissed; incidents by kind; the wall time.

The command exits with status 1 when any embedded-analyst verdict is an error.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from ..api import DECISION_DEFAULTS, analyze_firewall
from ..models import Decision, Incident
from ._decisions import (
    OUTCOMES,
    embedded_errors,
    exit_on_errors,
    outcome_counts,
    outcomes_by_incident,
    reaches_human,
)

__all__ = ["DEFAULT_DATA", "evaluate", "main"]

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "cicids2017"


def _rows(path: Path) -> list[tuple[str, str, str]]:
    """(label, source IP, timestamp) of every data line, in order."""
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        at = [header.index(c) for c in ("Label", "Src IP", "Timestamp")]
        return [(r[at[0]], r[at[1]], r[at[2]]) for r in reader if len(r) > max(at)]


def _members(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8") as fh:
        return {row["event_id"]: row["incident_id"] for row in csv.DictReader(fh)}


def evaluate(
    data: Path, policy: str | None = None, threshold: float | None = None
) -> dict[str, Any]:
    """Run every sample file through ``analyze_firewall`` and score it against the labels."""
    files = sorted(data.glob("*.csv.gz"))
    if not files:
        raise FileNotFoundError(f"no *.csv.gz under {data}")
    defaults = DECISION_DEFAULTS["firewall"]
    with tempfile.TemporaryDirectory(prefix="cic-eval-") as tmp:
        members_csv = Path(tmp) / "members.csv"
        started = time.perf_counter()
        report = analyze_firewall(
            files,
            input_format="cicflowmeter",
            policy=policy or defaults.policy,
            threshold=defaults.threshold if threshold is None else threshold,
            members_path=members_csv,
        )
        elapsed = time.perf_counter() - started
        members = _members(members_csv)
    result = _score(files, report.incidents, report.decisions, members)
    result.update(
        embedded_errors=embedded_errors(report.decisions),
        policy=f"{report.policy} at {report.threshold:g}",
        seconds=round(elapsed, 2),
    )
    return result


def _score(
    files: Sequence[Path],
    incidents: Sequence[Incident],
    decisions: Sequence[Decision],
    members: dict[str, str],
) -> dict[str, Any]:
    by_id = outcomes_by_incident(decisions)
    classes: dict[str, dict[str, Any]] = {}
    sources: dict[str, dict[str, bool]] = {}
    touched: dict[str, set[str]] = {}
    stamps: list[str] = []
    attack_incidents: set[str] = set()
    for path in files:
        for n, (label, src, stamp) in enumerate(_rows(path), start=2):
            incident = members.get(f"{path.name}:{n}")
            decision = by_id.get(incident) if incident else None
            row = classes.setdefault(label, dict.fromkeys(("flows", "in_incidents", "alert",
                                                           "review"), 0))  # fmt: skip
            row["flows"] += 1
            row["in_incidents"] += incident is not None
            row["alert"] += reaches_human(decision, alert_only=True)
            row["review"] += reaches_human(decision)
            mine = sources.setdefault(
                src, dict.fromkeys(("attack", "any", "alert", "review"), False)
            )
            mine["attack"] |= label != "BENIGN"
            mine["any"] |= incident is not None
            mine["alert"] |= reaches_human(decision, alert_only=True)
            mine["review"] |= reaches_human(decision)
            if incident is not None:
                touched.setdefault(label, set()).add(incident)
                if label != "BENIGN":
                    attack_incidents.add(incident)
            stamps.append(stamp)
    for label, row in classes.items():
        outcomes = Counter(by_id[i].outcome.value for i in touched.get(label, ()) if i in by_id)
        row["incidents"] = {o: outcomes.get(o, 0) for o in OUTCOMES}
    counts = outcome_counts(decisions, _days(stamps))
    counts["attack_incidents_dismissed"] = sum(
        1 for i in attack_incidents if i in by_id and by_id[i].outcome.value == "dismissed"
    )
    true_members = sum(r["in_incidents"] for k, r in classes.items() if k != "BENIGN")
    in_any = sum(r["in_incidents"] for r in classes.values())
    return {
        "classes": dict(sorted(classes.items())),
        "members": in_any,
        "precision": true_members / in_any if in_any else None,
        "sources": _sources(sources),
        "incidents": dict(Counter(i.kind for i in incidents)),
        "decisions": counts,
    }


def _days(stamps: list[str]) -> float:
    """Days of data: the span of the flows' timestamps, at least one day."""
    times = []
    for stamp in stamps:
        try:
            times.append(datetime.fromisoformat(stamp))
        except ValueError:
            continue
    if not times:
        return 1.0
    return max((max(times) - min(times)).total_seconds() / 86400, 1.0)


def _sources(sources: dict[str, dict[str, bool]]) -> dict[str, Any]:
    attack = {s for s, r in sources.items() if r["attack"]}
    out: dict[str, Any] = {"attack_sources": sorted(attack)}
    for scope in ("any", "alert", "review"):
        flagged = {s for s, r in sources.items() if r[scope]}
        out[scope] = {
            "flagged": sorted(flagged),
            "true_positive": len(attack & flagged),
            "false_positive": len(flagged - attack),
            "false_negative": len(attack - flagged),
        }
    return out


def _print(result: dict[str, Any]) -> None:
    print(f"{'class':<26}{'flows':>8}{'in incid.':>10}{'share':>8}{'alert':>8}{'al|rev':>8}"
          f"{'  incidents alert/review/dismissed':<34}")  # fmt: skip
    for label, row in result["classes"].items():
        share = row["in_incidents"] / row["flows"] if row["flows"] else 0.0
        inc = row["incidents"]
        print(
            f"{label:<26}{row['flows']:>8,}{row['in_incidents']:>10,}{share:>8.1%}"
            f"{row['alert']:>8,}{row['review']:>8,}"
            f"  {inc['alert']}/{inc['needs_review']}/{inc['dismissed']}"
        )
    precision = result["precision"]
    if precision is None:
        print("\nno incident members")
    else:
        print(f"\nflows inside incidents: {result['members']:,}   precision (attack flows among "
              f"them): {precision:.2%}")  # fmt: skip
    s = result["sources"]
    print(f"sources: {len(s['attack_sources'])} attack sources {s['attack_sources']}")
    for scope in ("any", "alert", "review"):
        r = s[scope]
        print(f"  flagged by {scope:<7} {r['flagged']}: TP {r['true_positive']} "
              f"FP {r['false_positive']} FN {r['false_negative']}")  # fmt: skip
    d = result["decisions"]
    print(
        f"decisions ({result['policy']}, embedded analysts): alert {d['alert']}, needs_review "
        f"{d['needs_review']}, dismissed {d['dismissed']}, degraded {d['degraded']}, "
        f"embedded errors {d['errors']}; review load {d['review_load']} "
        f"({d['review_load_per_day']} per day of data); attack incidents dismissed "
        f"{d['attack_incidents_dismissed']}"
    )
    print(f"incidents by kind: {result['incidents']}   time: {result['seconds']} s")


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point (exit status 1 on any embedded-analyst error verdict)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        raise SystemExit(f"{args.data} not found: the CIC-IDS2017 samples live in shared/data")
    result = evaluate(args.data)
    _print(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    exit_on_errors(result)


if __name__ == "__main__":
    main()
