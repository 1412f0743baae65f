"""Checks shared by the parser tests."""

from __future__ import annotations

from siem_consensus.parsers.base import ParsedChunk


def assert_accounted(parsed: ParsedChunk, n_lines: int) -> None:
    """Every line is exactly one event, one dead letter or one skip; no line number twice."""
    numbers = parsed.events["line"].to_list() + [d.line for d in parsed.dead_letters]
    assert len(numbers) + parsed.skipped == n_lines == len(set(numbers)) + parsed.skipped
