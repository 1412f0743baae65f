"""``--until-idle``: stop a worker once it and its whole consumer group have gone quiet."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

__all__ = ["IdleWatch"]


class IdleWatch:
    """Watch the committed offsets of a consumer group on some topics.

    Args:
        bootstrap: Kafka ``host:port`` list.
        group: The consumer group of the job.
        topics: The topics the job consumes.
        kafka: Extra librdkafka settings.
    """

    def __init__(
        self, bootstrap: str, group: str, topics: Sequence[str], kafka: Mapping[str, Any]
    ) -> None:
        from confluent_kafka import Consumer

        # Reads the group's offsets without joining it (no subscribe, no assign).
        self._consumer = Consumer(
            {"bootstrap.servers": bootstrap, "group.id": group, "client.id": f"idle-{uuid.uuid4()}",
             "enable.auto.commit": False, **kafka}
        )  # fmt: skip
        self._topics = list(topics)

    def committed(self) -> int:
        """The sum of the group's committed offsets over every partition of the topics."""
        from confluent_kafka import TopicPartition

        partitions = []
        for topic in self._topics:
            found = self._consumer.list_topics(topic, timeout=10).topics.get(topic)
            if found is not None and found.error is None:
                partitions += [TopicPartition(topic, p) for p in found.partitions]
        offsets = self._consumer.committed(partitions, timeout=10) if partitions else []
        return sum(max(tp.offset, 0) for tp in offsets)

    @contextlib.contextmanager
    def stopping(self, app: Any, idle_s: float, last: Callable[[], float]) -> Iterator[None]:
        """Within the block, call ``app.stop()`` once the group is idle for ``idle_s`` s.

        ``last`` gives the monotonic time this worker last processed a message.
        """
        done = threading.Event()

        def watch() -> None:
            seen, since = -1, time.monotonic()
            while not done.wait(1.0):
                with contextlib.suppress(Exception):  # a broker hiccup is not the end
                    total = self.committed()
                    if total != seen:
                        seen, since = total, time.monotonic()
                now = time.monotonic()
                if now - since >= idle_s and now - last() >= idle_s:
                    app.stop()
                    return

        thread = threading.Thread(target=watch, name="idle-watch", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join(timeout=5)
            self._consumer.close()
