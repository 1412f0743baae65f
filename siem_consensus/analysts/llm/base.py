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
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ...errors import ProviderError
from ...models import Incident, Severity, Usage, Verdict, VerdictStatus
from ...privacy import Pseudonymizer
from ..base import abstain
from ..cache import ResponseCache
from ..costs import Budget, PriceTable
from ..resilience import ProviderLimits, RetryPolicy, call_with_retries
from .prompt import PROMPT_VERSION, CasePrompt, VerdictClaims, build_case_prompt

__all__ = ["Completion", "LLMAnalyst", "LLMSettings"]

_REPAIR = (
    "\n\nYour previous answer was rejected: {problem}. Answer again, only by calling "
    "record_verdict with arguments that match its schema exactly."
)


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
        max_output_tokens: Completion token limit sent to the provider.
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
    async def _complete(self, system: str, user: str) -> Completion:
        """One vendor call with forced structured output."""

    @abstractmethod
    def _classify(self, error: BaseException) -> ProviderError:
        """Map a vendor SDK exception to a ProviderError (status, retry-after, excerpt)."""

    @property
    def limits_key(self) -> str:
        """Key of this analyst's concurrency limit and circuit breaker."""
        return self.provider

    async def analyze(self, case: Incident) -> Verdict:
        """Judge one incident (see the module docstring for the steps)."""
        started = time.perf_counter()
        if case.score < self.settings.min_score:
            return Verdict(
                analyst=self.name,
                model=self.model,
                incident_id=case.id,
                status=VerdictStatus.SKIPPED,
                rationale=f"detector score {case.score:.2f} below the LLM "
                f"pre-filter {self.settings.min_score:.2f}: not sent",
            )
        key = self._cache_key(case)
        cached = self.settings.cache.get(key) if self.settings.cache else None
        if cached is not None:
            stored = VerdictClaims.model_validate(cached["claims"])
            return self._verdict(case, stored, Usage(cached=True), started)
        pseudonymizer = Pseudonymizer() if self.pseudonymize else None
        shown = pseudonymizer.pseudonymize_incident(case) if pseudonymizer else case
        prompt = build_case_prompt(shown, max_tokens=self.settings.max_prompt_tokens)
        if self.settings.budget is not None:
            self.settings.budget.check(prompt.estimated_tokens + self.settings.max_output_tokens)
        answer, usage, problem = await self._ask(prompt)
        if self.settings.budget is not None:
            self.settings.budget.record(usage)
        if answer is None:
            verdict = abstain(self.name, case, problem)
            return verdict.model_copy(
                update={
                    "model": self.model,
                    "usage": usage,
                    "latency_s": time.perf_counter() - started,
                }
            )
        claims = _restore_claims(answer, pseudonymizer) if pseudonymizer else answer
        if self.settings.cache is not None:
            self.settings.cache.put(key, {"claims": claims.model_dump()})
        return self._verdict(case, claims, usage, started)

    def _cache_key(self, case: Incident) -> str:
        digest = hashlib.sha256(case.model_dump_json().encode()).hexdigest()
        if self.settings.cache is None:
            return digest
        return self.settings.cache.key(digest, self.name, self.model, PROMPT_VERSION)

    async def _ask(self, prompt: CasePrompt) -> tuple[VerdictClaims | None, Usage, str]:
        calls = [0]
        tokens = [0, 0]
        problem = ""
        user = prompt.user
        for attempt in range(2):
            completion = await self._call(prompt.system, user, calls)
            tokens[0] += completion.input_tokens
            tokens[1] += completion.output_tokens
            if completion.refusal is not None:
                problem = f"model refused: {completion.refusal[:200]}"
                break
            claims, problem = _validate(completion)
            if claims is not None:
                return claims, self._usage(calls[0], tokens), ""
            if attempt == 0:
                user = prompt.user + _REPAIR.format(problem=problem)
        reason = problem if "refused" in problem else f"invalid output after one repair: {problem}"
        return None, self._usage(calls[0], tokens), reason

    async def _call(self, system: str, user: str, calls: list[int]) -> Completion:
        limiter, breaker = self.settings.limits.get(self.limits_key)

        def count(_attempt: int) -> None:
            calls[0] += 1

        return await call_with_retries(
            lambda: self._complete(system, user),
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


def _validate(completion: Completion) -> tuple[VerdictClaims | None, str]:
    if completion.payload is None:
        excerpt = (completion.text or "")[:120]
        return None, f"no record_verdict call in the answer (text: {excerpt!r})"
    try:
        return VerdictClaims.model_validate(completion.payload), ""
    except ValidationError as exc:
        errors = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in exc.errors()[:5]
        )
        return None, errors


def _restore_claims(claims: VerdictClaims, pseudonymizer: Pseudonymizer) -> VerdictClaims:
    restore = pseudonymizer.restore_text
    return claims.model_copy(
        update={
            "category": restore(claims.category),
            "rationale": restore(claims.rationale),
            "attacker_goal": restore(claims.attacker_goal),
            "business_impact": restore(claims.business_impact),
            "recommended_actions": [restore(a) for a in claims.recommended_actions],
        }
    )
