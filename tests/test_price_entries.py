"""What a price entry may hold (``analysts/costs.py``): three or four figures in a price file,
the entries a table refuses and the exact words of the refusal, ids merged as written, the
longest of several matching keys, and a price file read as UTF-8 whatever the locale."""

from __future__ import annotations

import locale
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from siem_consensus.analysts.costs import DEFAULT_PRICES, ModelPrice, PriceTable
from siem_consensus.errors import ConfigError

_MUST_BE = (
    "price for 'm' must be two to four non-negative numbers (USD per 1M input, output, and "
    "optionally cache-read and cache-write input tokens), got "
)


def test_a_price_file_entry_of_three_figures_sets_the_cache_read_rate() -> None:
    table = PriceTable.from_mapping({"prices": {"m": [1.0, 2.0, 0.1]}})
    assert table.price("m") == ModelPrice(1.0, 2.0, 0.1, None)
    assert table.cost("m", 1_000_000, 0, cached_input_tokens=500_000) == pytest.approx(0.55)


def test_a_price_file_entry_of_four_figures_sets_the_cache_write_rate() -> None:
    table = PriceTable.from_mapping({"m": [1.0, 2.0, 0.1, 1.25]})
    assert table.price("m") == ModelPrice(1.0, 2.0, 0.1, 1.25)
    assert table.cost("m", 1_000_000, 0, cache_write_input_tokens=1_000_000) == 1.25


@pytest.mark.parametrize(
    "value",
    [(1.0, 2.0, 0.1, 1.25, 9.0), 3.0, None, ("1", 2.0), (True, 2.0), (1.0, False)],
    ids=["five figures", "a number", "None", "a string", "true", "false"],
)
def test_a_table_refuses_an_entry_that_is_not_two_to_four_numbers(value: object) -> None:
    with pytest.raises(ConfigError) as info:
        PriceTable({"m": value})  # type: ignore[dict-item]
    assert str(info.value) == f"{_MUST_BE}{value!r}"
    with pytest.raises(ConfigError, match=re.escape(f"{_MUST_BE}{value!r}")):
        DEFAULT_PRICES.merged({"m": value})  # type: ignore[dict-item]


def test_a_price_list_that_is_not_a_mapping_is_refused_in_these_words() -> None:
    with pytest.raises(ConfigError) as info:
        PriceTable.from_mapping({"prices": [1.0, 2.0]})
    assert str(info.value) == "price table must map model ids to [input, output] USD per 1M"


@pytest.mark.parametrize("model", ["Straße-7B", "ﬁnch-2", "local:Iı-tag", "Acme-1"])
def test_merging_prices_a_model_under_the_id_it_was_given(model: str) -> None:
    merged = PriceTable({}).merged({model: (1.0, 2.0)})
    assert dict(merged) == dict(PriceTable({model: (1.0, 2.0)}))
    assert merged.price(model) == ModelPrice(1.0, 2.0)


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("acme (beta) large", ModelPrice(2.0, 2.0)),  # ' ' sorts before '*': still the longest
        ("acme!pro", ModelPrice(3.0, 3.0)),
        ("acme-pro", ModelPrice(1.0, 1.0)),
    ],
)
def test_the_longest_matching_wildcard_wins_whatever_its_characters(
    model: str, expected: ModelPrice
) -> None:
    table = PriceTable({"acme*": (1, 1), "acme (beta)*": (2, 2), "acme!*": (3, 3)})
    assert table.price(model) == expected


@pytest.fixture
def ascii_locale() -> Iterator[None]:
    """The C locale's ASCII as the default text encoding, for this test only."""
    previous = locale.setlocale(locale.LC_CTYPE)
    locale.setlocale(locale.LC_CTYPE, "C")
    try:
        if locale.getpreferredencoding(False).lower().replace("-", "") == "utf8":
            pytest.skip("the interpreter reads text as UTF-8 whatever the locale (UTF-8 mode)")
        yield
    finally:
        locale.setlocale(locale.LC_CTYPE, previous)


@pytest.mark.usefixtures("ascii_locale")
def test_a_price_file_is_read_as_utf8_whatever_the_locale(tmp_path: Path) -> None:
    file = tmp_path / "prices.toml"
    file.write_text('# list prices in € per 1M tokens\n"modèle" = [1.0, 2.0]\n', encoding="utf-8")
    assert PriceTable.from_file(file).price("modèle") == ModelPrice(1.0, 2.0)
