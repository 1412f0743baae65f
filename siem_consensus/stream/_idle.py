"""``--until-idle``: stop a worker once it and its whole consumer group have nothing left.

A worker may stop when, for ``idle_s`` seconds, it has processed nothing, the group's committed
offsets on the job's topics have not moved, and nothing is left to read: the group's committed
offset is at the end of every partition (on the job's own topics written in transactions, the
commit marker after the last message may remain).
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

__all__ = ["IdleWatch"]


class IdleWatch:
    """Watch the committed offsets and the lag of a consumer group on some topics.

    Args:
        bootstrap: Kafka ``host:port`` list.
        group: The consumer group of the job.
        source: The input topic (written by anyone: its lag must be 0).
        internal: The job's own topics (a lag of one marker per partition is allowed when
            ``transactional``).
        kafka: Extra librdkafka settings.
        transactional: Whether the job writes its topics in transactions.
    """

    def __init__(
        self,
        bootstrap: str,
        group: str,
        source: str,
        internal: Sequence[str],
        kafka: Mapping[str, Any],
        *,
        transactional: bool,
    ) -> None:
        from confluent_kafka import Consumer

        # Reads the group's offsets without joining it (no subscribe, no assign).
        settings = {"bootstrap.servers": bootstrap, "group.id": group, **kafka}
        settings |= {"client.id": f"idle-{uuid.uuid4()}", "enable.auto.commit": False}
        self._consumer = Consumer(settings)
        self._allowed = {source: 0, **{t: int(transactional) for t in internal}}

    def progress(self) -> tuple[int, bool]:
        """(sum of the group's committed offsets, whether anything is left to read)."""
        from confluent_kafka import TopicPartition

        partitions = []
        for topic in self._allowed:
            found = self._consumer.list_topics(topic, timeout=10).topics.get(topic)
            if found is not None and found.error is None:
                partitions += [TopicPartition(topic, p) for p in found.partitions]
        committed = self._consumer.committed(partitions, timeout=10) if partitions else []
        total, pending = 0, False
        for tp in committed:
            done = max(tp.offset, 0)
            _low, high = self._consumer.get_watermark_offsets(tp, timeout=10, cached=False)
            total += done
            pending |= high - done > self._allowed[tp.topic]
        return total, pending

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
                    total, pending = self.progress()
                except Exception:  # noqa: BLE001 - a broker hiccup is not the end of input
                    continue
                now = time.monotonic()
                if total != seen or pending:
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
            self._consumer.close()
