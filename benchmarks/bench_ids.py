"""Throughput and memory of AIT-ADS parsing + IDS correlation against a plain CSV-read floor.

Usage::

    python benchmarks/bench_ids.py [--data ../shared/data/ait-ads] [--sets 1,3,6] [--repeat N]

Input: the six AIT-ADS scenarios (1.93 M alerts, gzip CSV, read in place). A *set* of k
scenarios is the first k of fox, harrison, russellmitchell, santos, shaw, wheeler (1: 473 k
alerts, 3: 1.11 M, 6: 1.93 M). The scenarios overlap in calendar time, so for one continuous
stream through **one** correlator each file's timestamps are shifted by 30 days times its
position (the scenarios span at most 6 days): the state must stay bounded as the input grows.

Every measurement runs in a fresh interpreter so that its peak RSS (``ru_maxrss``) belongs to
one run (``--repeat N`` keeps the fastest of N runs, for shared machines):

* ``floor``: ``gzip.decompress`` each file and ``polars.read_csv`` the bytes: the fastest plain
  read of the same data, no parsing into events, no correlation;
* ``parse``: ``EventStream([path], input_format="ait-ads")`` alone: the gzip files read in place
  (decompressed on the fly, in blocks of lines that the parser hands to ``polars.read_csv``);
* ``correlate``: the same stream feeding ``IdsCorrelator.update``, then ``finish``;
* ``pipelined``: the same, with ``update`` in one worker thread so that correlating a batch
  overlaps parsing the next (polars releases the GIL); batches stay in order, at most one waits.

Wall and CPU seconds (``time.process_time``, all threads) of every run are printed too: on a
shared machine CPU time is the steadier figure.

Times exclude interpreter start-up and imports (``siem_consensus`` pulls in langgraph), printed
apart. Targets from the issue: parse+correlate >= 300k alerts/s, <= 3x the floor's time, peak
RSS flat as the input grows (6 scenarios vs 1).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import _bench_common as common

MODES = ("floor", "parse", "correlate", "pipelined")
SCENARIOS = ("fox", "harrison", "russellmitchell", "santos", "shaw", "wheeler")
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ait-ads"
SHIFT_DAYS = 30


def _files(data: Path, count: int) -> list[Path]:
    return [data / f"{name}_alerts.csv.gz" for name in SCENARIOS[:count]]


def _run_floor(files: list[Path]) -> dict[str, Any]:
    import polars as pl

    rows = 0
    for path in files:
        rows += pl.read_csv(gzip.decompress(path.read_bytes())).height
    return {"alerts": rows}


def _batches(files: list[Path], chunk: int) -> Iterator[Any]:
    """Parsed batches of every file, timestamps shifted into one continuous timeline."""
    from datetime import timedelta

    import polars as pl

    from siem_consensus.sources import EventStream

    for position, path in enumerate(files):
        shift = timedelta(days=SHIFT_DAYS * position)
        stream = EventStream([path], input_format="ait-ads", chunk_lines=chunk)
        for _, batch in stream:
            yield batch.with_columns(pl.col("timestamp") + shift, pl.lit(path.name).alias("source"))


def _run_parse(files: list[Path], chunk: int) -> dict[str, Any]:
    return {"alerts": sum(batch.height for batch in _batches(files, chunk))}


def _run_correlate(files: list[Path], chunk: int, pipelined: bool) -> dict[str, Any]:
    from siem_consensus.detectors.ids import IdsCorrelator

    detector = IdsCorrelator()
    if pipelined:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending: Future[None] | None = None
            for batch in _batches(files, chunk):
                if pending is not None:
                    pending.result()
                pending = pool.submit(detector.update, batch)
            if pending is not None:
                pending.result()
    else:
        for batch in _batches(files, chunk):
            detector.update(batch)
    incidents = detector.finish()
    kinds: dict[str, int] = {}
    for incident in incidents:
        kinds[incident.kind] = kinds.get(incident.kind, 0) + 1
    return {"alerts": detector.counters["alerts"], "incidents": len(incidents), "kinds": kinds,
            "late": detector.counters["late"]}  # fmt: skip


def worker(mode: str, files: list[Path], chunk: int) -> None:
    """Run one measurement in this process and print it as JSON (imports not timed)."""
    began = time.perf_counter()
    import polars  # noqa: F401

    if mode != "floor":
        import siem_consensus.detectors.ids
        import siem_consensus.sources  # noqa: F401
    started = time.perf_counter()
    cpu = time.process_time()
    if mode == "floor":
        result = _run_floor(files)
    elif mode == "parse":
        result = _run_parse(files, chunk)
    else:
        result = _run_correlate(files, chunk, pipelined=mode == "pipelined")
    result["seconds"] = time.perf_counter() - started
    result["cpu_s"] = time.process_time() - cpu
    result["import_s"] = started - began
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _row(count: int, runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    floor, parse, corr, piped = (runs[m] for m in MODES)
    alerts = corr["alerts"]
    return {
        "scenarios": count,
        "alerts": alerts,
        "floor_aps": alerts / floor["seconds"],
        "parse_aps": alerts / parse["seconds"],
        "correlate_aps": alerts / corr["seconds"],
        "ratio": corr["seconds"] / floor["seconds"],
        "piped_aps": alerts / piped["seconds"],
        "piped_ratio": piped["seconds"] / floor["seconds"],
        "cpu": {m: round(r["cpu_s"], 2) for m, r in runs.items()},
        "wall": {m: round(r["seconds"], 2) for m, r in runs.items()},
        "floor_rss_mb": floor["peak_rss_mb"],
        "parse_rss_mb": parse["peak_rss_mb"],
        "rss_mb": corr["peak_rss_mb"],
        "piped_rss_mb": piped["peak_rss_mb"],
        "incidents": corr["incidents"],
        "kinds": corr["kinds"],
        "late": corr["late"],
        "import_s": corr["import_s"],
    }


def _print_table(rows: list[dict[str, Any]]) -> None:
    print(
        f"{'scen.':>5} {'alerts':>10} {'floor a/s':>10} {'parse a/s':>10} {'parse+corr':>11} "
        f"{'x floor':>8} {'pipelined':>10} {'x floor':>8} {'RSS MB':>7} {'piped RSS':>9} "
        f"{'parse RSS':>9} {'floor RSS':>9}"
    )
    for r in rows:
        print(
            f"{r['scenarios']:>5} {r['alerts']:>10,} {r['floor_aps']:>10,.0f} "
            f"{r['parse_aps']:>10,.0f} {r['correlate_aps']:>11,.0f} {r['ratio']:>8.2f} "
            f"{r['piped_aps']:>10,.0f} {r['piped_ratio']:>8.2f} {r['rss_mb']:>7.0f} "
            f"{r['piped_rss_mb']:>9.0f} {r['parse_rss_mb']:>9.0f} {r['floor_rss_mb']:>9.0f}"
        )
    for r in rows:
        print(f"{r['scenarios']} scenario(s): {r['incidents']} incidents {r['kinds']}, "
              f"{r['late']} late; wall s {r['wall']}; CPU s {r['cpu']}")  # fmt: skip
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        print(
            f"peak RSS {last['scenarios']} / {first['scenarios']} scenarios: "
            f"{last['rss_mb'] / first['rss_mb']:.2f}x sequential, "
            f"{last['piped_rss_mb'] / first['piped_rss_mb']:.2f}x pipelined "
            f"(input {last['alerts'] / first['alerts']:.1f}x; target: flat)"
        )
    print(f"import siem_consensus: {max(r['import_s'] for r in rows):.2f} s (not timed above)")
    best = max(max(r["correlate_aps"], r["piped_aps"]) for r in rows)
    worst = min(max(r["correlate_aps"], r["piped_aps"]) for r in rows)
    ratio = max(min(r["ratio"], r["piped_ratio"]) for r in rows)
    print(f"parse+correlate: {worst:,.0f} to {best:,.0f} alerts/s, best mode per set "
          "(target >= 300,000)")  # fmt: skip
    print(f"largest ratio to the floor, best mode per set: {ratio:.2f}x (target <= 3x)")


def main(argv: list[str] | None = None) -> None:
    """Measure each set of scenarios in fresh subprocesses and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sets", default="1,3,6", help="numbers of scenarios, comma-separated")
    parser.add_argument("--chunk-lines", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (fastest kept)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--worker", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, action="append", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.file, args.chunk_lines)
        return
    if not args.data.is_dir():
        raise SystemExit(f"{args.data} not found: the AIT-ADS files live in shared/data/ait-ads")
    rows = []
    for count in (int(s) for s in args.sets.split(",")):
        files = _files(args.data, count)
        extra = ["--chunk-lines", str(args.chunk_lines)]
        runs = {m: common.measure(__file__, m, files, extra, args.repeat) for m in MODES}
        rows.append(_row(count, runs))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"chunk_lines={args.chunk_lines}, best of {args.repeat}")  # fmt: skip
    _print_table(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
