"""Throughput, lag and CPU cost of the stream job with 1 and 2 worker processes.

Usage::

    python benchmarks/bench_stream.py [--lines 100000] [--workers 1,2] [--until-idle 14]
        [--repeat 3] [--family firewall|ids|insider] [--input ALERTS.csv.gz]

For each worker count: a fresh 8-partition topic on a local noida-db broker receives ``--lines``
input lines (:func:`feed`: generated Cisco ASA lines for ``firewall``, real AIT-ADS alerts
for ``ids``, the generated insider data set as ECS lines for ``insider``) and the
end-of-input markers, *then* the workers start (a back-fill: the input is all there). Every
second the group's committed offset on the input topic is sampled. Reported per run:

* ``ingest/s``: input lines per second between the first and the last committed progress
  (worker start-up, about 5 s of imports and group join, excluded);
* ``done s``: seconds from the first progress to the moment every worker has exited, less the
  ``--until-idle`` wait (detect and decide run after the end-of-input marker closes the
  sessions);
* ``cpu s``: user+system CPU seconds of the worker processes, and ``lines/cpu-s``;
* lag (input lines not yet committed) every 5 s, and the detect stage's backlog (keyed events
  written to ``<topic>.<family>.events`` and not yet committed by the group);
* per stage, summed over the workers' own timings (the engine's work excluded): ingest events
  per second, detect sessions and seconds, decide incidents and seconds.

The ratio of 2-worker to 1-worker ingest rate is printed at the end. The machine's 2 cores
are shared with the broker and the sampler, so two workers cannot double a single worker.

``--latency`` measures instead the end-to-end latency of a live feed (see
:func:`latency_run`)::

    python benchmarks/bench_stream.py --latency --runs 3 [--rate 200] [--seconds 60]
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

WORKER = "from siem_consensus.cli import main; raise SystemExit(main())"
PARTITIONS = 8


def _broker() -> Any:
    from siem_consensus.testing.noida import NoidaServer

    return NoidaServer(("kafka",))


FORMATS = {"firewall": "asa", "ids": "ait-ads", "insider": "ecs"}
"""The input format each family's benchmark feeds (``--input-format`` of the workers)."""
AIT_ADS = Path(__file__).resolve().parents[2] / "shared/data/ait-ads/wheeler_alerts.csv.gz"
"""The default IDS input: one host's real alerts of the AIT Alert Data Set, read in place."""


def feed(family: str, lines: int, path: Path | None = None) -> list[str]:
    """The first ``lines`` input lines of a throughput run of ``family``.

    firewall: generated ASA lines (:func:`bulk_asa_lines`, seed 3); ids: the alerts of
    ``path`` (an AIT-ADS CSV, gzip or not; :data:`AIT_ADS` by default) in file order;
    insider: the generated insider data set (``generate_insider_dataset``, seed 7, a CERT
    directory) as ECS JSON lines, in log-time order.
    """
    if family == "firewall":
        from siem_consensus.generators.firewall import bulk_asa_lines

        return list(bulk_asa_lines(lines, seed=3))
    if family == "ids":
        import gzip
        import itertools

        source = path or AIT_ADS
        if not source.exists():
            raise SystemExit(f"{source}: no such file (give --input, an AIT-ADS alerts CSV)")
        opener = gzip.open if source.suffix == ".gz" else open
        with opener(source, "rt", encoding="utf-8") as fh:
            return [line.rstrip("\n") for line in itertools.islice(fh, lines + 1)]
    return _insider_lines(lines)


def _insider_lines(lines: int) -> list[str]:
    from siem_consensus.generators.insider import generate_insider_dataset
    from siem_consensus.parsers.base import frame_to_events
    from siem_consensus.parsers.cert import cert_inputs
    from siem_consensus.sources import EventStream

    folder = Path(tempfile.mkdtemp()) / "cert"
    generate_insider_dataset(folder, seed=7)
    events = [
        event
        for name, batch in EventStream(list(cert_inputs(folder).event_files))
        for event in frame_to_events(batch.drop("source"), name)
    ]
    events.sort(key=lambda event: event.timestamp)
    return [
        json.dumps(event.model_dump(mode="json", by_alias=True, exclude={"event_id"}))
        for event in events[:lines]
    ]


