"""One run budget shared by every worker of a stream job: a ledger on one Kafka partition.

Each worker spends from its own :class:`~siem_consensus.analysts.costs.Budget` (reserve the
worst case before a call, settle the billed usage after), whose limit starts at zero and grows
by *grants* taken from the job's ledger topic (``<topic>.<family>.budget``, one partition).
A worker that needs more appends a claim (``amount`` it would like, ``minimum`` it needs now)
and reads the partition up to its own record. Every worker replays the same records in the
same order (one partition is totally ordered), so all agree on every grant without a
coordinator:

* a claim is granted ``min(amount, left)`` when ``left >= minimum``, else nothing, where
  ``left`` = the claim's ``limit`` minus everything granted before it plus everything
  released before it;
* a worker that stops releases what it was granted and did not spend.

So the workers together never reserve more than the limit: the job's total spend is bounded
as one process's is (by the limit plus what settled calls billed beyond their reservation).
What a worker killed with SIGKILL was granted and had not spent is lost to the job (at most
one block per killed worker): the ledger errs towards spending less, never more.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..analysts.costs import Budget, BudgetExhausted

__all__ = ["BudgetLedger", "SharedBudget"]

Unit = Literal["tokens", "usd"]


@dataclass
class _Replay:
    """The ledger's state after the records read so far (the same in every worker)."""

    granted: float = 0.0
    released: float = 0.0
    grants: dict[str, float] = field(default_factory=dict)
    position: int = 0

    def apply(self, record: Mapping[str, Any]) -> None:
        if record.get("op") == "release":
            self.released += float(record["amount"])
            return
        left = float(record["limit"]) - self.granted + self.released
        want, need = float(record["amount"]), float(record["minimum"])
        grant = min(want, left) if left >= need and left > 0 else 0.0
        self.granted += grant
        self.grants[str(record["claim"])] = grant


class BudgetLedger:
    """Claims and releases on the job's budget topic (one partition, in order).

    Args:
        bootstrap: Kafka ``host:port`` list.
        topic: The ledger topic (created by the worker with one partition).
        group: The job's consumer group: the budget is per group (a new group, a new budget).
        limit: The job's budget, in ``unit``.
        unit: ``tokens`` or ``usd``.
        kafka: Extra librdkafka settings.
    """

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        group: str,
        limit: float,
        unit: Unit,
        kafka: Mapping[str, Any],
    ) -> None:
        from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

        base = {"bootstrap.servers": bootstrap, **kafka}
        self.topic, self.group, self.limit, self.unit = topic, group, limit, unit
        self.worker = uuid.uuid4().hex
        self._producer = Producer({**base, "enable.idempotence": True})
        self._reader = Consumer(
            {**base, "group.id": f"ledger-{self.worker}", "enable.auto.commit": False}
        )
        self._reader.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        self._replay = _Replay()
        self._lock = threading.Lock()
        self.granted = 0.0
        """What this worker was granted so far."""

    def claim(self, amount: float, minimum: float, timeout: float = 30.0) -> float:
        """Ask for ``amount`` (at least ``minimum``); returns what the ledger granted."""
        with self._lock:
            claim = uuid.uuid4().hex
            record = {"op": "claim", "claim": claim, "worker": self.worker, "amount": amount}
            record.update(minimum=minimum, limit=self.limit, unit=self.unit)
            offset = self._append(record, timeout)
            self._read_through(offset, timeout)
            grant = self._replay.grants.get(claim, 0.0)
            self.granted += grant
            return grant

    def release(self, amount: float, timeout: float = 30.0) -> None:
        """Give back what this worker was granted and will not spend."""
        if amount <= 0:
            return
        with self._lock:
            self._append({"op": "release", "worker": self.worker, "amount": amount}, timeout)

    def close(self) -> None:
        """Close the Kafka clients."""
        self._producer.flush(10)
        self._reader.close()

    def _append(self, record: dict[str, Any], timeout: float) -> int:
        delivered: list[Any] = []
        value = json.dumps({**record, "group": self.group}).encode()
        self._producer.produce(
            self.topic,
            value,
            key=self.group.encode(),
            partition=0,
            on_delivery=lambda err, msg: delivered.append((err, msg)),
        )
        if self._producer.flush(timeout) or not delivered or delivered[0][0] is not None:
            error = delivered[0][0] if delivered else "not delivered in time"
            raise RuntimeError(f"budget ledger {self.topic}: {error}")
        offset: int = delivered[0][1].offset()
        return offset

    def _read_through(self, offset: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self._replay.position <= offset:
            if time.monotonic() > deadline:
                raise RuntimeError(f"budget ledger {self.topic}: own claim not read back")
            message = self._reader.poll(0.2)
            if message is None or message.error():
                continue
            self._replay.position = message.offset() + 1
            record = json.loads(message.value())
            if record.get("group") == self.group:
                self._replay.apply(record)


class SharedBudget(Budget):
    """A worker's budget whose limit grows by grants from the job's :class:`BudgetLedger`.

    A call the local limit refuses first claims ``max(block, shortfall)`` from the ledger;
    only if the ledger cannot grant the shortfall is the call refused (the analyst's verdict
    is then an error and the decision a degraded ``needs_review``, as in batch).

    Args:
        ledger: The job's ledger.
        block: How much to claim at a time (in the ledger's unit): larger blocks mean fewer
            claims, and more left idle in one worker while another is refused.
    """

    def __init__(self, ledger: BudgetLedger, block: float) -> None:
        tokens = ledger.unit == "tokens"
        super().__init__(max_tokens=0 if tokens else None, max_cost_usd=None if tokens else 0.0)
        self.ledger = ledger
        self.block = block

    def _refusal(self, tokens: int, cost: float, *, held: bool = True) -> BudgetExhausted | None:
        refusal = super()._refusal(tokens, cost, held=held)
        if refusal is None:
            return None
        # The local limit is reached: ask the ledger for the shortfall (at least a block).
        shortfall = refusal.spent + refusal.estimate - refusal.maximum
        if self.max_tokens is not None:
            grant = self.ledger.claim(max(self.block, shortfall), max(shortfall, 1))
            self.max_tokens += int(grant)
        else:
            grant = self.ledger.claim(max(self.block, shortfall), max(shortfall, 1e-9))
            self.max_cost_usd = (self.max_cost_usd or 0.0) + grant
        return super()._refusal(tokens, cost, held=held) if grant else refusal

    def unspent(self) -> float:
        """Granted to this worker and neither spent nor reserved (to release at the end)."""
        if self.max_tokens is not None:
            return max(self.max_tokens - self.spent_tokens - self.reserved_tokens, 0)
        return max((self.max_cost_usd or 0.0) - self.spent_cost_usd - self._held_cost, 0.0)
