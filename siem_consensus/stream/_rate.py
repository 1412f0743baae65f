"""Per-provider request rates of a whole stream job, split across the live workers.

A provider's rate limit (requests per second per API key) is the job's, not each worker's:
N workers each sending at the limit would send N times it. Each worker therefore paces its
requests to a provider at ``limit / members``, where ``members`` is the number of live
members of the job's consumer group, read from the broker (``DescribeGroups``, the admin
API) every :data:`POLL_S` seconds by a background thread, so the split follows the group:
a worker that joins or dies is counted within a poll after the group's rebalance.

Why split by members and not grant through the budget ledger: a rate is a flow, not a stock.
Granting every request through the ledger would put a Kafka round trip (produce, then read
the partition through) in front of every call; leasing rates for a time would need leases to
expire, i.e. a clock shared by the workers. The group's membership is already agreed by the
broker, so the split needs no new protocol. The price: a worker with no work leaves its share
unused (the job then sends less than the limit, never more), and for up to a poll after a
worker joins, the old members still send at their larger share (at most
``limit * N / (N - 1)`` for that moment); a worker that dies sends nothing, so a departure
only leaves capacity idle until the next poll.

Pacing is a minimum interval between the starts of two requests of one worker to one
provider (``members / limit`` seconds, no burst): every HTTP attempt, retries included,
waits for its slot while holding the provider's concurrency slot, before its timeout starts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any, Literal

from ..analysts.llm.base import LLMSettings
from ..analysts.resilience import CircuitBreaker, ProviderLimits
from ._settings import StreamSettings

__all__ = ["POLL_S", "GroupMembers", "GroupRateLimits", "Pace", "share_rates"]

POLL_S = 1.0
"""Seconds between two readings of the group's membership."""


class Pace:
    """Minimum spacing of request starts at ``rate()`` requests per second (thread-safe).

    Args:
        rate: The current rate (read at every request: it changes with the group).
        clock: Monotonic clock.
    """

    def __init__(self, rate: Callable[[], float], clock: Callable[[], float] = time.monotonic):
        self._rate = rate
        self._clock = clock
        self._lock = threading.Lock()
        self._next = 0.0

    def reserve(self) -> float:
        """Take the next free slot; the seconds to wait until it."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + 1.0 / self._rate()
            return slot - now


class _PacedSemaphore(asyncio.Semaphore):
    """A provider's concurrency slot that also waits for the provider's next paced slot."""

    def __init__(self, value: int, pace: Pace) -> None:
        super().__init__(value)
        self._pace = pace

    async def acquire(self) -> Literal[True]:
        await super().acquire()
        try:
            await asyncio.sleep(self._pace.reserve())
        except BaseException:
            self.release()
            raise
        return True


class GroupMembers:
    """The live member count of a consumer group, re-read in a background thread.

    Args:
        bootstrap: Kafka ``host:port`` list.
        group: The consumer group of the job.
        kafka: Extra librdkafka settings.
        poll_s: Seconds between readings.
    """

    def __init__(
        self, bootstrap: str, group: str, kafka: Mapping[str, Any], poll_s: float = POLL_S
    ) -> None:
        self.group = group
        self.count = 1
        """Members at the last reading (at least 1: this worker)."""
        self._settings = {"bootstrap.servers": bootstrap, **kafka}
        self._poll_s = poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._admin: Any = None

    def read(self) -> int:
        """Read the membership now; keeps the last count when the broker does not answer."""
        from confluent_kafka.admin import AdminClient

        try:
            if self._admin is None:
                self._admin = AdminClient(self._settings)
            found = self._admin.describe_consumer_groups([self.group])[self.group].result(5)
            self.count = max(len(found.members), 1)
        except Exception:  # noqa: BLE001 - a missing group or a slow broker: keep the last count
            pass
        return self.count

    def start(self) -> GroupMembers:
        """Start re-reading every ``poll_s`` seconds (a daemon thread)."""
        self.read()
        self._thread = threading.Thread(target=self._loop, name="group-members", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _loop(self) -> None:
        while not self._stop.wait(self._poll_s):
            self.read()


class GroupRateLimits(ProviderLimits):
    """A worker's :class:`~siem_consensus.analysts.ProviderLimits` with the job's rates split.

    Concurrency and circuit breakers are ``inner``'s (per worker); requests to a provider
    named in ``rates`` are paced at ``rates[provider] / members()``. Analysts key their
    limits by protocol, and by endpoint when a base URL is set (``anthropic``, ``openai``,
    ``openai:http://gpu-1:8000/v1`` for a local or gateway endpoint): a rate named
    ``openai`` applies to ``openai`` and every ``openai:<endpoint>`` key (one pace for all of
    them), one named ``openai:http://gpu-1:8000/v1`` to that endpoint alone, with its own
    pace; the longest matching name wins.

    Args:
        inner: The limits the worker would use alone.
        rates: Requests per second per provider key, for the whole job.
        members: The current number of workers sharing the rates.
    """

    def __init__(
        self, inner: ProviderLimits, rates: Mapping[str, float], members: Callable[[], int]
    ) -> None:
        super().__init__()
        self.inner = inner
        self.rates = dict(rates)
        self.members = members
        self._paces = {p: Pace(self._share(rate)) for p, rate in self.rates.items()}
        self._paced: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]
        ] = weakref.WeakKeyDictionary()
        self._guard = threading.Lock()

    def _share(self, rate: float) -> Callable[[], float]:
        return lambda: rate / max(self.members(), 1)

    def _named(self, key: str) -> str | None:
        """The rate name that applies to a limits key (the longest match), None if none."""
        names = [n for n in self.rates if key == n or key.startswith(n + ":")]
        return max(names, key=len) if names else None

    def rate(self, provider: str) -> float | None:
        """This worker's current rate for the limits key ``provider`` (None: not limited)."""
        name = self._named(provider)
        if name is None:
            return None
        return self.rates[name] / max(self.members(), 1)

    def concurrency(self, provider: str) -> int:
        """Concurrent calls allowed for ``provider`` (``inner``'s)."""
        return self.inner.concurrency(provider)

    def breaker(self, provider: str) -> CircuitBreaker:
        """``inner``'s circuit breaker for ``provider``."""
        return self.inner.breaker(provider)

    def semaphore(self, provider: str) -> asyncio.Semaphore:
        """The running loop's slot for ``provider``: paced when the job limits its rate."""
        name = self._named(provider)
        pace = None if name is None else self._paces[name]
        if pace is None:
            return self.inner.semaphore(provider)
        loop = asyncio.get_running_loop()
        with self._guard:
            per_loop = self._paced.setdefault(loop, {})
            if provider not in per_loop:
                per_loop[provider] = _PacedSemaphore(self.concurrency(provider), pace)
            return per_loop[provider]


def share_rates(settings: StreamSettings) -> tuple[StreamSettings, GroupMembers | None]:
    """``settings`` whose LLM analysts pace at this worker's share of ``rate_limits``, and
    the membership reader to start with the worker (None when no rate is limited)."""
    if not settings.rate_limits:
        return settings, None
    members = GroupMembers(settings.bootstrap, settings.group_id, settings.kafka)
    llm = settings.decide.llm_settings or LLMSettings()
    limits = GroupRateLimits(llm.limits, settings.rate_limits, lambda: members.count)
    llm = dataclasses.replace(llm, limits=limits)
    decide = dataclasses.replace(settings.decide, llm_settings=llm)
    return dataclasses.replace(settings, decide=decide), members
