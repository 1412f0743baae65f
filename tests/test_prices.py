"""The price table's exact rules (``analysts/costs.py``): which ids a family key prices, how
cached input is clamped, what each refusal says, and the start-up check that refuses a money
budget an unpriced model could never bind."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from siem_consensus.analysts.costs import (
    DEFAULT_PRICES,
    PRICES_ENV,
    Budget,
    ModelPrice,
    PriceTable,
    default_prices,
    require_price,
)
from siem_consensus.errors import ConfigError


@pytest.mark.parametrize(
    ("model", "priced"),
    [
        ("fam", True),
        ("FAM", True),
        ("fam-20250929", True),
        ("fam@20250929", True),
        ("fam-2024-08-06", True),
        ("fam-20250929-v1:0", True),
        ("fam-v2", True),
        ("fam-v2:1", True),
        ("fam-2025092", False),  # seven digits: another model
        ("fam-2024-8-06", False),
        ("fam-pro", False),
        ("fam-20250929-extra", False),
        ("xfam", False),
        ("local:anything", True),
        ("local", False),
    ],
)
def test_a_family_key_prices_only_its_snapshots(model: str, priced: bool) -> None:
    table = PriceTable({"fam": (1.0, 2.0), "local:*": (0.0, 0.0)})
    assert (table.price(model) is not None) is priced


def test_the_longest_matching_key_wins() -> None:
    table = PriceTable({"m": (1, 1), "m-large": (5, 5), "m-l*": (7, 7), "n*": (9, 9)})
    assert table.price("m-large-20250101") == ModelPrice(5.0, 5.0)
    assert table.price("m-lite") == ModelPrice(7.0, 7.0)
    assert table.price("m-20250101") == ModelPrice(1.0, 1.0)
    assert table.price("n") == ModelPrice(9.0, 9.0)


def test_a_snapshot_of_a_family_id_wins_over_a_longer_wildcard() -> None:
    table = PriceTable({"m": (1, 1), "m*": (3, 3), "m-2025*": (4, 4)})
    assert table.price("m-20250101") == ModelPrice(1.0, 1.0)  # the documented order
    assert table.price("m-large") == ModelPrice(3.0, 3.0)  # no family id: the wildcard
    assert table.price("m-2025-beta") == ModelPrice(4.0, 4.0)  # the longest wildcard


def test_cached_tokens_are_clamped_to_the_input() -> None:
    table = PriceTable({"m": (10.0, 100.0, 1.0)})
    million = 1_000_000
    assert table.cost("m", million, 0) == 10.0  # exactly: per million tokens
    assert table.cost("m", 0, 3 * million) == 300.0
    assert table.cost("m", million, 0, cached_input_tokens=-5) == pytest.approx(10.0)
    assert table.cost("m", million, 0, cached_input_tokens=2 * million) == pytest.approx(1.0)
    assert table.cost("m", million, million, cached_input_tokens=million // 2) == pytest.approx(
        5.0 + 0.5 + 100.0
    )


def test_a_table_is_a_mapping_of_lower_case_ids() -> None:
    table = PriceTable({"Big-Model": (1, 2, None)})
    assert list(table) == ["big-model"] and len(table) == 1
    assert table["BIG-MODEL"] == ModelPrice(1.0, 2.0, None)  # a None cached rate is no rate
    assert repr(table) == "PriceTable(1 models)"
    merged = table.merged({"Other": (3, 4)})
    assert sorted(merged) == ["big-model", "other"] and len(table) == 1


def test_refusals_say_what_a_price_must_be() -> None:
    with pytest.raises(
        ConfigError,
        match=re.escape(
            "price for 'm' must be two to four non-negative numbers (USD per 1M input, output, "
            "and optionally cache-read and cache-write input tokens), got (1.0, inf)"
        ),
    ):
        PriceTable({"m": (1.0, float("inf"))})
    with pytest.raises(
        ConfigError,
        match=re.escape(
            "price for 'm' must be [input, output(, cached_input(, cache_write_input))] or "
            "{input = ..., output = ...(, cached_input = ...)(, cache_write_input = ...)} in USD "
            "per 1M tokens, got {'input': 1}"
        ),
    ):
        PriceTable.from_mapping({"m": {"input": 1}})
    with pytest.raises(
        ConfigError, match=re.escape("price table must map model ids to [input, output] USD per 1M")
    ):
        PriceTable.from_mapping({"prices": [1, 2]})


def test_a_price_file_must_hold_a_mapping(tmp_path: Path) -> None:
    listed = tmp_path / "prices.json"
    listed.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(
        ConfigError, match=f"price table {re.escape(str(listed))} must hold a mapping, not list"
    ):
        PriceTable.from_file(listed)


def test_default_prices_merge_the_file_named_by_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PRICES_ENV, raising=False)
    assert default_prices() is DEFAULT_PRICES
    extra = tmp_path / "prices.toml"
    extra.write_text('"acme-1" = [1.0, 4.0]\n"gpt-4o" = [9.0, 9.0]\n', encoding="utf-8")
    monkeypatch.setenv(PRICES_ENV, str(extra))
    merged = default_prices()
    assert merged.price("acme-1") == ModelPrice(1.0, 4.0)
    assert merged.price("gpt-4o") == ModelPrice(9.0, 9.0)
    assert merged.price("claude-sonnet-5") == DEFAULT_PRICES.price("claude-sonnet-5")


def test_a_money_budget_needs_a_priced_model() -> None:
    require_price("acme-1", DEFAULT_PRICES, None)
    require_price("acme-1", DEFAULT_PRICES, Budget(max_tokens=10))
    require_price("gpt-4o", DEFAULT_PRICES, Budget(max_cost_usd=1.0))
    with pytest.raises(ConfigError) as info:
        require_price("acme-1", DEFAULT_PRICES, Budget(max_cost_usd=2.5))
    assert str(info.value) == (
        "model 'acme-1' has no price, so a $2.5 budget could not bind: supply its price (USD per "
        "1M input and output tokens) with LLMSettings(prices=DEFAULT_PRICES.merged({'acme-1': "
        f"(input, output)}})) or a TOML/JSON price file named by {PRICES_ENV} (e.g. acme-1 = "
        "[1.0, 4.0]); or use a token budget"
    )
