"""The LLM analyst: one structured-output call per incident, checked, bounded and accounted.

What happens in :meth:`LLMAnalyst.analyze`:

1. Below ``min_score`` the incident is not sent (a ``skipped`` verdict says so).
2. The incident id and event ids become opaque aliases; identities are pseudonymized (on for
   every named cloud analyst whatever its base URL, off by default only for ``local:``
   analysts). The prompt is built within ``max_prompt_tokens`` (estimated).
3. The response cache is consulted; its key is a hash of the request as it would be sent.
4. The call's worst case (input estimate with the schema, plus the output cap of every case)
   is reserved against the budget, or was reserved for the whole incident by the graph.
5. The vendor call runs under the provider's concurrency limit and circuit breaker, with
   retries and backoff honouring ``retry-after``. Each HTTP attempt must answer within
   ``timeout`` seconds of being *sent*: the wait for a provider slot (concurrency limit) or for
   budget is not counted. Each billed attempt settles the budget.
6. A truncated answer is retried once with a larger cap; an invalid or missing answer gets
   one repair attempt; then the analyst abstains with the reason. A refusal is an abstention.
7. Aliases and pseudonyms are restored; usage and cost are recorded on the verdict.

Provider failures (after retries), an open circuit and an exhausted budget raise; the graph
turns them into ``error`` verdicts, hence degraded ``needs_review`` decisions.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from ...errors import ProviderError
from ...models import Incident, Usage, Verdict
from ..cache import ResponseCache
from ..costs import Budget, PriceTable, Reservation, default_prices, require_price
from ..resilience import ProviderLimits, RetryPolicy, call_with_retries
from ._judge import judge
from ._prepare import Prepared, prepare

__all__ = ["Completion", "LLMAnalyst", "LLMSettings"]

Effort = Literal["low", "medium", "high"]


@dataclass(frozen=True)
class Completion:
    """One vendor response, reduced to what the analyst needs."""

    payload: dict[str, Any] | None = None
    text: str | None = None
    refusal: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    truncated: bool = False
    """The model stopped at the output cap (``max_tokens`` / ``length``)."""
    cached_input_tokens: int = 0
    """Of ``input_tokens``, those read from the provider's prompt cache."""
    cache_write_input_tokens: int = 0
    """Of ``input_tokens``, those written to the provider's prompt cache."""
    reasoning_tokens: int = 0
    """Of ``output_tokens``, those spent reasoning (they count against the output cap)."""


@dataclass
class LLMSettings:
    """Knobs shared by the LLM analysts (all optional).

    Attributes:
        max_prompt_tokens: Estimated prompt bound; evidence is sampled down to fit.
        max_output_tokens: Output cap per case; a batch of N cases gets N times this.
        batch_size: Low-tier incidents judged per call (1: no batching). High and critical
            incidents are always judged one per call. 16 by default: the six AIT-ADS scenarios
            cost $1.60 with Claude and OpenAI at 16, $2.02 at 8, $2.89 at 1
            (``benchmarks/bench_llm.py --costs``, docs/llm.md).
        batch_severities: Detector severities eligible for batching.
        timeout: Seconds one HTTP attempt may take, counted from when the request is sent
            (after the provider slot is free): queueing for the concurrency limit or the budget
            is not counted. A slower attempt fails like a network timeout (retried, then an
            ``error`` verdict). Set it for a run with ``RunArgs(analyst_timeout=...)`` or
            ``--analyst-timeout``.
        retry: Retry/backoff policy for 429/5xx/timeouts.
        pseudonymize: Hide identities; None means on for every cloud analyst and off for
            ``local:`` analysts.
        reasoning_effort: Effort for models that reason (OpenAI ``reasoning_effort``,
            Anthropic ``output_config.effort``); None sends nothing. Low by default: the
            decision task needs a judgement, not a long chain of thought.
        min_score: Incidents with a lower detector score are not sent.
        cache: Response cache; None disables it.
        budget: Token/money budget shared by the run; None means unlimited.
        prices: Price table for cost figures (default: the built-in table, merged with the
            file named by ``SIEM_CONSENSUS_PRICES``).
        limits: Per-provider concurrency limits and circuit breakers.
    """

    max_prompt_tokens: int = 3000
    max_output_tokens: int = 1024
    batch_size: int = 16
    batch_severities: frozenset[str] = frozenset({"info", "low", "medium"})
    timeout: float = 60.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    pseudonymize: bool | None = None
    reasoning_effort: Effort | None = "low"
    min_score: float = 0.0
    cache: ResponseCache | None = None
    budget: Budget | None = None
    prices: PriceTable = field(default_factory=default_prices)
    limits: ProviderLimits = field(default_factory=ProviderLimits)


