"""Throughput and memory of sshd auth.log parsing + auth detection against a line-splitting floor.

Usage::

    python benchmarks/bench_auth.py [--sizes 200000,1000000] [--cache-dir DIR] [--repeat N]

The auth.log files come from :func:`siem_consensus.generators.auth.bulk_auth_lines` (seeded: a
week on 20 internet-exposed hosts, mostly background guessing from 50 bots and 20,000
scanners, 5% staff logins) and are generated once into ``--cache-dir`` (default
``$TMPDIR/siem_consensus_bench``), about 100 bytes a line.

Every measurement runs in a fresh interpreter so that its peak RSS (``ru_maxrss``) belongs to one
run; ``--repeat N`` keeps the fastest of N runs (the largest RSS among them):

* ``floor``: read the file and ``line.split()`` each line, the least any Python parser does;
* ``parse``: ``EventStream([path], input_format="openssh")`` alone;
* ``detect``: the same stream through ``detect_stream`` into an ``AuthDetector`` (what the
  graph's parse_detect node does: detection of one batch overlaps parsing the next), then
  ``finish``.

Times exclude interpreter start-up and imports (about a second for ``siem_consensus``). The
table shows the three side by side, and each one's time as a multiple of the floor's: the
ratio is what to compare across machines, because a shared machine slows all three.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import _bench_common as common

MODES = ("floor", "parse", "detect")


def _run_parse(path: Path, chunk: int) -> dict[str, Any]:
    from siem_consensus.sources import EventStream

    stream = EventStream([path], input_format="openssh", chunk_lines=chunk)
    events = sum(frame.height for _, frame in stream)
    return {"lines": stream.stats.lines, "events": events}


def _run_detect(path: Path, chunk: int) -> dict[str, Any]:
    from siem_consensus.detectors.auth import AuthDetector
    from siem_consensus.detectors.base import detect_stream
    from siem_consensus.sources import EventStream

    detector = AuthDetector()
    stream = EventStream([path], input_format="openssh", chunk_lines=chunk)
    incidents = detect_stream(stream, detector)
    return common.detection_result(stream, detector, incidents)


def worker(mode: str, path: Path, chunk: int) -> None:
    """Run one measurement in this process and print it as JSON (imports not timed)."""
    began = time.perf_counter()
    if mode == "floor":
        common.report(lambda: common.run_floor(path), began)
        return
    import siem_consensus.detectors.auth
    import siem_consensus.sources  # noqa: F401

    run = _run_parse if mode == "parse" else _run_detect
    common.report(lambda: run(path, chunk), began)


def _ensure_file(cache: Path, size: int, seed: int) -> Path:
    from siem_consensus.generators.auth import bulk_auth_lines

    def write(path: Path) -> None:
        with path.open("w", encoding="utf-8") as fh:
            for line in bulk_auth_lines(size, seed):
                fh.write(line + "\n")

    return common.ensure_file(cache / f"auth_bulk_{size}_seed{seed}.log", write)


def _print_table(rows: list[dict[str, Any]]) -> None:
    print(
        f"{'lines':>10} {'floor l/s':>10} {'parse l/s':>10} {'x floor':>8} "
        f"{'parse+detect':>13} {'x floor':>8} {'floor MB':>8} {'parse MB':>8} {'detect MB':>9}"
    )
    for r in rows:
        floor, parse, detect = (r[m] for m in MODES)
        size = r["size"]
        print(
            f"{size:>10,} {size / floor['seconds']:>10,.0f} {size / parse['seconds']:>10,.0f} "
            f"{parse['seconds'] / floor['seconds']:>8.2f} {size / detect['seconds']:>13,.0f} "
            f"{detect['seconds'] / floor['seconds']:>8.2f} {floor['peak_rss_mb']:>8.0f} "
            f"{parse['peak_rss_mb']:>8.0f} {detect['peak_rss_mb']:>9.0f}"
        )
    for r in rows:
        detect = r["detect"]
        print(
            f"{r['size']:>10,} lines: {detect['incidents']} incidents {detect['kinds']}, "
            f"counters {detect['counters']}"
        )
    if len(rows) >= 2:
        first, last = rows[0]["detect"], rows[-1]["detect"]
        growth = last["peak_rss_mb"] / first["peak_rss_mb"]
        print(f"detect peak RSS {rows[-1]['size']:,} / {rows[0]['size']:,}: {growth:.2f}x")
    for r in rows:
        floor_cpu = r["floor"]["cpu_s"]
        print(
            f"{r['size']:>10,} lines: CPU time (user + system, all threads) "
            f"x the floor's: parse {r['parse']['cpu_s'] / floor_cpu:.2f}, "
            f"parse+detect {r['detect']['cpu_s'] / floor_cpu:.2f}"
        )
    print(f"import siem_consensus: {max(r['detect']['import_s'] for r in rows):.2f} s (not timed)")


def main(argv: list[str] | None = None) -> None:
    """Generate the inputs once, then measure each size in fresh subprocesses."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    args = common.common_args(parser, "200000,1000000", MODES).parse_args(argv)
    if args.worker:
        worker(args.worker, args.file, args.chunk_lines)
        return
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in common.sizes_of(args.sizes):
        path = _ensure_file(args.cache_dir, size, args.seed)
        extra = ["--chunk-lines", str(args.chunk_lines)]
        runs = {m: common.measure(__file__, m, path, extra, args.repeat) for m in MODES}
        rows.append({"size": size, **runs})
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
        f"{common.load_average():.1f}, chunk_lines={args.chunk_lines}, best of {args.repeat}"
    )
    _print_table(rows)


if __name__ == "__main__":
    main()
