"""Declarative rule type shared by the rules analyst's per-detector tables."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Judgement", "KindRule", "Stats"]

Stats = Mapping[str, Any]
Judgement = tuple[bool, float, list[str]]
"""(is_threat, confidence, reasons)"""


@dataclass(frozen=True)
class KindRule:
    """How the rules analyst judges one detection kind.

    Attributes:
        category: Category reported when it is a threat.
        goal: The attacker's likely goal, one sentence.
        impact: Business impact, one sentence.
        actions: Recommended actions (never executed by the library).
        judge: Scoring function over the incident's ``stats``.
    """

    category: str
    goal: str
    impact: str
    actions: tuple[str, ...]
    judge: Callable[[Stats], Judgement]
