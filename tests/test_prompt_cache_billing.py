"""What :meth:`PriceTable.cost` bills for prompt-cache reads and writes: a write surcharge only
on tokens actually written, and never more cached plus written tokens than the input."""

from __future__ import annotations

import pytest

from siem_consensus.analysts.costs import PriceTable

# input $1, output $2, cache read $0.10, cache write $1.25 per million tokens
_TABLE = PriceTable({"m": (1.0, 2.0, 0.1, 1.25)})


@pytest.mark.parametrize("written", [0, -3])
def test_a_call_that_writes_nothing_to_the_cache_pays_no_write_surcharge(written: int) -> None:
    assert _TABLE.cost("m", 10, 0, cache_write_input_tokens=written) == 10 / 1e6
    assert _TABLE.cost("m", 10, 4, cache_write_input_tokens=written) == (10 + 8) / 1e6


def test_cache_reads_and_writes_together_are_clamped_to_the_input() -> None:
    # 600 of 1,000 input tokens read from the cache: at most the other 400 can be written.
    cost = _TABLE.cost("m", 1000, 0, cached_input_tokens=600, cache_write_input_tokens=800)
    assert cost == pytest.approx((600 * 0.1 + 400 * 1.25) / 1e6, rel=1e-12)
    everything = _TABLE.cost("m", 1000, 0, cached_input_tokens=1000, cache_write_input_tokens=5)
    assert everything == pytest.approx(1000 * 0.1 / 1e6, rel=1e-12)
