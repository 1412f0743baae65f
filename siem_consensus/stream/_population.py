"""The baseline analyst's population in a stream job: every session's share, summed.

In a batch run the baseline analyst reads ``stats["population"]``: statistics over every
(source, window) of the whole input. A stream job has no whole input, and one session's own
statistics are far too few keys for a baseline. But the firewall population is a sum: a count
of keys, sums and sums of squares of three integer statistics and per-port hit counts, over
(source, window) keys whose windows are aligned to the epoch. A source's sessions are
separated by more than a window, so every (source, window) key falls in exactly one session,
and the sum of the sessions' shares *is* the batch population (integer-valued floats add
exactly, in any order).

So the detect stage publishes each closed session's share to the job's population topic (one
partition, compacted, keyed by session: a share delivered twice replaces itself), and every
worker folds that topic into a :class:`PopulationTable`. The decide stage attaches the
table's population to each incident before the analysts see it:

* ``--decide-at session`` (live): the population of every session closed so far (within
  ``horizon_s`` of processing time), so the baseline is the recent past, as a streaming
  baseline must be. "So far" includes the incident's own session: its share was committed
  with the candidate, and the table catches up to the topic's committed end before the
  incident is decided (:meth:`PopulationTable.catch_up`);
* ``--decide-at end-of-input`` (back-fills): candidates wait in the decide stage's state until
  every events partition has closed at end of input; the table is then complete and equals the
  batch population exactly, so the decisions are the batch command's.

IDS and insider populations are not summed (IDS keys by pair, and its population feeds the
incident narrative; an insider population is over user-days of the detector's own history):
their incidents keep their session's population (docs/scale.md).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from ..detectors.firewall._rules import Population

__all__ = ["PopulationTable", "attach", "measure", "merge"]

_COLUMNS = ("events", "ports", "hosts")
END_PREFIX = "\x00end:"


def measure(family: str, detector: Any) -> dict[str, Any] | None:
    """A finished detector's population share as JSON, None for families not summed."""
    if family != "firewall":
        return None
    population: Population = detector._population  # noqa: SLF001 - its exact sums
    return {
        "keys": population.keys,
        "sums": dict(population.sums),
        "squares": dict(population.squares),
        "port_popularity": {str(k): v for k, v in population.port_popularity.items()},
    }


def merge(shares: Iterable[Mapping[str, Any]]) -> Population:
    """The population of these sessions' shares together."""
    total = Population()
    for share in shares:
        total.keys += int(share["keys"])
        for column in _COLUMNS:
            total.sums[column] += float(share["sums"][column])
            total.squares[column] += float(share["squares"][column])
        for port, hits in share["port_popularity"].items():
            total.port_popularity[int(port)] = total.port_popularity.get(int(port), 0) + hits
    return total


def attach(incident: Mapping[str, Any], population: Population) -> dict[str, Any]:
    """The incident (JSON) with ``stats["population"]`` computed from ``population``.

    As the firewall detector does: port popularity for the incident's own ports.
    """
    stats = dict(incident.get("stats") or {})
    ports = [int(p) for p in stats.get("ports") or []]
    stats["population"] = json.loads(json.dumps(population.summary(ports)))
    return {**incident, "stats": stats}


