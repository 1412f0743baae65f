"""Retry policy, circuit breaker, concurrency limits: no real sleeping, fake clocks."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from siem_consensus.analysts.resilience import (
    CircuitBreaker,
    CircuitOpenError,
    ProviderLimits,
    RetryPolicy,
    call_with_retries,
    is_retryable,
)
from siem_consensus.errors import ProviderError


class FakeClock:
    """A monotonic clock that only moves when told."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class SdkError(Exception):
    """Stands in for a vendor SDK exception."""

    def __init__(self, status: int | None, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


def classify(exc: BaseException) -> ProviderError:
    if isinstance(exc, SdkError):
        return ProviderError(
            str(exc), provider="test", status=exc.status, retry_after=exc.retry_after
        )
    return ProviderError(f"unexpected: {exc!r}", provider="test", status=400)


class Script:
    """An ``fn`` that fails with the given errors, then returns "ok"."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


class Sleeps:
    """Records requested sleeps instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def run(
    fn: Callable[[], Awaitable[str]],
    *,
    retry: RetryPolicy | None = None,
    sleeps: Sleeps | None = None,
    breaker: CircuitBreaker | None = None,
    attempts: list[int] | None = None,
) -> str:
    return asyncio.run(
        call_with_retries(
            fn,
            provider="test",
            retry=retry or RetryPolicy(jitter=0),
            breaker=breaker,
            classify=classify,
            sleep=sleeps or Sleeps(),
            on_attempt=attempts.append if attempts is not None else None,
        )
    )


# --- RetryPolicy.delay ---------------------------------------------------------------------


def test_backoff_doubles_then_caps() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter=0)
    assert [policy.delay(n, None) for n in range(1, 7)] == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
    assert policy.delay(10_000, None) == 3.0  # no overflow on absurd attempt numbers


def test_jitter_stays_within_its_fraction() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=30.0, jitter=0.5)
    rng = random.Random(7)
    waits = [policy.delay(3, None, rng) for _ in range(500)]
    assert all(2.0 <= w <= 4.0 for w in waits)
    assert max(waits) - min(waits) > 1.0  # it does vary
    again = [policy.delay(3, None, random.Random(7)) for _ in range(1)]
    assert again[0] == waits[0]  # seeded rng -> reproducible


def test_retry_after_is_a_floor() -> None:
    policy = RetryPolicy(base_delay=0.5, jitter=0)
    assert policy.delay(1, 1.5) == 1.5
    assert policy.delay(4, 1.5) == 4.0  # backoff already longer
    assert not policy.gives_up_on(30.0)
    assert policy.gives_up_on(30.5)


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="exceeds max_delay"):
        RetryPolicy(base_delay=10, max_delay=1)


@given(
    attempt=st.integers(min_value=1, max_value=200),
    retry_after=st.none() | st.floats(min_value=0, max_value=120, allow_nan=False),
    base=st.floats(min_value=0, max_value=5),
    cap=st.floats(min_value=5, max_value=60),
    jitter=st.floats(min_value=0, max_value=1),
    seed=st.integers(),
)
def test_delay_is_bounded_and_honours_retry_after(
    attempt: int, retry_after: float | None, base: float, cap: float, jitter: float, seed: int
) -> None:
    policy = RetryPolicy(base_delay=base, max_delay=cap, jitter=jitter)
    wait = policy.delay(attempt, retry_after, random.Random(seed))
    if retry_after is None:
        assert 0 <= wait <= cap
    else:
        assert wait >= retry_after
        assert wait <= max(cap, retry_after)


# --- is_retryable ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [None, 408, 409, 425, 429, 500, 502, 503, 504, 529])
def test_retryable_statuses(status: int | None) -> None:
    assert is_retryable(ProviderError("x", provider="p", status=status))


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_final(status: int) -> None:
    assert not is_retryable(ProviderError("x", provider="p", status=status))


def test_open_circuit_is_not_retried_inside_a_call() -> None:
    assert not is_retryable(CircuitOpenError("p", failures=5, retry_in=3.0))


# --- call_with_retries ----------------------------------------------------------------------


