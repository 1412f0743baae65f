"""Analysts judge incidents independently: embedded (rules, baseline) and, with keys, LLMs."""

from .base import ANALYSTS, Analyst, abstain, run_analyst, run_analyst_batch
from .baseline import BaselineAnalyst
from .registry import get_analyst, resolve_analysts
from .rules import KIND_RULES, KindRule, RulesAnalyst

__all__ = [
    "ANALYSTS",
    "KIND_RULES",
    "Analyst",
    "BaselineAnalyst",
    "KindRule",
    "RulesAnalyst",
    "abstain",
    "get_analyst",
    "resolve_analysts",
    "run_analyst",
    "run_analyst_batch",
]
