"""Reading for the Kafka connector: which offsets a read covers, and the partitions merged.

:func:`plan_read` assigns every partition of the topic with something to read and seeks it to
its start offset (the broker's time index for ``start``; else the group's committed offset;
else the beginning); the stop offset is the end offset when the read starts (or the offset of
``end``), so a read always terminates. :func:`merged_records` polls the assigned partitions
and releases their records oldest first on their Kafka timestamps, with a bounded buffer.
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from ...errors import ConnectorError
from ._errors import Failures
from ._settings import Settings

Plan = dict[Any, tuple[int, int]]
"""The partitions a read covers: ``{TopicPartition: (first offset, stop offset)}``."""

_POLL_MS: Final = 200
_AHEAD: Final = 10  # batches buffered at most to merge the partitions in time order


def _epoch_ms(when: datetime) -> int:
    """Milliseconds since the epoch; a naive datetime is taken as UTC."""
    aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return max(0, round(aware.timestamp() * 1000))


def plan_read(
    consumer: Any,
    topic: str,
    start: datetime | None,
    end: datetime | None,
    *,
    topic_partition: Callable[[str, int], Any],
    settings: Settings,
    failures: Failures,
) -> Plan:
    """Assign and seek the partitions with something to read (``topic_partition`` is
    kafka-python's ``TopicPartition``)."""
    partitions = failures.call("looking up", topic, consumer.partitions_for_topic, topic)
    if not partitions:
        raise failures.error(
            f"topic {topic!r} not found on Kafka at {settings.servers}: check the name "
            "(kafka-topics.sh --list shows them) and that this principal may DESCRIBE it"
        )
    tps = [topic_partition(topic, p) for p in sorted(partitions)]
    first = failures.call("reading the offsets of", topic, consumer.beginning_offsets, tps)
    stop = failures.call("reading the offsets of", topic, consumer.end_offsets, tps)
    if start is not None:
        first = _offsets_at(consumer, topic, start, stop, failures)
    elif settings.group_id is not None:
        for tp in tps:
            done = failures.call(
                "reading the offsets of group", settings.group_id, consumer.committed, tp
            )
            first[tp] = max(first[tp], done) if done is not None else first[tp]
    if end is not None:
        stop = _offsets_at(consumer, topic, end, stop, failures)
    plan = {tp: (first[tp], stop[tp]) for tp in tps if first[tp] < stop[tp]}
    consumer.assign(list(plan))
    for tp, (offset, _) in plan.items():
        consumer.seek(tp, offset)
    return plan


def _offsets_at(
    consumer: Any, topic: str, when: datetime, ends: Mapping[Any, int], failures: Failures
) -> dict[Any, int]:
    """Per partition, the first offset stamped at or after ``when`` (else the end offset)."""
    wanted = {tp: _epoch_ms(when) for tp in ends}
    found = failures.call(
        "looking up offsets by time in", topic, consumer.offsets_for_times, wanted
    )
    return {
        tp: min(found[tp].offset, end) if found.get(tp) is not None else end
        for tp, end in ends.items()
    }


def merged_records(
    consumer: Any,
    topic: str,
    plan: Mapping[Any, tuple[int, int]],
    settings: Settings,
    failures: Failures,
) -> Iterator[Any]:
    """The plan's records, oldest first across partitions (Kafka timestamp, then partition
    number), in offset order within each, every partition until its stop offset.

    A record is released once every partition still being read has one buffered, so the
    order does not depend on fetch timing. Memory stays bounded: when more than
    ``_AHEAD`` batches are buffered while a partition has nothing to show yet (its
    messages are far older or it is slow), records are released without waiting for it.
    """
    reading = {tp: stop for tp, (_, stop) in plan.items()}
    positions = {tp: first for tp, (first, _) in plan.items()}
    buffers: dict[Any, deque[Any]] = {tp: deque() for tp in plan}
    heads: list[tuple[int, int, int, Any]] = []  # (timestamp, partition, offset, tp)
    empty: set[Any] = set(plan)
    held, cap = 0, settings.batch_size * _AHEAD
    idle_since = time.monotonic()
    while True:
        waiting = not empty.isdisjoint(reading)  # a partition being read shows nothing yet
        if heads and (not waiting or held > cap):
            tp = heapq.heappop(heads)[3]
            buffer = buffers[tp]
            held -= 1
            yield buffer.popleft()
            if buffer:
                head = buffer[0]
                heapq.heappush(heads, (head.timestamp, tp.partition, head.offset, tp))
            else:
                empty.add(tp)
            continue
        if not reading:
            return
        polled = failures.call(
            "reading", topic, consumer.poll, timeout_ms=_POLL_MS, max_records=settings.batch_size
        )
        for tp, records in polled.items():
            kept = [r for r in records if r.offset < reading.get(tp, -1)]
            if kept and tp in empty:
                empty.discard(tp)
                heapq.heappush(heads, (kept[0].timestamp, tp.partition, kept[0].offset, tp))
            buffers[tp].extend(kept)
            held += len(kept)
        if _advanced(consumer, topic, reading, positions, failures):
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since > settings.request_timeout:
            raise _stalled(topic, positions, reading, settings, failures)


def _advanced(
    consumer: Any,
    topic: str,
    reading: dict[Any, int],
    positions: dict[Any, int],
    failures: Failures,
) -> bool:
    """Note where each partition is after a poll; pause those read to their stop offset
    (no longer ``reading``). True if any position moved."""
    moved = False
    for tp in list(reading):
        position = failures.call("reading", topic, consumer.position, tp)
        moved = moved or position != positions[tp]
        positions[tp] = position
        if position >= reading[tp]:
            del reading[tp]
            consumer.pause(tp)
    return moved


def _stalled(
    topic: str,
    positions: Mapping[Any, int],
    remaining: Mapping[Any, int],
    settings: Settings,
    failures: Failures,
) -> ConnectorError:
    where = ", ".join(
        f"partition {tp.partition} at {positions[tp]} of {stop}" for tp, stop in remaining.items()
    )
    return failures.error(
        f"reading topic {topic!r} from Kafka at {settings.servers} made no progress for "
        f"{settings.request_timeout:g} s ({where}): is the broker up? (an open transaction "
        "holds read_committed readers back until it ends)"
    )