def test_retries_until_success_and_counts_attempts() -> None:
    fn, sleeps, attempts = Script(SdkError(503), SdkError(None)), Sleeps(), []
    assert run(fn, sleeps=sleeps, attempts=attempts) == "ok"
    assert attempts == [1, 2, 3]
    assert sleeps.waits == [0.5, 1.0]


def test_429_waits_at_least_retry_after() -> None:
    sleeps = Sleeps()
    assert run(Script(SdkError(429, retry_after=1.5)), sleeps=sleeps) == "ok"
    assert sleeps.waits == [1.5]


def test_retry_after_beyond_max_delay_gives_up() -> None:
    fn, sleeps = Script(SdkError(429, retry_after=120)), Sleeps()
    with pytest.raises(ProviderError) as info:
        run(fn, sleeps=sleeps)
    assert info.value.status == 429 and fn.calls == 1 and sleeps.waits == []
    assert "longer than max_delay" in " ".join(info.value.__notes__)


def test_non_retryable_is_raised_at_once_and_chained() -> None:
    fn, sleeps = Script(SdkError(401)), Sleeps()
    with pytest.raises(ProviderError) as info:
        run(fn, sleeps=sleeps)
    assert info.value.status == 401
    assert isinstance(info.value.__cause__, SdkError)
    assert fn.calls == 1 and sleeps.waits == []


def test_unexpected_exception_becomes_the_classified_error() -> None:
    with pytest.raises(ProviderError, match="unexpected") as info:
        run(Script(KeyError("parsed")))
    assert isinstance(info.value.__cause__, KeyError)


def test_provider_error_from_fn_is_used_as_is() -> None:
    original = ProviderError("boom", provider="test", status=404)
    with pytest.raises(ProviderError) as info:
        run(Script(original))
    assert info.value is original


def test_exhausted_attempts_raise_the_last_error() -> None:
    fn, sleeps = Script(SdkError(500), SdkError(502), SdkError(503)), Sleeps()
    with pytest.raises(ProviderError) as info:
        run(fn, retry=RetryPolicy(max_attempts=3, jitter=0), sleeps=sleeps)
    assert info.value.status == 503
    assert isinstance(info.value.__cause__, SdkError)
    assert "gave up after 3 attempts" in info.value.__notes__[0]
    assert fn.calls == 3 and sleeps.waits == [0.5, 1.0]


def test_cancellation_propagates_and_is_not_retried() -> None:
    fn = Script(asyncio.CancelledError())
    with pytest.raises(asyncio.CancelledError):
        run(fn)
    assert fn.calls == 1


def test_cancelled_trial_frees_the_half_open_slot() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_after=10, clock=clock)
    breaker.record_failure()
    clock.now = 10
    with pytest.raises(asyncio.CancelledError):
        run(Script(asyncio.CancelledError()), breaker=breaker)
    breaker.before_call()  # another trial is allowed at once


# --- CircuitBreaker -------------------------------------------------------------------------


def test_breaker_opens_after_threshold_and_fails_fast() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, reset_after=30, clock=clock, name="anthropic")
    for _ in range(2):
        breaker.before_call()
        breaker.record_failure()
    assert breaker.state == "closed"
    breaker.record_failure()
    assert breaker.state == "open"
    clock.now = 12
    with pytest.raises(CircuitOpenError, match=r"anthropic.*3 consecutive.*in 18\.0s") as info:
        breaker.before_call()
    assert info.value.status is None and info.value.retry_in == pytest.approx(18)


def test_success_resets_the_failure_count() -> None:
    breaker = CircuitBreaker(failure_threshold=2, clock=FakeClock())
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state == "closed" and breaker.consecutive_failures == 1


def test_half_open_allows_one_trial_and_success_closes() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_after=5, clock=clock)
    breaker.record_failure()
    clock.now = 5
    assert breaker.state == "half_open"
    breaker.before_call()  # the trial
    with pytest.raises(CircuitOpenError, match="circuit open after 1 consecutive failures"):
        breaker.before_call()  # everyone else still waits
    breaker.record_success()
    assert breaker.state == "closed"
    breaker.before_call()