class LLMAnalyst(ABC):
    """Base of the vendor analysts.

    Subclasses set ``provider`` and implement :meth:`build_request` (the exact request body),
    :meth:`send` (one SDK call) and :meth:`classify` (SDK exception -> ProviderError).

    Raises:
        ConfigError: A money budget is set and the model has no price.
    """

    provider: str = "llm"
    times_own_calls: bool = True
    """Each HTTP attempt is bounded by ``settings.timeout`` from when it is sent, so
    :func:`~siem_consensus.analysts.run_analyst` adds no outer deadline (one would count the
    time spent queueing for a provider slot)."""

    def __init__(
        self, *, name: str, model: str, settings: LLMSettings | None = None, local: bool = False
    ) -> None:
        self.name = name
        self.model = model
        self.settings = settings or LLMSettings()
        self.local = local
        self.pseudonymize = (
            self.settings.pseudonymize if self.settings.pseudonymize is not None else not local
        )
        require_price(model, self.settings.prices, self.settings.budget)
        self._given_client: Any = None
        self._owned: tuple[asyncio.AbstractEventLoop, Any] | None = None

    def _make_client(self) -> Any:
        """A new SDK client (override); called once per event loop when none was given."""
        raise NotImplementedError

    def client(self) -> Any:
        """The SDK client: the one given, else one owned by this analyst for the running loop.

        SDK async clients hold connections bound to an event loop, so an owned client is
        rebuilt when the loop changes (e.g. one ``asyncio.run`` per report).
        """
        if self._given_client is not None:
            return self._given_client
        loop = asyncio.get_running_loop()
        if self._owned is None or self._owned[0] is not loop:
            self._owned = (loop, self._make_client())
        return self._owned[1]

    @property
    def sdk_timeout(self) -> float:
        """The HTTP timeout given to an SDK client this analyst builds: a second past
        ``settings.timeout``, a backstop, so that the analyst's own deadline (counted from
        sending) is what ends a slow attempt, with one message."""
        return self.settings.timeout + 1.0

    def ready(self) -> None:
        """Build what :meth:`send` needs (the SDK client) before an attempt's deadline starts."""
        self.client()

    async def aclose(self) -> None:
        """Close the client this analyst created (a client passed in is the caller's)."""
        if self._owned is not None:
            owned, self._owned = self._owned[1], None
            await owned.close()

    @abstractmethod
    def build_request(
        self, system: str, user: str, answer: type[BaseModel], max_tokens: int
    ) -> dict[str, Any]:
        """The request body sent for one attempt (also what the cache key hashes)."""

    @abstractmethod
    async def send(self, request: dict[str, Any]) -> Completion:
        """One vendor call with ``request``, reduced to a :class:`Completion`."""

    def fall_back(self, error: ProviderError, request: dict[str, Any]) -> bool:
        """Whether ``request``, refused with ``error``, is worth sending again in another shape
        (the next :meth:`build_request` makes it); none by default. ClaudeAnalyst switches
        between JSON outputs and a forced tool when an automatically chosen one gets HTTP 400."""
        return False

    @abstractmethod
    def classify(self, error: BaseException) -> ProviderError:
        """Map a vendor SDK exception to a ProviderError (status, retry-after, excerpt)."""

    @property
    def endpoint(self) -> str:
        """Where requests go, credentials redacted (part of the cache key)."""
        return self.provider

    @property
    def limits_key(self) -> str:
        """Key of this analyst's concurrency limit and circuit breaker."""
        return self.provider

    @property
    def batch_size(self) -> int:
        """Low-tier incidents judged per call (read by the graph's fan-out)."""
        return max(1, self.settings.batch_size)

    @property
    def budget(self) -> Budget | None:
        """The budget this analyst spends from (read by the graph's admission gate)."""
        return self.settings.budget

    def batchable(self, case: Incident) -> bool:
        """Whether ``case`` may share a call with others (low tiers only)."""
        return self.batch_size > 1 and case.severity.value in self.settings.batch_severities

    def needs_call(self, case: Incident) -> bool:
        """Whether judging ``case`` may call the provider (not below the pre-filter)."""
        return case.score >= self.settings.min_score

    def prepare(self, cases: Sequence[Incident]) -> Prepared:
        """The request for ``cases``: aliased, pseudonymized when on, rendered, capped."""
        return prepare(self, cases)

    def estimate(self, cases: Sequence[Incident]) -> tuple[int, float | None]:
        """(tokens, dollars) one call for ``cases`` may spend at most (first attempt)."""
        return self.prepare(cases).amount(self)

    async def analyze(self, case: Incident) -> Verdict:
        """Judge one incident (see the module docstring for the steps)."""
        return (await self.analyze_batch([case]))[0]

    async def analyze_batch(self, cases: Sequence[Incident]) -> list[Verdict]:
        """Judge several incidents in one call (one verdict each, in order)."""
        return await judge(self, list(cases), time.perf_counter())

    def claim_tickets(self, cases: Sequence[Incident]) -> list[Reservation]:
        """The reservations the graph's admission gate made for these cases, if any."""
        budget = self.settings.budget
        if budget is None:
            return []
        found = [budget.claim((case.id, self.name)) for case in cases]
        return [r for r in found if r is not None]

    async def call(self, request: dict[str, Any], calls: list[int]) -> Completion:
        """Send ``request`` with retries, under the provider's limit and breaker; each HTTP
        attempt adds one to ``calls[0]``."""
        limiter, breaker = self.settings.limits.get(self.limits_key)

        def count(_attempt: int) -> None:
            calls[0] += 1

        return await call_with_retries(
            lambda: self._send_within(request),
            provider=self.provider,
            retry=self.settings.retry,
            breaker=breaker,
            limiter=limiter,
            classify=self.classify,
            on_attempt=count,
        )

    async def _send_within(self, request: dict[str, Any]) -> Completion:
        """:meth:`send`, bounded by ``settings.timeout``. ``call_with_retries`` creates this
        coroutine only once it holds the provider slot, so the deadline starts when the request
        goes out, not while it waits for its turn (nor while the SDK client is built)."""
        timeout = self.settings.timeout
        self.ready()
        try:
            return await asyncio.wait_for(self.send(request), timeout)
        except TimeoutError:
            raise ProviderError(
                f"timed out: no answer within {timeout:g}s of sending the request (the wait "
                "for a provider slot is not counted)",
                provider=self.provider,
            ) from None

    def usage(self, calls: int, completion: Completion) -> Usage:
        """A completion's usage priced from the table (cost None when the model is unpriced);
        prompt-cache reads and writes are billed at the model's cache rates, reasoning tokens
        as the output they are part of."""
        c = completion
        cost = self.settings.prices.cost(
            self.model,
            c.input_tokens,
            c.output_tokens,
            cached_input_tokens=c.cached_input_tokens,
            cache_write_input_tokens=c.cache_write_input_tokens,
        )
        return Usage(
            calls=calls,
            input_tokens=c.input_tokens,
            cached_input_tokens=c.cached_input_tokens,
            cache_write_input_tokens=c.cache_write_input_tokens,
            output_tokens=c.output_tokens,
            reasoning_tokens=c.reasoning_tokens,
            cost_usd=cost,
        )
