"""Turning vendor answers into claims: validation, repair text, restoration, usage shares."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ...models import Incident, Usage, Verdict, VerdictStatus
from ...privacy import Pseudonymizer
from .prompt import BatchClaims, VerdictClaims

if TYPE_CHECKING:
    from .base import Completion, LLMAnalyst

__all__ = [
    "REPAIR",
    "extract_json_object",
    "restore_claims",
    "share_usage",
    "skipped",
    "validate",
]

REPAIR = (
    "\n\nYour previous answer was rejected: {problem}. Answer again, only with a "
    "record_verdict answer (tool call or JSON, as asked) that matches its schema exactly."
)


def validate(completion: Completion, ids: list[str]) -> tuple[dict[str, VerdictClaims], str]:
    """Valid claims by incident id, and what is wrong (empty when nothing is)."""
    if completion.payload is None:
        excerpt = (completion.text or "")[:120]
        return {}, f"no record_verdict call in the answer (text: {excerpt!r})"
    try:
        if len(ids) == 1:
            return {ids[0]: VerdictClaims.model_validate(completion.payload)}, ""
        batch = BatchClaims.model_validate(completion.payload)
    except ValidationError as exc:
        return {}, _errors(exc)
    found = {
        v.incident_id: VerdictClaims.model_validate(v.model_dump(exclude={"incident_id"}))
        for v in batch.verdicts
        if v.incident_id in ids
    }
    missing = [i for i in ids if i not in found]
    return found, f"no verdict for incident(s) {', '.join(missing)}" if missing else ""


def _errors(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in exc.errors()[:5]
    )


def restore_claims(claims: VerdictClaims, pseudonymizer: Pseudonymizer) -> VerdictClaims:
    """Real values back into the free-text fields and event ids of an answer (locally)."""
    restore = pseudonymizer.restore_text
    return claims.model_copy(
        update={
            "category": restore(claims.category),
            "rationale": restore(claims.rationale),
            "attacker_goal": restore(claims.attacker_goal),
            "business_impact": restore(claims.business_impact),
            "recommended_actions": [restore(a) for a in claims.recommended_actions],
            "evidence_event_ids": [restore(e) for e in claims.evidence_event_ids],
        }
    )


def share_usage(usage: Usage, n: int) -> list[Usage]:
    """Split one call's usage over the ``n`` cases it judged (remainders to the first)."""
    if n == 1:
        return [usage]
    shares = []
    for k in range(n):
        first = k == 0
        shares.append(
            Usage(
                calls=usage.calls if first else 0,
                input_tokens=_part(usage.input_tokens, n, first),
                cached_input_tokens=_part(usage.cached_input_tokens, n, first),
                cache_write_input_tokens=_part(usage.cache_write_input_tokens, n, first),
                output_tokens=_part(usage.output_tokens, n, first),
                reasoning_tokens=_part(usage.reasoning_tokens, n, first),
                cost_usd=None if usage.cost_usd is None else usage.cost_usd / n,
            )
        )
    return shares


def _part(total: int, n: int, first: bool) -> int:
    """One case's share of ``total`` over ``n`` cases (the remainder to the first)."""
    return total // n + (total % n if first else 0)


def skipped(analyst: LLMAnalyst, case: Incident, min_score: float) -> Verdict:
    """The verdict of an incident below the pre-filter: not sent, not in the vote."""
    return Verdict(
        analyst=analyst.name,
        model=analyst.model,
        incident_id=case.id,
        status=VerdictStatus.SKIPPED,
        rationale=f"detector score {case.score:.2f} below the LLM pre-filter "
        f"{min_score:.2f}: not sent",
    )


def extract_json_object(text: str) -> dict[str, Any] | None:
    """The JSON object in a reply, tolerating Markdown fences and chatter around it."""
    candidates = [text.strip()]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return None
