"""Retries, circuit breaking and concurrency limits for LLM provider calls.

Three pieces, composed by :func:`call_with_retries`:

* :class:`RetryPolicy` says how long to wait between attempts (exponential backoff with
  downward jitter, never less than the provider's ``retry-after``).
* :class:`CircuitBreaker` stops hammering a provider that keeps failing: after N consecutive
  failures calls fail fast with :class:`CircuitOpenError` until a cool-down has passed, then one
  trial call decides whether the provider is back.
* :class:`ProviderLimits` hands out one semaphore (concurrency limit) and one breaker per
  provider key (``"anthropic"``, ``"openai"``, ``"local:http://..."``).

Nothing here imports a vendor SDK: the caller passes ``classify``, which turns whatever its SDK
raised into a :class:`~siem_consensus.errors.ProviderError` (status, body excerpt, retry-after).
Sleeping and the clock are injectable so tests never wait.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal, NoReturn, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import ProviderError

__all__ = [
    "RETRYABLE_STATUSES",
    "CircuitBreaker",
    "CircuitOpenError",
    "CircuitState",
    "ProviderLimits",
    "RetryPolicy",
    "call_with_retries",
    "is_retryable",
]

T = TypeVar("T")
CircuitState = Literal["closed", "open", "half_open"]

_log = logging.getLogger(__name__)

#: HTTP statuses worth another attempt: timeouts, conflicts, rate limits, server errors and
#: Anthropic's 529 "overloaded". Everything else (400, 401, 403, 404, 422, ...) is the request's
#: fault and fails the same way every time.
RETRYABLE_STATUSES: frozenset[int] = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})


class RetryPolicy(BaseModel):
    """How many attempts to make and how long to wait between them.

    The wait after failed attempt ``n`` (1-based) is ``min(max_delay, base_delay * 2**(n-1))``
    scaled by a random factor in ``[1 - jitter, 1]``: jitter only ever shortens the wait, so
    ``jitter=0`` is deterministic, ``jitter=1`` is "full jitter" and the result never exceeds
    ``max_delay``. When the provider sent ``retry-after`` the wait is at least that long.

    A ``retry-after`` longer than ``max_delay`` is not waited for: :func:`call_with_retries`
    gives up instead (see :meth:`gives_up_on`). Retrying sooner than the provider asked only
    earns another 429 and burns quota, while waiting longer would break the caller's latency
    bound; failing fast turns the incident into a degraded ``needs_review`` decision.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = Field(4, ge=1, description="Total attempts, the first one included.")
    base_delay: float = Field(0.5, ge=0, description="Seconds before the first retry.")
    max_delay: float = Field(30.0, ge=0, description="Cap on any single wait, in seconds.")
    jitter: float = Field(
        0.5, ge=0, le=1, description="Fraction of the wait that may be randomly removed."
    )

    @model_validator(mode="after")
    def _base_within_cap(self) -> RetryPolicy:
        if self.base_delay > self.max_delay:
            raise ValueError(f"base_delay={self.base_delay} exceeds max_delay={self.max_delay}")
        return self

    def delay(
        self, attempt: int, retry_after: float | None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based).

        Args:
            attempt: Number of the attempt that just failed, starting at 1.
            retry_after: Seconds the provider asked us to wait, if it said.
            rng: Source of jitter; the module-level ``random`` when omitted.

        Returns:
            A wait in ``[0, max_delay]``, raised to ``retry_after`` when that is longer (so it
            exceeds ``max_delay`` only if ``retry_after`` does).
        """
        exponent = min(max(attempt, 1) - 1, 64)  # 2**64 * anything already exceeds any cap
        capped = min(self.max_delay, self.base_delay * 2.0**exponent)
        factor = 1.0 - self.jitter * (rng or random).random()
        wait = capped * factor
        if retry_after is not None and retry_after > wait:
            return float(retry_after)
        return wait

    def gives_up_on(self, retry_after: float | None) -> bool:
        """Whether a provider's ``retry-after`` is longer than this policy will ever wait."""
        return retry_after is not None and retry_after > self.max_delay


