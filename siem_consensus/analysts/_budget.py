"""A per-run budget that binds: reserve the worst case before a call, settle the truth after.

Private: import :class:`Budget`, :class:`BudgetExhausted` and :class:`Reservation` from
:mod:`siem_consensus.analysts.costs`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

from ..errors import ConfigError, RuntimeFailure
from ..models import Usage

_log = logging.getLogger("siem_consensus.analysts.costs")

Amount = tuple[int, float | None]
"""(tokens, US dollars or None when unpriced) a call may spend."""


class BudgetExhausted(RuntimeFailure):
    """A run's token or money budget would be exceeded: no further LLM calls are made.

    Attributes:
        limit: ``"tokens"`` or ``"cost_usd"``.
        spent: Amount already spent (plus what calls in flight reserved) against that limit.
        estimate: What the refused call was expected to add.
        maximum: The configured limit.
    """

    def __init__(self, limit: str, *, spent: float, estimate: float, maximum: float) -> None:
        unit, label = ("tokens", "token") if limit == "tokens" else ("USD", "cost")
        if spent >= maximum:
            figures = f"spent {spent:g} {unit}, reaching the limit of {maximum:g} {unit}"
        else:
            figures = (
                f"spent {spent:g} {unit} + reserved {estimate:g} for the next call would "
                f"exceed the limit of {maximum:g} {unit}"
            )
        super().__init__(
            f"{label} budget exhausted: {figures}; raise max_{limit} or enable the response "
            "cache to make fewer calls"
        )
        self.limit = limit
        self.spent = spent
        self.estimate = estimate
        self.maximum = maximum


@dataclass(eq=False)
class Reservation:
    """Tokens and dollars set aside for one call until it is settled or released.

    Attributes:
        tokens: Tokens reserved (input estimate plus the output cap).
        cost_usd: Dollars reserved (0 when the model is unpriced).
    """

    tokens: int
    cost_usd: float
    _budget: Budget = field(repr=False)
    _open: bool = field(default=True, repr=False)

    @property
    def open(self) -> bool:
        """True until :meth:`settle` or :meth:`release` is called."""
        return self._open

    def settle(self, usage: Usage) -> None:
        """Replace the reservation by what the provider billed (``usage``)."""
        self._budget._close(self, usage)

    def release(self) -> None:
        """Give the reservation back unspent (the call was never made)."""
        self._budget._close(self, None)


class Budget:
    """Token and money limits for one run, shared by every analyst call.

    Before a call, :meth:`reserve` (or :meth:`acquire`, which waits for calls in flight)
    sets aside the call's worst case - its estimated input plus its output cap, priced - and
    refuses when spent plus reserved plus that would pass a limit. After the call the
    reservation is settled with the provider-reported usage (every billed attempt, repairs and
    failed attempts included). So concurrent calls can never together overshoot a limit by
    more than what they under-estimated.

    Usage answered from the response cache (``Usage.cached``) costs nothing. A usage whose cost
    is unknown (``cost_usd is None``) counts its tokens but cannot exhaust a money budget; a
    warning is logged once. Analysts refuse to start with a money budget and an unpriced model.

    Thread-safe (a short ``threading.Lock``, never held across an await); waiting in
    :meth:`acquire` works from any event loop.
    """

    def __init__(self, max_tokens: int | None = None, max_cost_usd: float | None = None) -> None:
        """Set the limits; None means unlimited.

        Args:
            max_tokens: Input plus output tokens allowed for the run.
            max_cost_usd: US dollars allowed for the run (priced models only).
        """
        if max_tokens is not None and max_tokens < 0:
            raise ConfigError(f"max_tokens must be >= 0, got {max_tokens}")
        if max_cost_usd is not None and not max_cost_usd >= 0:
            raise ConfigError(f"max_cost_usd must be >= 0, got {max_cost_usd}")
        self.max_tokens = max_tokens
        self.max_cost_usd = max_cost_usd
        self._lock = threading.Lock()
        self._tokens = 0
        self._cost = 0.0
        self._held_tokens = 0
        self._held_cost = 0.0
        self._open = 0
        self._unpriced = 0
        self._warned = False
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._tickets: dict[Hashable, Reservation] = {}

    @property
    def spent_tokens(self) -> int:
        """Input plus output tokens recorded so far."""
        return self._tokens

    @property
    def spent_cost_usd(self) -> float:
        """US dollars recorded so far (unpriced usage adds nothing)."""
        return self._cost

    @property
    def reserved_tokens(self) -> int:
        """Tokens set aside by calls in flight."""
        return self._held_tokens

    @property
    def unpriced_calls(self) -> int:
        """Recorded usages whose cost was unknown."""
        return self._unpriced

    @property
    def exhausted(self) -> bool:
        """Whether a limit has been reached: any further call would be refused."""
        return self._refusal(0, 0.0, held=False) is not None

    # ------------------------------------------------------------------ checks

    def _refusal(self, tokens: int, cost: float, *, held: bool = True) -> BudgetExhausted | None:
        """Why a call of (tokens, cost) cannot start now, or None (lock held)."""
        used_tokens = self._tokens + (self._held_tokens if held else 0)
        if self.max_tokens is not None and (
            used_tokens >= self.max_tokens or used_tokens + tokens > self.max_tokens
        ):
            return BudgetExhausted(
                "tokens", spent=used_tokens, estimate=tokens, maximum=self.max_tokens
            )
        used_cost = self._cost + (self._held_cost if held else 0.0)
        if self.max_cost_usd is not None and (
            used_cost >= self.max_cost_usd or used_cost + cost > self.max_cost_usd
        ):
            return BudgetExhausted(
                "cost_usd",
                spent=round(used_cost, 6),
                estimate=round(cost, 6),
                maximum=self.max_cost_usd,
            )
        return None

    def check(self, estimated_tokens: int = 0) -> None:
        """Refuse a call whose token estimate would go over a limit (nothing is reserved).

        Raises:
            BudgetExhausted: A limit is already reached, or the estimate would pass it.
        """
        with self._lock:
            refusal = self._refusal(estimated_tokens, 0.0)
        if refusal is not None:
            raise refusal

    # ------------------------------------------------------------- reservations

    def reserve(self, tokens: int, cost_usd: float | None) -> Reservation:
        """Set aside (tokens, dollars) for one call now, or refuse.

        Raises:
            BudgetExhausted: Spent plus reserved plus this would pass a limit.
        """
        return self._try([(tokens, cost_usd)])[0]

    async def acquire(self, amounts: Sequence[Amount]) -> list[Reservation]:
        """Reserve several amounts at once (all or none), waiting while calls are in flight.

        When the amounts do not fit now but calls are in flight, waits until one of them
        settles and tries again; when no call is in flight (reservations held as tickets for
        calls not yet started do not count) and they still do not fit, refuses.

        Raises:
            BudgetExhausted: The amounts cannot fit even with nothing in flight.
        """
        while True:
            loop = asyncio.get_running_loop()
            waiter: asyncio.Future[None] = loop.create_future()
            with self._lock:
                try:
                    return self._take(amounts)
                except BudgetExhausted:
                    # Only calls in flight give money back soon; a ticket held for a task that
                    # has not started yet might never be reached (that task may be queued
                    # behind this one), so waiting for tickets could deadlock.
                    if self._open - len(self._tickets) <= 0:
                        raise
                self._waiters.append((loop, waiter))
            await waiter

    def _try(self, amounts: Sequence[Amount]) -> list[Reservation]:
        with self._lock:
            return self._take(amounts)

    def _take(self, amounts: Sequence[Amount]) -> list[Reservation]:
        """Reserve all amounts or raise (lock held)."""
        tokens = sum(a[0] for a in amounts)
        cost = sum(a[1] or 0.0 for a in amounts)
        refusal = self._refusal(tokens, cost)
        if refusal is not None:
            raise refusal
        self._held_tokens += tokens
        self._held_cost += cost
        self._open += len(amounts)
        return [Reservation(t, c or 0.0, self) for t, c in amounts]

    def _close(self, reservation: Reservation, usage: Usage | None) -> None:
        with self._lock:
            if reservation._open:
                reservation._open = False
                self._held_tokens -= reservation.tokens
                self._held_cost -= reservation.cost_usd
                self._open -= 1
            waiters, self._waiters = self._waiters, []
        if usage is not None:
            self.record(usage)
        for loop, waiter in waiters:
            loop.call_soon_threadsafe(_wake, waiter)

    # ------------------------------------------------------------------ tickets

    def hold(self, key: Hashable, reservation: Reservation) -> None:
        """Keep a reservation for a later call identified by ``key`` (see :meth:`claim`)."""
        with self._lock:
            self._tickets[key] = reservation

    def claim(self, key: Hashable) -> Reservation | None:
        """The reservation held for ``key``, removed from the store; None if there is none."""
        with self._lock:
            return self._tickets.pop(key, None)

    # ------------------------------------------------------------------- record

    def record(self, usage: Usage) -> None:
        """Add provider-reported usage (cached answers are free)."""
        if usage.cached:
            return
        with self._lock:
            self._tokens += usage.input_tokens + usage.output_tokens
            if usage.cost_usd is not None:
                self._cost += usage.cost_usd
                return
            self._unpriced += 1
            warn = self.max_cost_usd is not None and not self._warned
            self._warned = self._warned or warn
        if warn:
            _log.warning(
                "usage with no known price was recorded: its tokens count against max_tokens "
                "but cannot exhaust max_cost_usd=%s; add the model to the price table",
                self.max_cost_usd,
            )

    def __repr__(self) -> str:
        return (
            f"Budget(spent_tokens={self._tokens}, max_tokens={self.max_tokens}, "
            f"spent_cost_usd={self._cost:.6f}, max_cost_usd={self.max_cost_usd})"
        )


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
