"""Throughput, lag and CPU cost of the stream job with 1 and 2 worker processes.

Usage::

    python benchmarks/bench_stream.py [--lines 100000] [--workers 1,2] [--until-idle 14]

For each worker count: a fresh 8-partition topic on a local noida-db broker receives ``--lines``
generated Cisco ASA lines (:func:`siem_consensus.generators.firewall.bulk_asa_lines`) and the
end-of-input markers, *then* the workers start (a back-fill: the input is all there). Every
second the group's committed offset on the input topic is sampled. Reported per run:

* ``ingest/s``: input lines per second between the first and the last committed progress
  (worker start-up, about 5 s of imports and group join, excluded);
* ``done s``: seconds from the first progress to the moment every worker has exited, less the
  ``--until-idle`` wait (detect and decide run after the end-of-input marker closes the
  sessions);
* ``cpu s``: user+system CPU seconds of the worker processes, and ``lines/cpu-s``;
* lag (input lines not yet committed) every 5 s;
* per stage, summed over the workers' own timings (the engine's work excluded): ingest events
  per second, detect sessions and seconds, decide incidents and seconds.

The ratio of 2-worker to 1-worker ingest rate is printed at the end. The machine's 2 cores
are shared with the broker and the sampler, so two workers cannot double a single worker.
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
import uuid
from pathlib import Path
from typing import Any

WORKER = "from siem_consensus.cli import main; raise SystemExit(main())"
PARTITIONS = 8


def _broker() -> Any:
    from siem_consensus.testing.noida import NoidaServer

    return NoidaServer(("kafka",))


def _produce(bootstrap: str, topic: str, lines: int) -> None:
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    from siem_consensus.generators.firewall import bulk_asa_lines
    from siem_consensus.stream import send_end_of_input

    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, PARTITIONS, 1)]).values():
        future.result(10)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 50})
    for line in bulk_asa_lines(lines, seed=3):
        while True:
            try:
                producer.produce(topic, line.encode())
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    producer.flush(60)
    send_end_of_input(bootstrap, topic)


def _committed(bootstrap: str, group: str, topic: str) -> int:
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        return sum(max(tp.offset, 0) for tp in consumer.committed(tps, timeout=10))
    finally:
        consumer.close()


def run(bootstrap: str, lines: int, workers: int, idle: float) -> dict[str, Any]:
    """One measured run; returns its figures."""
    topic = f"bench-{uuid.uuid4().hex[:8]}"
    _produce(bootstrap, topic, lines)
    total = lines + PARTITIONS  # the end-of-input markers are input messages too
    config = Path(tempfile.mkdtemp()) / "c.toml"
    config.write_text(
        f'[connectors.kafka]\nbootstrap_servers = "{bootstrap}"\ntopic = "unused"\n',
        encoding="utf-8",
    )
    group = f"bench-{uuid.uuid4().hex[:6]}"
    args = ["stream", "firewall", "--connectors", str(config), "--from", "kafka", topic]
    args += ["--group", group, "--until-idle", str(idle), "--input-format", "asa"]
    args += ["--lateness", str(30 * 86_400)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, *args, "--state-dir", tempfile.mkdtemp()],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(workers)
    ]
    started = time.monotonic()
    samples: list[tuple[float, int]] = []
    while any(p.poll() is None for p in procs):
        done = _committed(bootstrap, group, topic)
        samples.append((time.monotonic() - started, done))
        time.sleep(1.0)
    ended = time.monotonic() - started
    outputs = [p.stderr.read().decode(errors="replace") if p.stderr else "" for p in procs]
    errors = [out[-500:] for p, out in zip(procs, outputs, strict=True) if p.returncode]
    if errors:
        raise SystemExit(f"a worker failed: {errors[0]}")
    stats: dict[str, float] = {}
    for out in outputs:
        for key, value in json.loads(out.strip().splitlines()[-1]).items():
            stats[key] = stats.get(key, 0) + value
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    moving = [(t, n) for t, n in samples if n > 0]
    first = moving[0][0] if moving else 0.0
    full = next((t for t, n in samples if n >= total), ended)
    rate = lines / max(full - first, 1e-9)
    return {
        "workers": workers,
        "ingest_per_s": rate,
        "done_s": max(ended - idle - first, 0.0),
        "cpu_s": cpu,
        "lines_per_cpu_s": lines / cpu if cpu else 0.0,
        "lag": [(round(t - first), total - n) for t, n in samples[::5] if t >= first],
        "stats": stats,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--until-idle", type=float, default=14.0)
    opts = parser.parse_args()
    results = []
    with _broker() as server:
        for count in (int(w) for w in opts.workers.split(",")):
            result = run(server.kafka_bootstrap, opts.lines, count, opts.until_idle)
            results.append(result)
            print(
                f"{count} worker(s): {result['ingest_per_s']:,.0f} lines/s ingested, "
                f"done in {result['done_s']:.1f} s, {result['cpu_s']:.1f} cpu-s "
                f"({result['lines_per_cpu_s']:,.0f} lines/cpu-s)",
                flush=True,
            )
            print("   lag (s after first progress, lines left):", result["lag"], flush=True)
            stats = result["stats"]
            ingest = stats.get("events", 0) / max(stats.get("ingest_s", 0), 1e-9)
            print(
                f"   stages: ingest {ingest:,.0f}"
                f" events/s, detect {stats.get('sessions', 0):,.0f} sessions in "
                f"{stats.get('detect_s', 0):.1f} s, decide {stats.get('decisions', 0):,.0f} "
                f"incidents in {stats.get('decide_s', 0):.2f} s (summed over workers)",
                flush=True,
            )
    if len(results) > 1:
        ratio = results[-1]["ingest_per_s"] / results[0]["ingest_per_s"]
        print(f"throughput ratio {results[-1]['workers']}w/{results[0]['workers']}w: {ratio:.2f}")
    print(f"machine: {os.cpu_count()} cores (shared)")


if __name__ == "__main__":
    main()
