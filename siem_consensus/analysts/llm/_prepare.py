"""One request, ready to send: the pseudonymized cases, the prompt, the caps and the cost."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ...models import Incident
from ...privacy import Pseudonymizer
from .prompt import BatchClaims, CasePrompt, VerdictClaims, build_batch_prompt, build_case_prompt
from .prompt import estimate_tokens as estimate

if TYPE_CHECKING:
    from .base import LLMAnalyst

__all__ = ["Prepared", "prepare"]

_KEY_VERSION = "siem-consensus-request/1"


@dataclass
class Prepared:
    """What one call sends, and how to map its answer back.

    Attributes:
        cases: The real incidents, in order.
        aliases: Alias (what the provider sees as the incident id) -> real incident.
        pseudonymizer: Issued the aliases (and the identity tokens when pseudonymizing).
        prompt: The rendered system prompt and case block.
        answer: The answer model (one verdict, or one per case).
        output_cap: ``max_tokens`` sent: the per-case cap times the number of cases.
        input_tokens: Estimated input: prompt plus the answer schema.
        prefix_tokens: Of ``input_tokens``, the static prefix (system prompt and schema) a
            provider may write to its prompt cache, at a higher rate (Anthropic: 1.25x).
    """

    cases: list[Incident]
    aliases: dict[str, Incident]
    pseudonymizer: Pseudonymizer
    prompt: CasePrompt
    answer: type[BaseModel]
    output_cap: int
    input_tokens: int
    prefix_tokens: int = 0

    @property
    def ids(self) -> list[str]:
        """The aliases, in case order."""
        return list(self.aliases)

    def amount(
        self, analyst: LLMAnalyst, output_cap: int | None = None
    ) -> tuple[int, float | None]:
        """(tokens, dollars) to reserve for one attempt with ``output_cap`` (default the cap):
        the worst case, with the static prefix priced as a prompt-cache write and the whole
        cap as output (reasoning included)."""
        cap = self.output_cap if output_cap is None else output_cap
        cost = analyst.settings.prices.cost(
            analyst.model, self.input_tokens, cap, cache_write_input_tokens=self.prefix_tokens
        )
        return self.input_tokens + cap, cost

    def cache_key(self, request: dict[str, Any], analyst: LLMAnalyst) -> str:
        """SHA-256 of the request as sent, with this call's random pseudonym prefix (and the
        case-block nonce derived from it) normalised.

        Tokens are numbered in the order values are met, so two runs over the same input send
        the same request but for the prefix; everything else (model, endpoint, every setting
        that shaped the request) is in ``request`` or added here.
        """
        material = {
            "version": _KEY_VERSION,
            "provider": analyst.provider,
            "endpoint": analyst.endpoint,
            "request": request,
        }
        text = json.dumps(material, sort_keys=True, default=str)
        text = text.replace(self.pseudonymizer.prefix, "{prefix}")
        if self.prompt.nonce:
            text = text.replace(self.prompt.nonce, "{nonce}")
        return hashlib.sha256(text.encode()).hexdigest()


def prepare(analyst: LLMAnalyst, cases: Sequence[Incident]) -> Prepared:
    """Alias, pseudonymize (when on) and render ``cases`` for one call of ``analyst``."""
    settings = analyst.settings
    pseudonymizer = Pseudonymizer(identities=analyst.pseudonymize)
    shown = [pseudonymizer.pseudonymize_incident(case) for case in cases]
    if len(shown) == 1:
        prompt = build_case_prompt(shown[0], max_tokens=settings.max_prompt_tokens)
        answer: type[BaseModel] = VerdictClaims
    else:
        bound = settings.max_prompt_tokens * min(len(shown), 4)
        prompt = build_batch_prompt(shown, max_tokens=bound)
        answer = BatchClaims
    schema = estimate(json.dumps(answer.model_json_schema()))
    return Prepared(
        cases=list(cases),
        aliases={s.id: case for s, case in zip(shown, cases, strict=True)},
        pseudonymizer=pseudonymizer,
        prompt=prompt,
        answer=answer,
        output_cap=settings.max_output_tokens * len(cases),
        input_tokens=prompt.estimated_tokens + schema,
        prefix_tokens=estimate(prompt.system) + schema,
    )
