"""``--until-idle``: stop a worker once it and its whole consumer group have nothing left.

A worker may stop when, for ``idle_s`` seconds, it has processed nothing, the group's committed
offsets on the job's topics have not moved, and nothing is left to read: a ``read_committed``
reader placed at the group's committed offsets reaches the end of every partition without
finding a message (transaction markers and aborted messages after them are not work).

A group in a rebalance (``PREPARING_REBALANCING`` or ``COMPLETING_REBALANCING``: a worker is
joining or leaving) is not idle either: its partitions are being handed over, and work a
leaving member did not commit goes to another one. The clock starts again once the group is
stable. (A broker that cannot describe the group gives no such evidence; then the offsets
and the probe decide alone.)

A probe that reaches neither a message nor the ends within its time (``probe_s``, 5 s) has
learnt nothing: on a loaded machine the reader's fetch may simply not have come back. So a
timed-out probe counts as "maybe work left", never as idle: a worker of a back-fill must not
leave unread input behind because the machine was slow. (A broker that never moves a reader
past trailing transaction markers would keep ``--until-idle`` workers running: stop them with
SIGTERM. noida-db, the tests' broker, moves it, and at-least-once jobs write no markers.)
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

__all__ = ["IdleWatch"]

_REBALANCING = frozenset({"PREPARING_REBALANCING", "COMPLETING_REBALANCING"})
"""``ConsumerGroupState`` names (confluent-kafka) of a group in a rebalance."""


class IdleWatch:
    """Watch the committed offsets of a consumer group, and what is left after them.

    Args:
        bootstrap: Kafka ``host:port`` list.
        group: The consumer group of the job.
        topics: The topics the job consumes.
        kafka: Extra librdkafka settings.
        probe_s: How long a probe for unread input may read before it gives up (and counts
            as "maybe work left").
    """

    def __init__(
        self,
        bootstrap: str,
        group: str,
        topics: Sequence[str],
        kafka: Mapping[str, Any],
        probe_s: float = 5.0,
    ) -> None:
        from confluent_kafka import Consumer
        from confluent_kafka.admin import AdminClient

        base = {"bootstrap.servers": bootstrap, "enable.auto.commit": False, **kafka}
        # Reads the group's offsets without joining it (no subscribe, no assign).
        self._offsets = Consumer({**base, "group.id": group, "client.id": f"idle-{uuid.uuid4()}"})
        self._peek = Consumer(
            {**base, "group.id": f"idle-peek-{uuid.uuid4()}", "isolation.level": "read_committed"}
        )
        self._admin: Any = AdminClient({"bootstrap.servers": bootstrap, **kafka})
        self._group = group
        self._topics = list(topics)
        self._probe_s = probe_s

    def rebalancing(self) -> bool:
        """Whether the broker describes the group as in a rebalance (False when it cannot say)."""
        if self._admin is None:
            return False
        try:
            found = self._admin.describe_consumer_groups([self._group])[self._group].result(5)
        except Exception:  # noqa: BLE001 - no description: no evidence either way
            return False
        return str(getattr(found.state, "name", "")) in _REBALANCING

    def _partitions(self) -> list[Any]:
        from confluent_kafka import TopicPartition

        found = []
        for topic in self._topics:
            meta = self._offsets.list_topics(topic, timeout=10).topics.get(topic)
            if meta is not None and meta.error is None:
                found += [TopicPartition(topic, p) for p in meta.partitions]
        return found

    def progress(self) -> tuple[int, bool | None]:
        """(sum of the group's committed offsets, whether any message is left to read).

        The second is None when the probe timed out: unknown, which is not "nothing left".
        """
        from confluent_kafka import TopicPartition

        committed = self._offsets.committed(self._partitions(), timeout=10)
        behind = []
        for tp in committed:
            start = max(tp.offset, 0)
            _low, high = self._peek.get_watermark_offsets(tp, timeout=10, cached=False)
            if high > start:
                behind.append((TopicPartition(tp.topic, tp.partition, start), high))
        total = sum(max(tp.offset, 0) for tp in committed)
        return total, bool(behind) and self._any_message(behind)

    def settled(self) -> tuple[int, bool]:
        """(sum of the group's committed offsets, whether the group looks done).

        Done: nothing is left to read after those offsets (a probe that timed out is not
        "nothing left") and the group is not in a rebalance. Idle is done for a while with
        the offsets standing still.
        """
        total, pending = self.progress()
        return total, pending is False and not self.rebalancing()

    def _any_message(self, behind: list[tuple[Any, int]]) -> bool | None:
        """Whether a read_committed reader finds a message before the ends (None: timed out).

        False only when the reader's position reached every partition's end without a
        message; a probe that runs out of ``probe_s`` first returns None.
        """
        self._peek.assign([tp for tp, _high in behind])
        try:
            deadline = time.monotonic() + self._probe_s
            while time.monotonic() < deadline:
                message = self._peek.poll(0.2)
                if message is not None and not message.error():
                    return True
                positions = self._peek.position([tp for tp, _high in behind])
                ends = {(tp.topic, tp.partition): high for tp, high in behind}
                if all(p.offset >= ends[(p.topic, p.partition)] for p in positions):
                    return False
            return None  # timed out: unknown, not "nothing left"
        finally:
            self._peek.unassign()

    @contextlib.contextmanager
    def stopping(self, app: Any, idle_s: float, last: Callable[[], float]) -> Iterator[None]:
        """Within the block, call ``app.stop()`` once the group is idle for ``idle_s`` s.

        ``last`` gives the monotonic time this worker last processed a message.
        """
        done = threading.Event()

        def watch() -> None:
            seen, since = -1, time.monotonic()
            while not done.wait(1.0):
                try:
                    total, settled = self.settled()
                except Exception:  # noqa: BLE001 - a broker hiccup is not the end of input
                    continue
                now = time.monotonic()
                if total != seen or not settled:
                    seen, since = total, now
                if now - since >= idle_s and now - last() >= idle_s:
                    app.stop()
                    return

        thread = threading.Thread(target=watch, name="idle-watch", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join(timeout=15)
            self.close()

    def close(self) -> None:
        """Close the watch's Kafka clients (now, while the broker still runs)."""
        self._offsets.close()
        self._peek.close()
        self._admin = None  # an AdminClient has no close: destroyed with its last reference
