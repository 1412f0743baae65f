"""Which parser reads an input: by the share of a sample each registered parser recognises."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import UnknownFormatError
from ._zeek_tsv import unread_zeek_log
from .base import PARSERS, JsonParser, excerpt

__all__ = ["detect_format", "detect_records"]

_SNIFF_LINES = 20


def detect_format(sample: Sequence[str], name: str = "input") -> str:
    """Pick the parser that recognises the largest share of ``sample`` (at least half).

    Raises:
        UnknownFormatError: no registered parser recognises the sample.
    """
    lines = [line for line in sample if line.strip()][:_SNIFF_LINES]
    if not lines:
        raise UnknownFormatError(f"{name}: no non-blank lines to detect the format from")
    scores = {fmt: cls.sniff(lines) for fmt, cls in PARSERS.items()}
    best = max(scores, key=lambda fmt: scores[fmt])
    if scores[best] < 0.5:
        zeek = unread_zeek_log(lines)
        first = excerpt(lines[0], 120)
        what = zeek or f"could not detect the input format (first line: {first!r})"
        raise UnknownFormatError(
            f"{name}: {what}; "
            f"pass --input-format / input_format= with one of: {', '.join(sorted(PARSERS))}"
        )
    return best


def detect_records(head: Sequence[Any]) -> str:
    """The JSON format of decoded records (Suricata EVE, Wazuh, ...); ``ecs`` when unsure."""
    sample = [json.dumps(r, default=str) for r in head if isinstance(r, Mapping)]
    json_formats = {fmt for fmt, cls in PARSERS.items() if issubclass(cls, JsonParser)}
    scores = {fmt: PARSERS[fmt].sniff(sample) for fmt in sorted(json_formats)} if sample else {}
    best = max(scores, key=lambda fmt: scores[fmt], default="ecs")
    return best if scores.get(best, 0.0) >= 0.5 else "ecs"
