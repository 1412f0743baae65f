"""From cases to verdicts: pre-filter, cache, reservation, exchange, restoration."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from ...models import Incident, Severity, Usage, Verdict
from ..base import abstain
from ..costs import Reservation
from ._answers import restore_claims, share_usage, skipped
from ._ask import ask, reserve, settle
from .prompt import VerdictClaims

if TYPE_CHECKING:
    from ._prepare import Prepared
    from .base import LLMAnalyst

__all__ = ["judge"]


async def judge(analyst: LLMAnalyst, cases: list[Incident], started: float) -> list[Verdict]:
    """One verdict per case, in order (see :mod:`.base` for the steps)."""
    results: dict[str, Verdict] = {}
    todo = []
    for case in cases:
        if analyst.needs_call(case):
            todo.append(case)
        else:
            settle(analyst.claim_tickets([case]), None)
            results[case.id] = skipped(analyst, case, analyst.settings.min_score)
    if todo:
        results.update(await _judge_call(analyst, todo, started))
    return [results[case.id] for case in cases]


async def _judge_call(
    analyst: LLMAnalyst, cases: list[Incident], started: float
) -> dict[str, Verdict]:
    prepared = analyst.prepare(cases)
    prompt = prepared.prompt
    cache = analyst.settings.cache
    first = analyst.build_request(prompt.system, prompt.user, prepared.answer, prepared.output_cap)
    key = prepared.cache_key(first, analyst) if cache is not None else ""
    tickets = analyst.claim_tickets(cases)
    hit = _cached(cache.get(key), prepared) if cache is not None else None
    if hit is not None:
        settle(tickets, None)
        return _verdicts(analyst, prepared, hit, Usage(cached=True), "", started)
    exchange = await ask(analyst, prepared, await _hold(analyst, prepared, tickets))
    if cache is not None and exchange.answers and not exchange.problem:
        cache.put(key, _to_cache(exchange.answers, prepared))
    return _verdicts(
        analyst, prepared, exchange.answers, exchange.usage(), exchange.problem, started
    )


async def _hold(
    analyst: LLMAnalyst, prepared: Prepared, tickets: list[Reservation]
) -> list[Reservation]:
    """The reservation for the first attempt: the gate's tickets when they cover it."""
    tokens, cost = prepared.amount(analyst)
    if (
        tickets
        and sum(t.tokens for t in tickets) >= tokens
        and (cost is None or sum(t.cost_usd for t in tickets) >= cost)
    ):
        return tickets
    settle(tickets, None)
    return await reserve(analyst, prepared, prepared.output_cap)


def _to_cache(answers: dict[str, VerdictClaims], prepared: Prepared) -> dict[str, Any]:
    """Answers as the model gave them (pseudonymized), by case position, prefix normalised."""
    by_position = [answers.get(alias) for alias in prepared.ids]
    text = json.dumps([None if a is None else a.model_dump() for a in by_position])
    return {"answers": text.replace(prepared.pseudonymizer.prefix, "{prefix}")}


def _cached(payload: dict[str, Any] | None, prepared: Prepared) -> dict[str, VerdictClaims] | None:
    if payload is None or not isinstance(payload.get("answers"), str):
        return None
    text = payload["answers"].replace("{prefix}", prepared.pseudonymizer.prefix)
    try:
        stored = json.loads(text)
        found = {
            alias: VerdictClaims.model_validate(item)
            for alias, item in zip(prepared.ids, stored, strict=True)
            if item is not None
        }
    except (ValueError, TypeError):
        return None
    return found if len(found) == len(prepared.ids) else None


def _verdicts(
    analyst: LLMAnalyst,
    prepared: Prepared,
    answers: dict[str, VerdictClaims],
    usage: Usage,
    problem: str,
    started: float,
) -> dict[str, Verdict]:
    shares = share_usage(usage, len(prepared.cases))
    verdicts: dict[str, Verdict] = {}
    for (alias, case), share in zip(prepared.aliases.items(), shares, strict=True):
        answer = answers.get(alias)
        latency = time.perf_counter() - started
        if answer is None:
            why = prepared.pseudonymizer.restore_text(problem) or "no answer"
            verdict = abstain(analyst.name, case, why)
            verdicts[case.id] = verdict.model_copy(
                update={"model": analyst.model, "usage": share, "latency_s": latency}
            )
            continue
        claims = restore_claims(answer, prepared.pseudonymizer)
        verdicts[case.id] = _verdict(analyst, case, claims, share, latency)
    return verdicts


def _verdict(
    analyst: LLMAnalyst, case: Incident, claims: VerdictClaims, usage: Usage, latency: float
) -> Verdict:
    return Verdict(
        analyst=analyst.name,
        model=analyst.model,
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
        latency_s=latency,
    )
