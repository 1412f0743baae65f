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
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import ProviderError
from ._breaker import CircuitBreaker, CircuitOpenError, CircuitState, ProviderLimits

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
