"""The LLM analyst: one structured-output call per incident, checked, bounded and accounted.

What happens in :meth:`LLMAnalyst.analyze`:

1. Below ``min_score`` the incident is not sent (a ``skipped`` verdict says so).
2. The response cache is consulted (key: the raw case content, analyst, model, prompt version).
3. Identities are pseudonymised (on by default unless the endpoint is on this machine).
4. The prompt is built within ``max_prompt_tokens`` (estimated) and the budget is checked.
5. The vendor call runs under the provider's concurrency limit and circuit breaker, with
   retries and backoff honouring ``retry-after``.
6. The answer is validated into :class:`VerdictClaims`; an invalid or missing answer gets one
   repair attempt, then the analyst abstains with the reason. A refusal is an abstention.
7. Pseudonyms are restored; usage and cost are recorded on the verdict.

Provider failures (after retries), an open circuit and an exhausted budget raise; the graph
turns them into ``error`` verdicts, hence degraded ``needs_review`` decisions.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from ...errors import ProviderError
from ...models import Incident, Severity, Usage, Verdict
from ...privacy import Pseudonymizer
from ..base import abstain
from ..cache import ResponseCache
from ..costs import Budget, PriceTable
from ..resilience import ProviderLimits, RetryPolicy, call_with_retries
from ._answers import REPAIR, restore_claims, share_usage, skipped, validate
from .prompt import (
    PROMPT_VERSION,
    BatchClaims,
    CasePrompt,
    VerdictClaims,
    build_batch_prompt,
    build_case_prompt,
)

__all__ = ["Completion", "LLMAnalyst", "LLMSettings"]


@dataclass(frozen=True)
class Completion:
    """One vendor response, reduced to what the analyst needs."""

    payload: dict[str, Any] | None = None
    text: str | None = None
    refusal: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass
class LLMSettings:
    """Knobs shared by the LLM analysts (all optional).

    Attributes:
        max_prompt_tokens: Estimated prompt bound; evidence is sampled down to fit.
        max_output_tokens: Completion token limit sent to the provider (per case in a batch).
        batch_size: Low-tier incidents judged per call (1: no batching). High and critical
            incidents are always judged one per call.
        batch_severities: Detector severities eligible for batching.
        timeout: Seconds per HTTP call.
        retry: Retry/backoff policy for 429/5xx/timeouts.
        pseudonymize: Hide identities; None means on unless the endpoint is loopback.
        min_score: Incidents with a lower detector score are not sent.
        cache: Response cache; None disables it.
        budget: Token/money budget shared by the run; None means unlimited.
        prices: Price table for cost figures.
        limits: Per-provider concurrency limits and circuit breakers.
    """

    max_prompt_tokens: int = 3000
    max_output_tokens: int = 1024
    batch_size: int = 1
    batch_severities: frozenset[str] = frozenset({"info", "low", "medium"})
    timeout: float = 60.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    pseudonymize: bool | None = None
    min_score: float = 0.0
    cache: ResponseCache | None = None
    budget: Budget | None = None
    prices: PriceTable = field(default_factory=PriceTable)
    limits: ProviderLimits = field(default_factory=ProviderLimits)


class LLMAnalyst(ABC):
    """Base of the vendor analysts; subclasses implement :meth:`_complete` and
    :meth:`_classify` and set ``provider``."""

    provider: str = "llm"

    def __init__(
        self, *, name: str, model: str, settings: LLMSettings | None = None, local: bool = False
    ) -> None:
        self.name = name
        self.model = model
        self.settings = settings or LLMSettings()
        self.pseudonymize = (
            self.settings.pseudonymize if self.settings.pseudonymize is not None else not local
        )
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

    async def aclose(self) -> None:
        """Close the client this analyst created (a client passed in is the caller's)."""
        if self._owned is not None:
            owned, self._owned = self._owned[1], None
            await owned.close()

    @abstractmethod
    async def _complete(self, system: str, user: str, answer: type[BaseModel]) -> Completion:
        """One vendor call forcing structured output shaped like ``answer``."""

    @abstractmethod
    def _classify(self, error: BaseException) -> ProviderError:
        """Map a vendor SDK exception to a ProviderError (status, retry-after, excerpt)."""

    @property
    def limits_key(self) -> str:
        """Key of this analyst's concurrency limit and circuit breaker."""
        return self.provider

    @property
    def batch_size(self) -> int:
        """Low-tier incidents judged per call (read by the graph's fan-out)."""
        return max(1, self.settings.batch_size)

    def batchable(self, case: Incident) -> bool:
        """Whether ``case`` may share a call with others (low tiers only)."""
        return self.batch_size > 1 and case.severity.value in self.settings.batch_severities

    async def analyze(self, case: Incident) -> Verdict:
        """Judge one incident (see the module docstring for the steps)."""
        return (await self.analyze_batch([case]))[0]

    async def analyze_batch(self, cases: Sequence[Incident]) -> list[Verdict]:
        """Judge several incidents in one call (one verdict each, in order)."""
        started = time.perf_counter()
        results: dict[str, Verdict] = {}
        todo = []
        for case in cases:
            if case.score < self.settings.min_score:
                results[case.id] = skipped(self, case, self.settings.min_score)
            elif (hit := self._cached(case, started)) is not None:
                results[case.id] = hit
            else:
                todo.append(case)
        if todo:
            results.update(await self._judge(todo, started))
        return [results[case.id] for case in cases]

    def _cached(self, case: Incident, started: float) -> Verdict | None:
        cached = self.settings.cache.get(self._cache_key(case)) if self.settings.cache else None
        if cached is None:
            return None
        stored = VerdictClaims.model_validate(cached["claims"])
        return self._verdict(case, stored, Usage(cached=True), started)

    async def _judge(self, cases: list[Incident], started: float) -> dict[str, Verdict]:
        pseudonymizer = Pseudonymizer() if self.pseudonymize else None
        shown = [pseudonymizer.pseudonymize_incident(c) if pseudonymizer else c for c in cases]
        if len(cases) == 1:
            prompt = build_case_prompt(shown[0], max_tokens=self.settings.max_prompt_tokens)
        else:
            bound = self.settings.max_prompt_tokens * min(len(cases), 4)
            prompt = build_batch_prompt(shown, max_tokens=bound)
        if self.settings.budget is not None:
            expected_out = self.settings.max_output_tokens * len(cases)
            self.settings.budget.check(prompt.estimated_tokens + expected_out)
        answers, usage, problem = await self._ask(prompt, [c.id for c in cases])
        if self.settings.budget is not None:
            self.settings.budget.record(usage)
        shares = share_usage(usage, len(cases))
        verdicts: dict[str, Verdict] = {}
        for case, share in zip(cases, shares, strict=True):
            answer = answers.get(case.id)
            if answer is None:
                verdict = abstain(self.name, case, problem)
                verdicts[case.id] = verdict.model_copy(
                    update={
                        "model": self.model,
                        "usage": share,
                        "latency_s": time.perf_counter() - started,
                    }
                )
                continue
            claims = restore_claims(answer, pseudonymizer) if pseudonymizer else answer
            if self.settings.cache is not None:
                self.settings.cache.put(self._cache_key(case), {"claims": claims.model_dump()})
            verdicts[case.id] = self._verdict(case, claims, share, started)
        return verdicts

    def _cache_key(self, case: Incident) -> str:
        digest = hashlib.sha256(case.model_dump_json().encode()).hexdigest()
        if self.settings.cache is None:
            return digest
        return self.settings.cache.key(digest, self.name, self.model, PROMPT_VERSION)

    async def _ask(
        self, prompt: CasePrompt, ids: list[str]
    ) -> tuple[dict[str, VerdictClaims], Usage, str]:
        """Call, validate, repair once; returns the valid answers by incident id."""
        answer_model: type[BaseModel] = VerdictClaims if len(ids) == 1 else BatchClaims
        calls, tokens = [0], [0, 0]
        answers: dict[str, VerdictClaims] = {}
        problem, user = "", prompt.user
        for attempt in range(2):
            completion = await self._call(prompt.system, user, answer_model, calls)
            tokens[0] += completion.input_tokens
            tokens[1] += completion.output_tokens
            if completion.refusal is not None:
                problem = f"model refused: {completion.refusal[:200]}"
                break
            found, problem = validate(completion, ids)
            answers.update(found)
            if not problem:
                break
            if attempt == 0:
                user = prompt.user + REPAIR.format(problem=problem)
            else:
                problem = f"invalid output after one repair: {problem}"
        return answers, self._usage(calls[0], tokens), problem

    async def _call(
        self, system: str, user: str, answer: type[BaseModel], calls: list[int]
    ) -> Completion:
        limiter, breaker = self.settings.limits.get(self.limits_key)

        def count(_attempt: int) -> None:
            calls[0] += 1

        return await call_with_retries(
            lambda: self._complete(system, user, answer),
            provider=self.provider,
            retry=self.settings.retry,
            breaker=breaker,
            limiter=limiter,
            classify=self._classify,
            on_attempt=count,
        )

    def _usage(self, calls: int, tokens: list[int]) -> Usage:
        cost = self.settings.prices.cost(self.model, tokens[0], tokens[1])
        return Usage(calls=calls, input_tokens=tokens[0], output_tokens=tokens[1], cost_usd=cost)

    def _verdict(
        self, case: Incident, claims: VerdictClaims, usage: Usage, started: float
    ) -> Verdict:
        return Verdict(
            analyst=self.name,
            model=self.model,
            incident_id=case.id,
            is_threat=claims.is_threat,
            confidence=claims.confidence,
            severity=Severity(claims.severity),
            category=claims.category,
            attack_techniques=tuple(t.strip().upper() for t in claims.attack_techniques),
            evidence_event_ids=tuple(claims.evidence_event_ids),
            rationale=claims.rationale,
            attacker_goal=claims.attacker_goal or None,
            business_impact=claims.business_impact or None,
            recommended_actions=tuple(claims.recommended_actions),
            usage=usage,
            latency_s=time.perf_counter() - started,
        )
