"""Declarative rule type shared by the rules analyst's per-detector tables, and safe readers.

Detector statistics come from many places (our detectors, custom detectors, a report read
back from JSON, a SIEM): a value may be missing, ``None``, a string, a bool, NaN or huge.
The readers below turn any of those into a usable value or the documented default, so a
rule never raises on real input: an embedded analyst that fails is an outage, not a verdict.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Judgement",
    "KindRule",
    "Stats",
    "as_number",
    "count",
    "flag",
    "items",
    "mapping",
    "number",
]

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


def number(stats: Stats, key: str, default: float | None = 0.0) -> float | None:
    """``stats[key]`` as a finite float (see :func:`as_number`)."""
    return as_number(stats.get(key), default)


def as_number(value: Any, default: float | None = 0.0) -> float | None:
    """``value`` as a finite float; ``default`` when None, NaN, infinite or not a number
    (bools are not numbers here; numeric strings are)."""
    if isinstance(value, bool) or value is None:
        return default
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value.strip())
        except ValueError:
            return default
    else:
        return default
    return result if math.isfinite(result) else default


def count(stats: Stats, key: str, default: int = 0) -> int:
    """``stats[key]`` as a non-negative int (a list counts its items); ``default`` otherwise."""
    value = stats.get(key)
    if isinstance(value, list | tuple | set | frozenset):
        return len(value)
    result = number(stats, key, None)
    return max(int(result), 0) if result is not None else default


def items(stats: Stats, key: str) -> list[Any]:
    """``stats[key]`` as a list: a list/tuple/set as is, anything else (None too) empty."""
    value = stats.get(key)
    return list(value) if isinstance(value, list | tuple | set | frozenset) else []


def flag(stats: Stats, key: str) -> bool:
    """``stats[key]`` as a bool: true only for True, non-zero numbers and 'true'/'yes'/'1'."""
    value = stats.get(key)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1")
    if isinstance(value, bool | int | float):
        return bool(value) and not (isinstance(value, float) and math.isnan(value))
    return False


def mapping(stats: Stats, key: str) -> Mapping[str, Any]:
    """``stats[key]`` when it is a mapping, else an empty one."""
    value = stats.get(key)
    return value if isinstance(value, Mapping) else {}
