"""Checks shared by the parser tests."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import pytest
from hypothesis import strategies as st

from siem_consensus.parsers import _year
from siem_consensus.parsers.base import ParsedChunk

RUN_TIME = datetime(2026, 12, 7, 12, tzinfo=UTC)
"""When the tests of year-less formats run: their fixture dates are all in 2026 and before it."""


@pytest.fixture(autouse=True, scope="module")
def run_in_december() -> Iterator[None]:
    """Pin the time of the run (import into a test module: autouse there). Year-less time
    stamps take their year from it; with the real clock, on 10 January a fixture's March date
    would be last year's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_year, "_now", lambda: RUN_TIME)
        yield


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