def test_failed_trial_reopens_for_another_period() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_after=5, clock=clock)
    breaker.record_failure()
    clock.now = 6
    breaker.before_call()
    breaker.record_failure()
    assert breaker.state == "open"
    clock.now = 10.9
    with pytest.raises(CircuitOpenError, match="not calling it"):
        breaker.before_call()
    clock.now = 11
    breaker.before_call()


def test_lost_trial_expires() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, reset_after=5, clock=clock)
    breaker.record_failure()
    clock.now = 5
    breaker.before_call()  # trial never reports back
    clock.now = 10
    breaker.before_call()  # presumed lost: a new trial may go


def test_retries_feed_the_breaker_until_it_opens() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, reset_after=30, clock=clock)
    fn = Script(*(SdkError(503) for _ in range(5)))
    with pytest.raises(CircuitOpenError) as info:
        run(fn, breaker=breaker)
    assert fn.calls == 2 and breaker.state == "open"
    cause = info.value.__cause__
    assert isinstance(cause, ProviderError) and cause.status == 503


def test_client_errors_do_not_open_the_breaker() -> None:
    breaker = CircuitBreaker(failure_threshold=1, clock=FakeClock())
    with pytest.raises(ProviderError, match="HTTP 400"):
        run(Script(SdkError(400)), breaker=breaker)
    assert breaker.state == "closed"


# --- limits ---------------------------------------------------------------------------------


def test_limiter_bounds_concurrency() -> None:
    in_flight = peak = 0

    async def fn() -> str:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0)
        in_flight -= 1
        return "ok"

    async def main() -> list[str]:
        limiter = asyncio.Semaphore(3)
        return await asyncio.gather(
            *(
                call_with_retries(
                    fn, provider="p", retry=RetryPolicy(), limiter=limiter, classify=classify
                )
                for _ in range(20)
            )
        )

    assert asyncio.run(main()) == ["ok"] * 20
    assert peak == 3


def test_limiter_is_not_held_during_backoff() -> None:
    order: list[str] = []

    async def main() -> None:
        limiter = asyncio.Semaphore(1)
        other_done = asyncio.Event()

        async def backoff(_seconds: float) -> None:
            order.append("backoff")
            await other_done.wait()  # deadlocks if the slot were still held

        async def flaky() -> str:
            order.append("flaky")
            if order.count("flaky") == 1:
                raise SdkError(503)
            return "ok"

        async def other() -> str:
            order.append("other")
            other_done.set()
            return "ok"

        async def second() -> str:
            await asyncio.sleep(0)
            return await call_with_retries(
                other, provider="p", retry=RetryPolicy(), limiter=limiter, classify=classify
            )

        first = call_with_retries(
            flaky,
            provider="p",
            retry=RetryPolicy(),
            limiter=limiter,
            classify=classify,
            sleep=backoff,
        )
        assert await asyncio.wait_for(asyncio.gather(first, second()), 2) == ["ok", "ok"]

    asyncio.run(main())
    assert order == ["flaky", "backoff", "other", "flaky"]


def test_provider_limits_share_breakers_and_scope_semaphores_per_loop() -> None:
    limits = ProviderLimits(concurrency=8, per_provider={"local:http://127.0.0.1:1": 2})
    assert limits.breaker("openai") is limits.breaker("openai")
    assert limits.breaker("openai") is not limits.breaker("anthropic")
    assert limits.breaker("openai").name == "openai"

    async def grab() -> tuple[asyncio.Semaphore, asyncio.Semaphore, asyncio.Semaphore]:
        sem, _ = limits.get("openai")
        return sem, limits.semaphore("openai"), limits.semaphore("local:http://127.0.0.1:1")

    first, same, local = asyncio.run(grab())
    second, _, _ = asyncio.run(grab())
    assert first is same and first is not second  # one per loop: no cross-loop binding errors
    assert limits.concurrency("openai") == 8 and local._value == 2


def test_semaphore_needs_a_running_loop() -> None:
    with pytest.raises(RuntimeError, match="no running event loop"):
        ProviderLimits().semaphore("openai")


def test_limits_reject_zero_concurrency() -> None:
    with pytest.raises(ValueError, match="'openai'"):
        ProviderLimits(per_provider={"openai": 0})