def is_retryable(error: ProviderError) -> bool:
    """Whether another attempt could succeed.

    Connection errors and timeouts (``status is None``) and the statuses in
    :data:`RETRYABLE_STATUSES` are retryable; other statuses are not, nor is an open circuit
    (waiting for it inside one call would defeat its purpose).
    """
    if isinstance(error, CircuitOpenError):
        return False
    return error.status is None or error.status in RETRYABLE_STATUSES


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
            name: Provider key, used in :class:`CircuitOpenError` messages.
        """
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be >= 1, got {failure_threshold}")
        self.failure_threshold = failure_threshold
        self.reset_after = reset_after
        self.name = name
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


async def call_with_retries(
    fn: Callable[[], Awaitable[T]],
    *,
    provider: str,
    retry: RetryPolicy,
    breaker: CircuitBreaker | None = None,
    limiter: asyncio.Semaphore | None = None,
    classify: Callable[[BaseException], ProviderError],
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    on_attempt: Callable[[int], None] | None = None,
) -> T:
    """Call ``fn`` until it succeeds, retrying provider failures that may pass.

    The limiter is held only while ``fn`` runs, never during backoff sleeps, so a waiting retry
    does not block other incidents. Each failure is classified into a ProviderError (exceptions
    that already are one are used as they are); retryable failures count against the breaker,
    while non-retryable answers (400, 401, ...) prove the provider is up and count as successes.
    ``asyncio.CancelledError`` (and any other ``BaseException``) always propagates untouched.

    Args:
        fn: Makes one HTTP call; called once per attempt.
        provider: Provider name, used in log lines.
        retry: Attempts and waits.
        breaker: Fails fast while the provider is known to be down.
        limiter: Bounds concurrent calls to the provider.
        classify: Turns an exception raised by ``fn`` into a ProviderError.
        sleep: Awaitable sleep (inject a fake one in tests).
        on_attempt: Called with the 1-based attempt number just before each call.

    Returns:
        What ``fn`` returned.

    Raises:
        ProviderError: The last failure (chained to the SDK exception) when it is not
            retryable, when attempts run out, or when ``retry-after`` exceeds ``max_delay``;
            a note on the exception says why retrying stopped.
        CircuitOpenError: The breaker refused the call (chained to the last failure when it
            opened during the retries).
    """
    attempt = 0
    last: ProviderError | None = None
    while True:
        attempt += 1
        _admit(breaker, last)
        if on_attempt is not None:
            on_attempt(attempt)
        try:
            result = await _attempt(fn, limiter)
        except Exception as exc:  # classified below; BaseException (cancellation) propagates
            error = last = _classify(classify, exc, provider)
            _record(breaker, error)
            wait = _next_wait(retry, error, attempt)
            if wait is None:
                _raise(error, exc)
            _log.info(
                "%s: attempt %d failed (%s); retrying in %.2fs",
                provider,
                attempt,
                error.status or "no response",
                wait,
            )
            await sleep(wait)
        except BaseException:
            if breaker is not None:
                breaker.record_abandoned()
            raise
        else:
            if breaker is not None:
                breaker.record_success()
            return result


def _admit(breaker: CircuitBreaker | None, last: ProviderError | None) -> None:
    """Ask the breaker; an open circuit met while retrying is chained to the last failure."""
    if breaker is None:
        return
    try:
        breaker.before_call()
    except CircuitOpenError as exc:
        if last is None:
            raise
        raise exc from last


async def _attempt(fn: Callable[[], Awaitable[T]], limiter: asyncio.Semaphore | None) -> T:
    if limiter is None:
        return await fn()
    async with limiter:
        return await fn()


def _classify(
    classify: Callable[[BaseException], ProviderError], exc: Exception, provider: str
) -> ProviderError:
    if isinstance(exc, ProviderError):
        return exc
    error = classify(exc)
    if not isinstance(error, ProviderError):  # a buggy classifier must not hide the failure
        raise TypeError(f"classify returned {type(error).__name__}, not ProviderError") from exc
    return error


def _record(breaker: CircuitBreaker | None, error: ProviderError) -> None:
    if breaker is None:
        return
    if is_retryable(error):
        breaker.record_failure()
    else:
        breaker.record_success()


def _next_wait(retry: RetryPolicy, error: ProviderError, attempt: int) -> float | None:
    """Seconds to wait before the next attempt, or None to stop (with a note on ``error``)."""
    if not is_retryable(error):
        return None
    if attempt >= retry.max_attempts:
        error.add_note(f"gave up after {attempt} attempts (max_attempts={retry.max_attempts})")
        return None
    if retry.gives_up_on(error.retry_after):
        error.add_note(
            f"gave up: the provider asked to retry after {error.retry_after}s, "
            f"longer than max_delay={retry.max_delay}s"
        )
        return None
    return retry.delay(attempt, error.retry_after)


def _raise(error: ProviderError, cause: Exception) -> NoReturn:
    if error is cause:
        raise error
    raise error from cause


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
