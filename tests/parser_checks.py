"""Checks shared by the parser tests."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

from siem_consensus.parsers.base import ParsedChunk


def assert_accounted(parsed: ParsedChunk, n_lines: int) -> None:
    """Every line is exactly one event, one dead letter or one skip; no line number twice."""
    numbers = parsed.events["line"].to_list() + [d.line for d in parsed.dead_letters]
    assert len(numbers) + parsed.skipped == n_lines == len(set(numbers)) + parsed.skipped


def mutated_lines(samples: Sequence[str], noise: str) -> st.SearchStrategy[str]:
    """A sample line cut at a random place, or with up to 6 characters of ``noise`` inserted."""

    @st.composite
    def mutated(draw: st.DrawFn) -> str:
        line = draw(st.sampled_from(samples))
        cut = draw(st.integers(0, len(line)))
        if draw(st.booleans()):
            return line[:cut]
        return line[:cut] + draw(st.text(st.sampled_from(noise), max_size=6)) + line[cut:]

    return mutated()