class PopulationTable:
    """Every session share of the population topic, read in a background thread.

    The reader reads to the end of the topic, pauses, and reads again every ``refresh_s``
    seconds (at once when :meth:`wait_ended` starts waiting): a consumer left fetching an
    idle partition costs nothing on Kafka, whose broker holds an empty fetch for
    ``fetch.wait.max.ms``, but a broker that answers at once (the tests' noida-db) makes the
    client fetch in a tight loop, about half a core per idle consumer (docs/scale.md).

    Args:
        bootstrap: Kafka ``host:port`` list.
        topic: The job's population topic (one partition).
        kafka: Extra librdkafka settings.
        horizon_s: Shares older than this (their record time, i.e. when their session closed)
            behind the newest share leave the population: a live baseline is the recent past.
    """

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        kafka: Mapping[str, Any],
        horizon_s: float,
        refresh_s: float = 0.5,
    ) -> None:
        self._settings = {
            "bootstrap.servers": bootstrap,
            "group.id": f"population-{topic}",  # never joins nor commits: assign() only
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            **kafka,
            "enable.partition.eof": True,  # the reader pauses at the end
        }
        self._refresh_s = refresh_s
        self._position = 0  # where the reader is: past its last record, or at the end it saw
        self._ends: Any = None  # asks the broker for the committed end (catch_up's caller)
        self._wake = threading.Event()
        self._topic = topic
        self._horizon_ms = int(horizon_s * 1000)
        self._shares: dict[str, tuple[int, Mapping[str, Any]]] = {}
        self._ended: set[int] = set()
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="population", daemon=True)

    def start(self) -> PopulationTable:
        """Start reading (from the beginning of the topic)."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop reading."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=15)
        if self._ends is not None:
            self._ends.close()
            self._ends = None

    def _read(self) -> None:
        from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

        consumer = Consumer(self._settings)
        partition = [TopicPartition(self._topic, 0)]
        try:
            consumer.assign([TopicPartition(self._topic, 0, OFFSET_BEGINNING)])
            while not self._stop.is_set():
                message = consumer.poll(0.2)
                if message is None:
                    continue
                error = message.error()
                if error is not None and error.code() == KafkaError._PARTITION_EOF:
                    self._moved(message.offset())  # the end, past any transaction markers
                    consumer.pause(partition)  # at the end: no fetching until the refresh
                    self._wake.wait(self._refresh_s)
                    self._wake.clear()
                    consumer.resume(partition)
                    continue
                if error is not None:
                    continue
                if message.value() is not None:
                    key = (message.key() or b"").decode()
                    self.add(key, message.value(), message.timestamp()[1])
                self._moved(message.offset() + 1)
        finally:
            consumer.close()

    def add(self, key: str, value: bytes, timestamp_ms: int) -> None:
        """Fold one record of the population topic in (a share or an end record)."""
        record = json.loads(value)
        with self._lock:
            if key.startswith(END_PREFIX):
                self._ended.add(int(record["partition"]))
            else:
                self._shares[key] = (timestamp_ms, record["share"])
            self._lock.notify_all()

    def _moved(self, position: int) -> None:
        with self._lock:
            self._position = max(self._position, position)
            self._lock.notify_all()

    def catch_up(self, timeout: float) -> bool:
        """Until the reader has read every share committed to the topic before this call.

        The committed end (the last stable offset: ``read_committed``) is asked of the broker,
        then the reader is woken and followed until it has read up to there. False if that
        takes more than ``timeout`` seconds (or the broker does not answer): the population
        is then what was read so far.
        """
        from confluent_kafka import Consumer, TopicPartition

        deadline = time.monotonic() + timeout
        try:
            if self._ends is None:
                self._ends = Consumer(self._settings)  # never assigned: it fetches nothing
            tp = TopicPartition(self._topic, 0)
            _low, end = self._ends.get_watermark_offsets(tp, timeout=timeout, cached=False)
        except Exception:  # noqa: BLE001 - no end to wait for: decide with what was read
            return False
        with self._lock:
            while self._position < end:
                self._wake.set()  # read now rather than at the next refresh
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, 0.05))
        return True

    def population(self) -> Population:
        """The population of the shares within the horizon of the newest one."""
        with self._lock:
            newest = max((ts for ts, _ in self._shares.values()), default=0)
            recent = [s for ts, s in self._shares.values() if ts >= newest - self._horizon_ms]
        return merge(recent)

    def ended(self) -> set[int]:
        """The events partitions whose end-of-input records were read."""
        with self._lock:
            return set(self._ended)

    def wait_ended(self, partitions: int, timeout: float) -> bool:
        """Until the end records of all ``partitions`` events partitions are read."""
        deadline = time.monotonic() + timeout
        self._wake.set()  # read now rather than at the next refresh
        with self._lock:
            while len(self._ended) < partitions:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
        return True
