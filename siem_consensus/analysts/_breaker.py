"""Per-provider circuit breakers and concurrency limits (see :mod:`.resilience`).

Private: import these names from :mod:`siem_consensus.analysts.resilience`, which re-exports
them and composes them with retries in :func:`~.resilience.call_with_retries`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Literal

from ..errors import ProviderError
from ..privacy import redact_credentials

CircuitState = Literal["closed", "open", "half_open"]

# The public module's logger, so log filters written before this split still match.
_log = logging.getLogger("siem_consensus.analysts.resilience")


class CircuitOpenError(ProviderError):
    """A provider's circuit is open: the call was not made.

    Attributes:
        retry_in: Seconds until a trial call will be let through.
    """

    def __init__(self, provider: str, *, failures: int, retry_in: float) -> None:
        super().__init__(
            f"{provider}: circuit open after {failures} consecutive failures; not calling it. "
            f"A trial call will be allowed in {retry_in:.1f}s",
            provider=provider,
            status=None,
        )
        self.retry_in = retry_in


class CircuitBreaker:
    """Closed -> open after N consecutive failures -> half-open trial -> closed or open again.

    While open, :meth:`before_call` raises :class:`CircuitOpenError`. Once ``reset_after``
    seconds have passed the breaker is half-open: exactly one trial call is let through; its
    success closes the breaker, its failure re-opens it for another ``reset_after``. A trial
    that never reports back (cancelled, or a caller that forgot) is presumed lost after
    ``reset_after`` and another trial is allowed.

    Thread-safe (a short ``threading.Lock``), so one breaker may be shared by several event
    loops; it never awaits.
    """

    def __init__(
        self,
        failure_threshold: int = 5,
        reset_after: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        name: str = "provider",
    ) -> None:
        """Create a closed breaker.

        Args:
            failure_threshold: Consecutive failures that open the circuit (at least 1).
            reset_after: Seconds the circuit stays open before a trial call.
            clock: Monotonic clock in seconds (inject a fake one in tests).
            name: Provider key, used in :class:`CircuitOpenError` messages and log lines
                (credentials in a URL inside it are redacted).
        """
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be >= 1, got {failure_threshold}")
        self.failure_threshold = failure_threshold
        self.reset_after = reset_after
        self.name = redact_credentials(name)
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_started: float | None = None

    @property
    def state(self) -> CircuitState:
        """``"closed"``, ``"open"`` or ``"half_open"`` (cool-down over, trial allowed/running)."""
        with self._lock:
            return self._state(self._clock())

    @property
    def consecutive_failures(self) -> int:
        """Failures since the last success."""
        return self._failures

    def _state(self, now: float) -> CircuitState:
        if self._opened_at is None:
            return "closed"
        return "half_open" if now - self._opened_at >= self.reset_after else "open"

    def before_call(self) -> None:
        """Ask permission to call the provider.

        Raises:
            CircuitOpenError: The circuit is open, or half-open with a trial already running.
        """
        with self._lock:
            now = self._clock()
            state = self._state(now)
            if state == "closed":
                return
            if state == "half_open" and not self._trial_running(now):
                self._trial_started = now
                return
            raise CircuitOpenError(self.name, failures=self._failures, retry_in=self._retry_in(now))

    def _trial_running(self, now: float) -> bool:
        started = self._trial_started
        return started is not None and now - started < self.reset_after

    def _retry_in(self, now: float) -> float:
        assert self._opened_at is not None
        start = self._trial_started if self._trial_started is not None else self._opened_at
        return max(0.0, start + self.reset_after - now)

    def record_success(self) -> None:
        """The provider answered: close the circuit and forget past failures."""
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial_started = None

    def record_failure(self) -> None:
        """The provider failed: count it, opening (or re-opening) the circuit when due."""
        with self._lock:
            now = self._clock()
            self._failures += 1
            if self._state(now) == "half_open" or (
                self._opened_at is None and self._failures >= self.failure_threshold
            ):
                self._opened_at = now
                self._trial_started = None
                _log.warning(
                    "%s: circuit opened after %d consecutive failures; retrying in %.1fs",
                    self.name,
                    self._failures,
                    self.reset_after,
                )

    def record_abandoned(self) -> None:
        """A call let through by :meth:`before_call` ended without an answer (cancelled).

        Frees the half-open trial slot so the next caller may try; the counts do not change.
        """
        with self._lock:
            self._trial_started = None


class ProviderLimits:
    """One concurrency semaphore and one circuit breaker per provider key.

    Keys are free-form (``"anthropic"``, ``"openai"``, ``"local:http://127.0.0.1:8080"``) and
    entries are created on first use.

    Breakers are plain state shared by every caller: a provider that is down is down for all.
    Semaphores are bound to the event loop that first waits on them, so they are created lazily
    inside the running loop and kept per loop (weakly: they go when the loop goes). A registry
    shared by two ``asyncio.run`` calls therefore gives each its own limit of ``concurrency``.
    """

    def __init__(
        self,
        concurrency: int = 8,
        *,
        per_provider: Mapping[str, int] | None = None,
        failure_threshold: int = 5,
        reset_after: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Configure the limits.

        Args:
            concurrency: Concurrent calls allowed per provider key.
            per_provider: Overrides of ``concurrency`` for some keys.
            failure_threshold: Consecutive failures that open a provider's breaker.
            reset_after: Seconds a breaker stays open before a trial call.
            clock: Monotonic clock handed to the breakers.
        """
        overrides = dict(per_provider or {})
        for key, value in {"concurrency": concurrency, **overrides}.items():
            if value < 1:
                raise ValueError(f"concurrency for {key!r} must be >= 1, got {value}")
        self._default = concurrency
        self._overrides = overrides
        self._failure_threshold = failure_threshold
        self._reset_after = reset_after
        self._clock = clock
        self._lock = threading.Lock()
        self._breakers: dict[str, CircuitBreaker] = {}
        self._semaphores: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[str, asyncio.Semaphore]
        ] = weakref.WeakKeyDictionary()

    def get(self, provider: str) -> tuple[asyncio.Semaphore, CircuitBreaker]:
        """The running loop's semaphore and the breaker for ``provider``, ready for
        :func:`call_with_retries` (``limiter=``, ``breaker=``).

        Raises:
            RuntimeError: Called outside a running event loop.
        """
        return self.semaphore(provider), self.breaker(provider)

    def concurrency(self, provider: str) -> int:
        """Concurrent calls allowed for ``provider``."""
        return self._overrides.get(provider, self._default)

    def semaphore(self, provider: str) -> asyncio.Semaphore:
        """The running loop's semaphore for ``provider``.

        Raises:
            RuntimeError: Called outside a running event loop.
        """
        loop = asyncio.get_running_loop()
        with self._lock:
            per_loop = self._semaphores.setdefault(loop, {})
            if provider not in per_loop:
                per_loop[provider] = asyncio.Semaphore(self.concurrency(provider))
            return per_loop[provider]

    def breaker(self, provider: str) -> CircuitBreaker:
        """The circuit breaker for ``provider`` (shared across loops and threads)."""
        with self._lock:
            if provider not in self._breakers:
                self._breakers[provider] = CircuitBreaker(
                    self._failure_threshold, self._reset_after, self._clock, name=provider
                )
            return self._breakers[provider]
