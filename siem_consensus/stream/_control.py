"""End of input: how a back-fill tells a stream job that no more events will come.

A live stream never ends: a session closes when the partition's event time moves past it.
A back-fill (or a test) does end, and the sessions of its last hours would otherwise wait for
events that never come. So whoever finishes writing an input topic sends one *end-of-input
marker* to each of its partitions (:func:`send_end_of_input`). The ingest stage forwards every
marker to every partition of the events topic, keyed so that it lands there; the detect stage
counts, per events partition, the input partitions whose marker arrived, and when all have,
moves that partition's event time to the end of time: every open session closes and is
detected. Events that arrive on that partition afterwards are late and ignored, so a group
that has seen end-of-input is finished; use a new group for the next back-fill.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Final, Protocol

__all__ = [
    "END_HEADER",
    "END_OF_TIME_MS",
    "end_gate",
    "is_control",
    "partition_key",
    "murmur2",
    "send_end_of_input",
]

END_HEADER: Final = "siem-consensus-control"
"""Header whose value ``end-of-input`` marks a control message (its value is ignored)."""
END_VALUE: Final = b"end-of-input"
END_OF_TIME_MS: Final = 253_402_300_799_000
"""9999-12-31T23:59:59Z: the event time an events partition jumps to at end of input."""
CONTROL_PREFIX: Final = "\x00control:"


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 hash (the Java client's default partitioner), as a signed 32-bit int."""
    seed, m, r = 0x9747B28C, 0x5BD1E995, 24
    length = len(data)
    h = (seed ^ length) & 0xFFFFFFFF
    end = length - length % 4
    for i in range(0, end, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
    rest = length % 4
    if rest == 3:
        h ^= data[end + 2] << 16
    if rest >= 2:
        h ^= data[end + 1] << 8
    if rest >= 1:
        h ^= data[end]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h - (1 << 32) if h >= 1 << 31 else h


def partition_key(partition: int, partitions: int) -> str:
    """A control key that the murmur2 partitioner sends to ``partition`` of ``partitions``."""
    n = 0
    while True:
        key = f"{CONTROL_PREFIX}{partition}:{n}"
        if (murmur2(key.encode()) & 0x7FFFFFFF) % partitions == partition:
            return key
        n += 1


class _State(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...
    def set(self, key: str, value: Any) -> None: ...


def end_gate(value: MutableMapping[str, Any], state: _State, partitions: int) -> bool:
    """Whether an events-topic message goes on to the session windows.

    Events always do. An end-of-input marker (``kind == "control"``, ``from`` = the input
    partition it ended) is recorded in ``state`` (the events partition's control key) and
    dropped, except the one that completes the set of ``partitions`` input partitions: it
    goes on marked ``close`` (its event time becomes :data:`END_OF_TIME_MS`), once.
    """
    if value.get("kind") != "control":
        return True
    seen = set(state.get("ended", []))
    seen.add(int(value["from"]))
    state.set("ended", sorted(seen))
    if len(seen) < partitions or state.get("closed", False):
        return False
    state.set("closed", True)
    value["close"] = True
    return True


def is_control(key: object) -> bool:
    """Whether a message key belongs to a control message."""
    return isinstance(key, str) and key.startswith(CONTROL_PREFIX)


def send_end_of_input(bootstrap: str, topic: str, *, extra: dict[str, str] | None = None) -> int:
    """Send one end-of-input marker to every partition of ``topic``; returns how many.

    Args:
        bootstrap: ``host:port`` of the brokers.
        topic: The input topic a back-fill has finished writing.
        extra: More librdkafka settings (security).
    """
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient

    settings = {"bootstrap.servers": bootstrap, **(extra or {})}
    metadata = AdminClient(settings).list_topics(topic, timeout=10)
    partitions = sorted(metadata.topics[topic].partitions)
    producer = Producer({**settings, "enable.idempotence": True})
    for partition in partitions:
        producer.produce(topic, b"", partition=partition, headers=[(END_HEADER, END_VALUE)])
    if producer.flush(30):
        raise RuntimeError(f"end-of-input markers for {topic} not delivered within 30 s")
    return len(partitions)
