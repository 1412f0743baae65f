"""``--until-idle`` against a real broker: a probe that times out is not "nothing left".

A worker stops when its group's committed offsets have not moved for the idle period and a
probe for unread input reaches the end of every partition without a message. On a loaded
machine the probe's reader may not get its fetch back in time: that must count as "maybe work
left", or every worker of a back-fill leaves before reading its input (docs/scale.md).
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest

pytest.importorskip("quixstreams")
pytest.importorskip("noida_db")

from confluent_kafka import Consumer, TopicPartition  # noqa: E402
from stream_helpers import bootstrap, create_topic, produce  # noqa: E402

from siem_consensus.stream._idle import IdleWatch  # noqa: E402

__all__ = ["bootstrap"]

IDLE_S = 2.0
WATCHED_S = 3 * IDLE_S + 2  # several idle periods and probes


class _App:
    """What the watch stops: records when ``stop`` was called."""

    def __init__(self) -> None:
        self.stopped = threading.Event()

    def stop(self) -> None:
        self.stopped.set()


def _watch(
    bootstrap: str, group: str, topic: str, probe_s: float, rebalancing: bool | None = None
) -> bool:
    """Whether a watch over ``topic`` stops the app within :data:`WATCHED_S` seconds.

    ``rebalancing``: what the broker would say of the group's state (None: ask the broker).
    """
    watch = IdleWatch(bootstrap, group, [topic], {}, probe_s=probe_s)
    if rebalancing is not None:
        watch.rebalancing = lambda: rebalancing  # type: ignore[method-assign]
    app = _App()
    with watch.stopping(app, IDLE_S, lambda: 0.0):  # this "worker" processed nothing for ages
        return app.stopped.wait(WATCHED_S)


def _commit_to_end(bootstrap: str, group: str, topic: str, partitions: int) -> None:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        ends = []
        for p in range(partitions):
            _low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            ends.append(TopicPartition(topic, p, high))
        consumer.commit(offsets=ends, asynchronous=False)
    finally:
        consumer.close()


def test_a_timed_out_probe_is_not_idle(bootstrap: str) -> None:
    """Unread input and a probe that cannot finish (no time at all): the watch never stops."""
    topic, group = f"idle-{uuid.uuid4().hex[:8]}", f"g-{uuid.uuid4().hex[:6]}"
    create_topic(bootstrap, topic, partitions=2)
    produce(bootstrap, topic, [b"unread"] * 10)
    started = time.monotonic()
    assert not _watch(bootstrap, group, topic, probe_s=0.0), "stopped with input unread"
    assert time.monotonic() - started >= WATCHED_S


def test_unread_input_found_by_the_probe_is_not_idle(bootstrap: str) -> None:
    topic, group = f"idle-{uuid.uuid4().hex[:8]}", f"g-{uuid.uuid4().hex[:6]}"
    create_topic(bootstrap, topic, partitions=2)
    produce(bootstrap, topic, [b"unread"] * 10)
    assert not _watch(bootstrap, group, topic, probe_s=30.0)


def test_a_group_in_a_rebalance_is_not_idle(bootstrap: str) -> None:
    """Everything committed, but a worker is joining or leaving: its partitions are being
    handed over, so the group is not done (the control below is the same group, stable)."""
    topic, group = f"idle-{uuid.uuid4().hex[:8]}", f"g-{uuid.uuid4().hex[:6]}"
    create_topic(bootstrap, topic, partitions=2)
    produce(bootstrap, topic, [b"read"] * 10)
    _commit_to_end(bootstrap, group, topic, 2)
    assert not _watch(bootstrap, group, topic, probe_s=0.0, rebalancing=True)
    assert _watch(bootstrap, group, topic, probe_s=0.0, rebalancing=False)


def test_a_group_with_nothing_left_is_idle(bootstrap: str) -> None:
    """The control: everything committed, so the same watch (even with a probe that cannot
    finish, which is not needed then) stops the app."""
    topic, group = f"idle-{uuid.uuid4().hex[:8]}", f"g-{uuid.uuid4().hex[:6]}"
    create_topic(bootstrap, topic, partitions=2)
    produce(bootstrap, topic, [b"read"] * 10)
    _commit_to_end(bootstrap, group, topic, 2)
    assert _watch(bootstrap, group, topic, probe_s=0.0)
