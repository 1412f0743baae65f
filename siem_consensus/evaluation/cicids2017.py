"""Firewall detector evaluation on the CIC-IDS2017 samples (Engelen et al., 2021 relabelling).

Run: ``python -m siem_consensus.evaluation.cicids2017 [--data ../shared/data/cicids2017]``

The samples are one gzip CSV per class (random per-class samples, so timing inside a class is
thinned). Files are read in place, decompressed line by line and fed to the detector in file
order; every flow's label is its ``Label`` column. Reported:

* flow level, per class: flows, flows inside an incident, recall (for BENIGN: the false
  positive rate), and overall precision of incident membership;
* source level: for each source address, attack if any of its flows is an attack, flagged if it
  is a source of an incident; precision/recall over sources;
* incidents by kind, and the wall time.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from ..detectors.firewall import FirewallDetector
from ..sources import EventStream

__all__ = ["evaluate", "main"]

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "cicids2017"


def _lines(path: Path) -> Iterator[str]:
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            yield line.rstrip("\r\n")


def _labels(path: Path) -> tuple[list[str], list[str]]:
    """Label and source IP of every data line, in order."""
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        label_at = header.index("Label")
        src_at = header.index("Src IP")
        rows = [(r[label_at], r[src_at]) for r in reader if len(r) > max(label_at, src_at)]
    return [r[0] for r in rows], [r[1] for r in rows]


def evaluate(data: Path) -> dict[str, Any]:
    """Run the detector over every sample file and score it against the labels."""
    files = sorted(data.glob("*.csv.gz"))
    if not files:
        raise FileNotFoundError(f"no *.csv.gz under {data}")
    started = time.perf_counter()
    detector = FirewallDetector()
    batches: list[pl.DataFrame] = []
    sources = []
    for path in files:
        name = path.name.removesuffix(".gz")
        stream = EventStream([_lines(path)], input_format="cicflowmeter")
        for _, batch in stream:
            batch = batch.with_columns(pl.lit(name).alias("source"))
            detector.update(batch)
            batches.append(batch)
        sources.append((name, path))
    incidents = detector.finish()
    members = pl.concat([detector.assign(b, incidents) for b in batches])
    elapsed = time.perf_counter() - started
    return _score(sources, incidents, set(members["event_id"].to_list()), elapsed)


def _score(
    sources: list[tuple[str, Path]], incidents: list[Any], members: set[str], elapsed: float
) -> dict[str, Any]:
    per_class: dict[str, list[int]] = {}
    src_truth: dict[str, bool] = {}
    true_members = 0
    for name, path in sources:
        labels, srcs = _labels(path)
        for n, (label, src) in enumerate(zip(labels, srcs, strict=True), start=2):
            inside = f"{name}:{n}" in members
            counts = per_class.setdefault(label, [0, 0])
            counts[0] += 1
            counts[1] += inside
            true_members += inside and label != "BENIGN"
            src_truth[src] = src_truth.get(src, False) or label != "BENIGN"
    flagged = {ip for i in incidents for ip in i.entities.source_ips}
    attack_srcs = {s for s, bad in src_truth.items() if bad}
    return {
        "classes": {k: {"flows": v[0], "in_incidents": v[1]} for k, v in sorted(per_class.items())},
        "members": len(members),
        "precision": true_members / len(members) if members else None,
        "sources": {
            "attack_sources": sorted(attack_srcs),
            "flagged": sorted(flagged),
            "true_positive": len(attack_srcs & flagged),
            "false_positive": len(flagged - attack_srcs),
            "false_negative": len(attack_srcs - flagged),
        },
        "incidents": dict(Counter(i.kind for i in incidents)),
        "seconds": round(elapsed, 2),
    }


def _print(result: dict[str, Any]) -> None:
    print(f"{'class':<26}{'flows':>8}{'in incidents':>14}{'share':>8}")
    for label, row in result["classes"].items():
        share = row["in_incidents"] / row["flows"] if row["flows"] else 0.0
        print(f"{label:<26}{row['flows']:>8,}{row['in_incidents']:>14,}{share:>8.1%}")
    precision = result["precision"]
    print(
        f"\nflows inside incidents: {result['members']:,}   precision (attack flows among "
        f"them): {precision:.2%}"
        if precision is not None
        else "\nno incident members"
    )
    s = result["sources"]
    print(
        f"sources: {len(s['attack_sources'])} attack sources {s['attack_sources']}; "
        f"flagged {s['flagged']}; TP {s['true_positive']} FP {s['false_positive']} "
        f"FN {s['false_negative']}"
    )
    print(f"incidents by kind: {result['incidents']}   time: {result['seconds']} s")


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        raise SystemExit(f"{args.data} not found: the CIC-IDS2017 samples live in shared/data")
    result = evaluate(args.data)
    _print(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
