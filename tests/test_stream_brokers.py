"""What the two test brokers do with a dead producer's open transaction, and tansu's high
watermark (docs/scale.md, "Brokers tried").

Kafka aborts it after ``transaction.timeout.ms``, or as soon as a new producer initialises
with the same ``transactional.id`` (fencing); until then ``read_committed`` readers of that
partition stop at it (the last stable offset). The probe: a producer process opens a
transaction, writes one record and is killed with SIGKILL; another producer commits a record
after it; a ``read_committed`` reader from the start must see the committed record once the
dead transaction is aborted. Measured here on noida-db and tansu.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import pytest

pytest.importorskip("quixstreams")
pytest.importorskip("noida_db")

from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from stream_helpers import bootstrap, create_topic, tansu  # noqa: E402

__all__ = ["bootstrap", "tansu"]  # fixtures shared with test_stream

PROBE = """
import os, sys
from confluent_kafka import Producer
producer = Producer({"bootstrap.servers": sys.argv[1], "transactional.id": sys.argv[3],
                     "transaction.timeout.ms": 5000})
producer.init_transactions(20)
producer.begin_transaction()
producer.produce(sys.argv[2], b"open", partition=0)
producer.flush(20)
os.kill(os.getpid(), 9)
"""


def _commit(bootstrap: str, topic: str, value: bytes, transactional_id: str) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id})
    producer.init_transactions(20)
    producer.begin_transaction()
    producer.produce(topic, value, partition=0)
    producer.commit_transaction(20)


def _committed_values(bootstrap: str, topic: str, wait: float, count: int = 1) -> list[bytes]:
    """What a read_committed reader finds from the start: up to ``count`` values in ``wait``."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"probe-{uuid.uuid4()}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }
    )
    consumer.assign([TopicPartition(topic, 0, 0)])
    found: list[bytes] = []
    deadline = time.monotonic() + wait
    try:
        while time.monotonic() < deadline and len(found) < count:
            message = consumer.poll(0.5)
            if message is not None and not message.error():
                found.append(message.value())
        return found
    finally:
        consumer.close()


# After fencing, Kafka aborts the dead transaction: "open" is never read. tansu makes it
# visible instead (as if committed): a dead worker's uncommitted output would be read.
AFTER_FENCING = {"noida-db": [b"after", b"fenced"], "tansu": [b"open", b"after", b"fenced"]}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["noida-db", "tansu"])
def test_a_dead_producers_transaction_outlives_its_timeout(
    name: str, request: pytest.FixtureRequest
) -> None:
    broker = request.getfixturevalue("bootstrap" if name == "noida-db" else "tansu")
    topic, tid = f"probe-{uuid.uuid4().hex[:8]}", f"dead-{uuid.uuid4().hex[:8]}"
    create_topic(broker, topic, partitions=1)
    probe = subprocess.run([sys.executable, "-c", PROBE, broker, topic, tid], timeout=60)
    assert probe.returncode == -9
    _commit(broker, topic, b"after", f"live-{uuid.uuid4().hex[:8]}")
    # Four times transaction.timeout.ms: Kafka would have aborted the dead transaction.
    assert _committed_values(broker, topic, wait=20) == []
    # A new producer with the dead one's transactional.id fences it: its transaction ends.
    _commit(broker, topic, b"fenced", tid)
    assert _committed_values(broker, topic, wait=20, count=3) == AFTER_FENCING[name]


def _high_watermark(bootstrap: str, records: int, settings: dict[str, str]) -> int:
    topic = f"hw-{uuid.uuid4().hex[:8]}"
    create_topic(bootstrap, topic, partitions=1)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 200, **settings})
    for n in range(records):
        producer.produce(topic, str(n).encode(), partition=0)
    assert producer.flush(20) == 0
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"hw-{uuid.uuid4()}"})
    try:
        high: int = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1]
        return high
    finally:
        consumer.close()


# tansu answers ListOffsets(latest) with the base offset of the partition's last record batch
# + 1: a batch of 100 records reads as 1. The engine's changelog recovery, the idle watch and
# the tests' readers all trust the high watermark, so on tansu every producer of a test sends
# one record per batch (test_stream.py, ONE_PER_BATCH).
HIGH_WATERMARK = {"noida-db": (100, 100), "tansu": (1, 100)}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["noida-db", "tansu"])
def test_the_high_watermark_after_one_batch_of_100_records(
    name: str, request: pytest.FixtureRequest
) -> None:
    broker = request.getfixturevalue("bootstrap" if name == "noida-db" else "tansu")
    batched = _high_watermark(broker, 100, {})
    one_per_batch = _high_watermark(broker, 100, {"batch.num.messages": "1"})
    assert (batched, one_per_batch) == HIGH_WATERMARK[name]