def _produce(bootstrap: str, topic: str, lines: list[str]) -> None:
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    from siem_consensus.stream import send_end_of_input

    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, PARTITIONS, 1)]).values():
        future.result(10)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 50})
    for line in lines:
        while True:
            try:
                producer.produce(topic, line.encode())
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    producer.flush(60)
    send_end_of_input(bootstrap, topic)


def _process_cpu_s(pid: int | None) -> float:
    """User + system CPU seconds of process ``pid`` so far (0 when unknown)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _events_backlog(bootstrap: str, group: str, topic: str) -> int | None:
    """Events written to ``topic`` (the job's keyed events topic) and not yet committed by
    ``group``: the detect stage's backlog; None while the topic does not exist."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        found = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if found is None or found.error is not None or not found.partitions:
            return None
        tps = [TopicPartition(topic, p) for p in found.partitions]
        backlog = 0
        for tp in consumer.committed(tps, timeout=10):
            low, high = consumer.get_watermark_offsets(tp, timeout=10, cached=False)
            backlog += high - (tp.offset if tp.offset >= 0 else low)
        return backlog
    finally:
        consumer.close()


def _committed(bootstrap: str, group: str, topic: str) -> int:
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        return sum(max(tp.offset, 0) for tp in consumer.committed(tps, timeout=10))
    finally:
        consumer.close()


def run(
    bootstrap: str,
    lines: list[str],
    workers: int,
    idle: float,
    analysts: str | None = None,
    family: str = "firewall",
    broker_pid: int | None = None,
) -> dict[str, Any]:
    """One measured run of ``family`` over ``lines``; returns its figures.

    ``broker_pid``: the broker's process, whose CPU time while the workers run is reported
    apart (``broker_cpu_s``): on this machine the broker shares the workers' two cores.
    """
    from siem_consensus.stream import StreamTopics

    topic = f"bench-{uuid.uuid4().hex[:8]}"
    _produce(bootstrap, topic, lines)
    total = len(lines) + PARTITIONS  # the end-of-input markers are input messages too
    config = Path(tempfile.mkdtemp()) / "c.toml"
    config.write_text(
        f'[connectors.kafka]\nbootstrap_servers = "{bootstrap}"\ntopic = "unused"\n',
        encoding="utf-8",
    )
    group = f"bench-{uuid.uuid4().hex[:6]}"
    args = ["stream", family, "--connectors", str(config), "--from", "kafka", topic]
    args += ["--group", group, "--until-idle", str(idle), "--input-format", FORMATS[family]]
    args += ["--lateness", str(30 * 86_400)]
    args += ["--analysts", analysts] if analysts else []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    broker_before = _process_cpu_s(broker_pid)
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
    backlog: list[tuple[float, int | None]] = []  # the detect stage's, every 5 s
    while any(p.poll() is None for p in procs):
        try:
            done = _committed(bootstrap, group, topic)
        except Exception:  # noqa: BLE001 - a slow broker: no sample this second
            time.sleep(1.0)
            continue
        samples.append((time.monotonic() - started, done))
        if len(samples) % 5 == 1:
            try:
                events = _events_backlog(bootstrap, group, StreamTopics(topic, family).events)
            except Exception:  # noqa: BLE001 - as above
                events = None
            backlog.append((samples[-1][0], events))
        time.sleep(1.0)
    ended = time.monotonic() - started
    broker_cpu = _process_cpu_s(broker_pid) - broker_before
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
    rate = len(lines) / max(full - first, 1.0)  # samples are a second apart
    return {
        "family": family,
        "workers": workers,
        "lines": len(lines),
        "ingest_per_s": rate,
        "done_s": max(ended - idle - first, 0.0),
        "cpu_s": cpu,
        "lines_per_cpu_s": len(lines) / cpu if cpu else 0.0,
        "broker_cpu_s": broker_cpu,
        "lag": [(round(t - first), total - n) for t, n in samples[::5] if t >= first],
        "backlog": [(round(t - first), n) for t, n in backlog if t >= first and n is not None],
        "stats": stats,
    }


# -- latency of a live feed ------------------------------------------------------------------

SPEEDUP = 600  # log seconds per wall second: a 2 h session gap passes in 12 s
LATENESS_S = 600  # log seconds (1 s of wall time)
GAP_S = 2 * 3600  # the firewall family's session gap: two detection windows
CLOSE_S = 2 * GAP_S + LATENESS_S
"""Log time from a session's last event until it can close: the engine closes a session once
its partition's event time passes its end by two gaps plus the lateness (an event that late
may still extend it by one gap). 4 h 10 min, 25 s of wall time."""


def _stamp(line: str, ts: datetime) -> str:
    """``line`` (an ASA syslog line) with its header time replaced by ``ts``."""
    return f"{ts:%b} {ts.day:2d} {ts:%H:%M:%S}{line[15:]}"


def _scan(k: int, ts: datetime) -> tuple[str, list[tuple[datetime, str]]]:
    """Attack ``k``: a port scan of 80 ports, 2 log seconds apart, by its own address."""
    from siem_consensus.generators.firewall import asa_deny

    attacker = f"198.18.{k // 250}.{k % 250 + 1}"
    out = []
    for i in range(80):
        at = ts + timedelta(seconds=2 * i)
        src, dst = ("outside", attacker, 40000 + i), ("inside", "10.1.50.10", 1 + i * 7)
        out.append((at, asa_deny(at, "tcp", src, dst, "x")))
    return attacker, out


class _Decisions(threading.Thread):
    """Reads the decisions topic (read_committed) and notes when each decision arrived."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        super().__init__(daemon=True)
        from confluent_kafka import Consumer

        self.seen: dict[str, tuple[float, str]] = {}
        self.stop = threading.Event()
        self._topic = topic
        self._consumer = Consumer(
            {
                "bootstrap.servers": bootstrap,
                "group.id": f"lat-{uuid.uuid4()}",
                "isolation.level": "read_committed",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )

    def run(self) -> None:
        self._consumer.subscribe([self._topic])
        while not self.stop.is_set():
            message = self._consumer.poll(0.1)
            if message is None or message.error():
                continue
            value = json.loads(message.value())
            self.seen.setdefault(message.key().decode(), (time.time(), json.dumps(value)))
        self._consumer.close()


def _wait_for_assignment(bootstrap: str, group: str, timeout: float = 120) -> None:
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = admin.describe_consumer_groups([group])[group].result(5)
            if found.state.name == "STABLE" and any(
                m.assignment.topic_partitions for m in found.members
            ):
                return
        except Exception:  # noqa: BLE001 - the group does not exist until a worker joins
            pass
        time.sleep(0.5)
    raise SystemExit(f"the worker did not join {group} within {timeout} s")


def latency_run(
    bootstrap: str, rate: float, seconds: float, analysts: str | None = None
) -> dict[str, Any]:
    """One worker, a feed at ``rate`` lines/s for ``seconds``: latency of each decision.

    Log time runs :data:`SPEEDUP` times faster than wall time, so a session closes
    ``CLOSE_S / SPEEDUP`` wall seconds after the attack's last event. One port scan
    by a new address is injected every 5 s of wall time. For each, the *earliest possible*
    decision moment is when the producer sent the first line whose log time passes the scan's
    last event + :data:`CLOSE_S` (the session can close no sooner); the latency is from that
    moment to the decision's arrival on a ``read_committed`` reader of the decisions topic:
    processing, transactions (commit every second) and Kafka, not the log-time wait itself.
    """
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    from siem_consensus.generators.firewall import bulk_asa_lines

    topic, group = f"live-{uuid.uuid4().hex[:8]}", f"live-{uuid.uuid4().hex[:6]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, PARTITIONS, 1)]).values():
        future.result(10)
    config = Path(tempfile.mkdtemp()) / "c.toml"
    config.write_text(
        f'[connectors.kafka]\nbootstrap_servers = "{bootstrap}"\ntopic = "unused"\n',
        encoding="utf-8",
    )
    args = ["stream", "firewall", "--connectors", str(config), "--from", "kafka", topic]
    args += ["--group", group, "--input-format", "asa", "--lateness", str(LATENESS_S)]
    args += ["--analysts", analysts] if analysts else []
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, *args, "--state-dir", tempfile.mkdtemp()],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _wait_for_assignment(bootstrap, group)
    reader = _Decisions(bootstrap, f"{topic}.firewall.decisions")
    reader.start()
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    bulk = bulk_asa_lines(10_000_000, seed=5)
    sent: list[tuple[float, float]] = []  # (wall time, log time) of every line sent
    attacks: dict[str, float] = {}  # attacker -> log time of its last event
    pending: list[tuple[datetime, str]] = []
    lag: list[tuple[int, int]] = []
    load = [os.getloadavg()[0]]
    log0 = datetime.now(UTC).replace(microsecond=0)
    start = time.time()
    # The feed goes on past `seconds` until the last scan's session can close, plus 10 s.
    tail = CLOSE_S / SPEEDUP + 10
    n, sampled = 0, start
    while (now := time.time()) - start < seconds + tail:
        due = int((now - start) * rate)
        while n < due:
            ts = log0 + timedelta(seconds=(time.time() - start) * SPEEDUP)
            if n % int(5 * rate) == 0 and now - start < seconds:
                attacker, lines = _scan(len(attacks), ts)
                attacks[attacker] = lines[-1][0].timestamp()
                pending += lines
            due_attack = pending and pending[0][0] <= ts
            line = pending.pop(0)[1] if due_attack else _stamp(next(bulk), ts)
            producer.produce(topic, line.encode())
            sent.append((time.time(), ts.timestamp()))
            n += 1
        producer.poll(0)
        if now - sampled >= 2.0:
            sampled = now
            lag.append((round(now - start), n - _committed(bootstrap, group, topic)))
        time.sleep(0.005)
    producer.flush(30)
    load.append(os.getloadavg()[0])
    deadline = time.time() + 30
    while time.time() < deadline and sum(1 for _t, v in reader.seen.values()) < len(attacks):
        time.sleep(0.5)
    worker.terminate()
    _out, err = worker.communicate(timeout=120)
    reader.stop.set()
    reader.join(10)
    logs = [log for _wall, log in sent]
    latencies = []
    for attacker, last in attacks.items():
        found = sorted((t, v) for t, v in reader.seen.values() if f'"{attacker}"' in v)
        earliest = bisect.bisect_left(logs, last + CLOSE_S)
        if found and earliest < len(sent):
            latencies.append(found[0][0] - sent[earliest][0])
    counters = json.loads(err.decode(errors="replace").strip().splitlines()[-1])
    return {
        "sent": n,
        "rate": n / (sent[-1][0] - sent[0][0]),
        "attacks": len(attacks),
        "decided": len(latencies),
        "latencies": sorted(latencies),
        "lag": lag,
        "load": load,
        "counters": counters,
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def report_latency(
    broker: Any, runs: int, rate: float, seconds: float, analysts: str | None = None
) -> None:
    """Print each run's latency percentiles, lag over time and load, then the spread."""
    p50s, p95s = [], []
    with broker() as server:
        for number in range(1, runs + 1):
            r = latency_run(server.kafka_bootstrap, rate, seconds, analysts)
            if not r["latencies"]:
                print(f"run {number}: no decision measured ({r})")
                continue
            p50, p95 = _percentile(r["latencies"], 0.5), _percentile(r["latencies"], 0.95)
            p50s.append(p50)
            p95s.append(p95)
            print(
                f"run {number}: {r['rate']:.0f} lines/s for {r['sent']:,} lines, "
                f"{r['decided']}/{r['attacks']} scans decided; latency after the session "
                f"could close p50 {p50:.2f} s, p95 {p95:.2f} s, max {max(r['latencies']):.2f} s; "
                f"load average {r['load'][0]:.1f} -> {r['load'][1]:.1f}",
                flush=True,
            )
            print("   lag (s, input lines not committed):", r["lag"][::3], flush=True)
            c = r["counters"]
            print(
                f"   worker: {c.get('sessions', 0):,} sessions closed by "
                f"{c.get('detect_runs', 0):,} messages, detect {c.get('detect_s', 0):.1f} s "
                f"({1000 * c.get('detect_s', 0) / max(c.get('detect_runs', 0), 1):.1f} ms a "
                f"run), {c.get('decisions', 0)} decisions, decide {c.get('decide_s', 0):.1f} s, "
                f"late {c.get('late', 0)}; cpu {c.get('cpu_s', 0):.1f} s, main thread "
                f"{c.get('cpu_main_s', 0):.1f} s",
                flush=True,
            )
    if p50s:
        spread = f"{min(p50s):.2f}-{max(p50s):.2f} s, p95 {min(p95s):.2f}-{max(p95s):.2f} s"
        print(f"p50 over runs {spread}; plus the log-time wait of 2 gaps + lateness ({CLOSE_S} s)")


def _print_run(number: int, result: dict[str, Any]) -> None:
    count, load = result["workers"], result["load"]
    print(
        f"run {number}, {count} worker(s): {result['ingest_per_s']:,.0f} lines/s ingested, "
        f"done in {result['done_s']:.1f} s, {result['cpu_s']:.1f} cpu-s "
        f"({result['lines_per_cpu_s']:,.0f} lines/cpu-s); load average {load[0]:.1f} -> "
        f"{load[1]:.1f}; the broker {result['broker_cpu_s']:.1f} cpu-s meanwhile",
        flush=True,
    )
    print("   lag (s after first progress, lines left):", result["lag"], flush=True)
    print("   detect backlog (s, keyed events not yet committed):", result["backlog"], flush=True)
    stats = result["stats"]
    if "cpu_main_s" in stats:  # the workers' own split (older workers do not report it)
        main, lines = stats["cpu_main_s"], result["lines"] / 1000
        print(
            f"   cpu (summed over workers): {stats['cpu_s']:.1f} cpu-s, of which the main "
            f"threads {main:.1f} ({main / lines:.2f} per 1,000 lines) and the other threads "
            f"(Kafka clients, RocksDB) {stats['cpu_s'] - main:.1f}",
            flush=True,
        )
    ingest = stats.get("events", 0) / max(stats.get("ingest_s", 0), 1e-9)
    detect = stats.get("events", 0) / max(stats.get("detect_s", 0), 1e-9)
    print(
        f"   stages (summed over workers): ingest {ingest:,.0f} events/s, detect "
        f"{stats.get('sessions', 0):,.0f} sessions in {stats.get('detect_s', 0):.1f} s "
        f"({detect:,.0f} events/s), decide {stats.get('decisions', 0):,.0f} incidents in "
        f"{stats.get('decide_s', 0):.2f} s",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--until-idle", type=float, default=14.0)
    parser.add_argument("--latency", action="store_true", help="measure a live feed's latency")
    parser.add_argument("--runs", type=int, default=3, help="latency runs")
    parser.add_argument("--rate", type=float, default=200.0, help="latency: lines per second")
    parser.add_argument("--seconds", type=float, default=60.0, help="latency: feed duration")
    parser.add_argument("--analysts", help="the workers' --analysts (default: the default ones)")
    parser.add_argument("--repeat", type=int, default=1, help="throughput: runs per worker count")
    parser.add_argument(
        "--family", choices=sorted(FORMATS), default="firewall", help="throughput: the job to run"
    )
    parser.add_argument("--input", type=Path, help="throughput, ids: an AIT-ADS alerts CSV")
    opts = parser.parse_args()
    if opts.latency:
        report_latency(_broker, opts.runs, opts.rate, opts.seconds, opts.analysts)
        return
    counts = [int(w) for w in opts.workers.split(",")]
    runs: dict[int, list[dict[str, Any]]] = {count: [] for count in counts}
    lines = feed(opts.family, opts.lines, opts.input)
    print(f"stream {opts.family}: {len(lines):,} input lines ({FORMATS[opts.family]})", flush=True)
    with _broker() as server:
        for number in range(1, opts.repeat + 1):
            for count in counts:
                load = os.getloadavg()[0]
                result = run(
                    server.kafka_bootstrap,
                    lines,
                    count,
                    opts.until_idle,
                    opts.analysts,
                    opts.family,
                    server.pid,
                )
                result["load"] = (load, os.getloadavg()[0])
                runs[count].append(result)
                _print_run(number, result)
    for count in counts:
        rates = [r["ingest_per_s"] for r in runs[count]]
        per_cpu = [r["lines_per_cpu_s"] for r in runs[count]]
        done = [r["done_s"] for r in runs[count]]
        print(
            f"{count} worker(s) over {len(rates)} run(s): {min(rates):,.0f}-{max(rates):,.0f} "
            f"lines/s ingested, done in {min(done):.1f}-{max(done):.1f} s, "
            f"{min(per_cpu):,.0f}-{max(per_cpu):,.0f} lines/cpu-s"
        )
    if len(counts) > 1:
        for number, (first, last) in enumerate(
            zip(runs[counts[0]], runs[counts[-1]], strict=True), 1
        ):
            ratio = last["ingest_per_s"] / first["ingest_per_s"]
            whole = first["done_s"] / max(last["done_s"], 1e-9)
            print(
                f"run {number}: throughput ratio {counts[-1]}w/{counts[0]}w ingest {ratio:.2f}, "
                f"whole job (done time) {whole:.2f}"
            )
    print(f"machine: {os.cpu_count()} cores (shared)")


if __name__ == "__main__":
    main()
