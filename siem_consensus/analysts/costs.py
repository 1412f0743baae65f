"""What LLM calls cost, and a per-run budget that binds.

:class:`PriceTable` turns provider-reported token counts into US dollars. It never invents a
price: a model it does not know costs ``None``, and a dated snapshot id is matched to its
family only through a date suffix (``claude-sonnet-4-5-20250929`` -> ``claude-sonnet-4-5``,
``gpt-4o-2024-08-06`` -> ``gpt-4o``), so ``gpt-5-pro`` is *not* priced as ``gpt-5``.

:class:`Budget` reserves each call's worst case (estimated input, schema included, plus the
output cap) before the call and settles the provider-reported usage after it, so concurrent
calls cannot together overshoot a limit; it raises :class:`BudgetExhausted` for a call that
would not fit. :func:`require_price` refuses, at start, a money budget that an unpriced model
could never bind.
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from os import PathLike
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import ConfigError
from ._budget import Budget, BudgetExhausted, Reservation

__all__ = [
    "DEFAULT_PRICES",
    "PRICES_CHECKED",
    "Budget",
    "BudgetExhausted",
    "ModelPrice",
    "PriceTable",
    "Reservation",
    "default_prices",
    "require_price",
]

PRICES_ENV = "SIEM_CONSENSUS_PRICES"

# A snapshot suffix after a family id: Anthropic `-20250929` (or Vertex `@20250929`), OpenAI
# `-2024-08-06`, optionally followed by a Bedrock-style `-v1:0`. Anything else is another model.
_SNAPSHOT = re.compile(r"(?:[-@]\d{8}|-\d{4}-\d{2}-\d{2})?(?:-v\d+(?::\d+)?)?")


class ModelPrice(NamedTuple):
    """List price of one model, USD per million tokens."""

    input_per_mtok: float
    output_per_mtok: float
    cached_input_per_mtok: float | None = None
    """Input read from the provider's prompt cache; None: billed as ordinary input."""
    cache_write_input_per_mtok: float | None = None
    """Input written to the provider's prompt cache (Anthropic's 5-minute write: 1.25x input);
    None: billed as ordinary input."""


_PriceLike = ModelPrice | tuple[float | None, ...]


class PriceTable(Mapping[str, ModelPrice]):
    """Model id (or family prefix) -> :class:`ModelPrice`.

    Lookup order for a model id: the exact key; else the longest key that the id extends by a
    snapshot suffix (date, optional ``-vN:N``); else the longest key ending in ``*`` that
    prefixes the id (``"local:*"`` prices every local model, ``"llama3*"`` every llama3 tag).
    Ids compare case-insensitively. No match means no price.
    """

    def __init__(self, prices: Mapping[str, _PriceLike] | None = None) -> None:
        """Build a table from ``{model: (input, output[, cached_input[, cache_write_input]])}``
        in USD per 1M tokens (a cached rate may be None: billed as ordinary input).

        Args:
            prices: The entries; None means the built-in list prices (:data:`DEFAULT_PRICES`).
        """
        entries = _DEFAULT_ENTRIES if prices is None else prices
        self._prices = {key.lower(): _valid_price(key, value) for key, value in entries.items()}

    def __getitem__(self, model: str) -> ModelPrice:
        return self._prices[model.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._prices)

    def __len__(self) -> int:
        return len(self._prices)

    def __repr__(self) -> str:
        return f"PriceTable({len(self)} models)"

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> PriceTable:
        """Build a table from loaded JSON/TOML data.

        Accepts ``{model: [input, output]}``, ``{model: [input, output, cached_input]}``,
        ``{model: [input, output, cached_input, cache_write_input]}`` or ``{model: {"input": x,
        "output": y[, "cached_input": z][, "cache_write_input": w]}}``, optionally nested under
        a top-level ``"prices"`` key.

        Raises:
            ConfigError: An entry is not a pair of non-negative numbers.
        """
        entries = mapping.get("prices", mapping)
        if not isinstance(entries, Mapping):
            raise ConfigError("price table must map model ids to [input, output] USD per 1M")
        return cls({str(model): _parse_entry(str(model), raw) for model, raw in entries.items()})

    @classmethod
    def from_file(cls, path: str | PathLike[str]) -> PriceTable:
        """Load a table from a ``.toml`` or ``.json`` file (see :meth:`from_mapping`).

        Raises:
            ConfigError: The file is missing, unparsable, or holds invalid prices.
        """
        file = Path(path)
        try:
            text = file.read_text(encoding="utf-8")
            data = tomllib.loads(text) if file.suffix == ".toml" else json.loads(text)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ConfigError(f"cannot read price table {file}: {exc}") from exc
        if not isinstance(data, Mapping):
            raise ConfigError(f"price table {file} must hold a mapping, not {type(data).__name__}")
        try:
            return cls.from_mapping(data)
        except ConfigError as exc:
            raise ConfigError(f"price table {file}: {exc}") from exc

    def merged(self, other: Mapping[str, _PriceLike]) -> PriceTable:
        """A new table with ``other``'s prices added, overriding same-named entries."""
        return PriceTable({**self._prices, **{k.lower(): v for k, v in other.items()}})

    def price(self, model: str) -> ModelPrice | None:
        """The price of ``model``, or None when the table does not know it."""
        model = model.lower()
        if model in self._prices:
            return self._prices[model]
        # a snapshot of a family id before any wildcard, each the longest that matches
        for wildcard in (False, True):
            keys = [k for k in self._prices if k.endswith("*") is wildcard and _matches(k, model)]
            if keys:
                return self._prices[max(keys, key=len)]
        return None

    def cost(
        self,
        model: str,
        input_tokens: int,
        output_tokens: int,
        cached_input_tokens: int = 0,
        cache_write_input_tokens: int = 0,
    ) -> float | None:
        """US dollars for one call's tokens, or None when ``model`` has no price.

        ``cached_input_tokens`` (read from the prompt cache) and ``cache_write_input_tokens``
        (written to it) are parts of ``input_tokens``, billed at the model's cache-read and
        cache-write rates when it has them, else as ordinary input. Output tokens include any
        reasoning (thinking) tokens: providers bill those as output.
        """
        price = self.price(model)
        if price is None:
            return None
        cached = min(max(cached_input_tokens, 0), input_tokens)
        written = min(max(cache_write_input_tokens, 0), input_tokens - cached)
        base = price.input_per_mtok
        read_rate = base if price.cached_input_per_mtok is None else price.cached_input_per_mtok
        write_rate = (
            base if price.cache_write_input_per_mtok is None else price.cache_write_input_per_mtok
        )
        return (
            (input_tokens - cached - written) * base
            + cached * read_rate
            + written * write_rate
            + output_tokens * price.output_per_mtok
        ) / 1e6


def _matches(key: str, model: str) -> bool:
    if key.endswith("*"):
        return model.startswith(key[:-1])
    return model.startswith(key) and _SNAPSHOT.fullmatch(model, len(key)) is not None


def _parse_entry(model: str, raw: Any) -> tuple[float | None, ...]:
    if isinstance(raw, Mapping) and {"input", "output"} <= set(raw) <= set(_KEYS):
        return tuple(raw.get(k) for k in _KEYS)
    if isinstance(raw, list | tuple) and len(raw) in (2, 3, 4):
        return tuple(raw)
    raise ConfigError(
        f"price for {model!r} must be [input, output(, cached_input(, cache_write_input))] or "
        f"{{input = ..., output = ...(, cached_input = ...)(, cache_write_input = ...)}} in USD "
        f"per 1M tokens, got {raw!r}"
    )


_KEYS = ("input", "output", "cached_input", "cache_write_input")


def _rate(value: object) -> float | None:
    """A finite non-negative rate (None stays None).

    Raises:
        ValueError: Anything else.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(value)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(value)
    return float(value)


def _valid_price(model: str, value: _PriceLike) -> ModelPrice:
    items: tuple[object, ...] = tuple(value) if isinstance(value, tuple | list) else (value,)
    try:
        rates = [_rate(n) for n in items]
    except ValueError:
        rates = []
    input_rate, output_rate = (rates + [None, None])[:2]
    if not 2 <= len(rates) <= 4 or input_rate is None or output_rate is None:
        raise ConfigError(
            f"price for {model!r} must be two to four non-negative numbers (USD per 1M input, "
            f"output, and optionally cache-read and cache-write input tokens), got {value!r}"
        )
    read, write = (rates[2:] + [None, None])[:2]
    return ModelPrice(input_rate, output_rate, read, write)


# List prices, USD per 1M tokens, standard (non-batch, uncached) text rates, as published when
# checked (PRICES_CHECKED; the search corpus' snapshot of the pages below). Long-context surcharges
# (Anthropic > 200K input tokens on 1M-context betas; OpenAI gpt-5.4/5.5 > 272K) are not
# modelled: analyst prompts are bounded far below them. Update together with the date.
#
# Anthropic: platform.claude.com/docs/about-claude/pricing (model pricing table) and the
#   per-model pages platform.claude.com/docs/models/<model>/overview; Opus 4.7 and 4.8 (not on
#   the pricing page snapshot) from the GitHub Docs Copilot price table
#   (github/docs data/tables/copilot/models-and-pricing.yml), which matches Anthropic's figures
#   for every model both list.
# OpenAI: developers.openai.com/api/docs/pricing as quoted by the GitHub Docs table above (gpt-5
#   mini, 5.4, 5.4 mini, 5.5) and by several dated 2026 pricing write-ups (deploybase.ai March
#   2026, chatgptpricing, aumiqx April 2026) that agree with one another.
# Claude 5 (checked 2026-12): platform.claude.com/docs/<lang>/models/sonnet-5/overview and
#   .../sonnet-5-5/overview ("Input pricing $2 / MTok, Output pricing $10 / MTok"; the same pages'
#   comparison tables give Opus 5 $5/$25 and Opus 5.5 $4/$20). Sonnet 5's announced rise to
#   $3/$15 on 2026-09-01 was cancelled (apidog Sonnet 5.5 pricing write-up; the model page still
#   lists $2/$10).
# Left out on purpose (one source only, or priced per prompt-size band): gpt-5.1, gpt-5.4-nano,
#   gpt-5-pro, gpt-5.6, Fable 5.x and Haiku 5.5.
# Cached input (prompt-cache reads): Anthropic bills cache hits at 10% of the input rate on
#   every model (pricing page, "Cache Hits & Refreshes"; Sonnet 5's page: $0.20 / MTok).
# Cache writes (checked 2026-12-07): Anthropic bills input written to the prompt cache with the
#   default 5-minute TTL at 1.25x the input rate (pricing page, "Prompt caching": "5m cache
#   writes 1.25x base input"; 1-hour writes, 2x, are never requested here), so every Anthropic
#   entry carries input * 1.25 as its fourth figure. OpenAI caches automatically and bills no
#   write surcharge on these models (a write is ordinary input: no fourth figure).
# Cached input, OpenAI: listed per model, 10% of input for the gpt-5 family (gpt-5.5 $0.50,
#   gpt-5.4 $0.25), 25% for gpt-4.1, 50% for gpt-4o (openai.com pricing as quoted by several
#   dated 2026 write-ups: benchr.org, spendwall.app, plausiblereality.com, which agree).
# Reasoning (thinking) tokens are billed as output by both providers and are part of the
#   reported output count (OpenAI completion_tokens, Anthropic output_tokens).
PRICES_CHECKED = "2026-12-07"
"""When the default prices were last checked against the sources above."""

_DEFAULT_ENTRIES: dict[str, tuple[float, ...]] = {
    # (input, output, cache-read input[, cache-write input]), USD per 1M tokens
    # Anthropic, Claude 5.x (claude-sonnet-5 is the default Claude model)
    "claude-sonnet-5-5": (2.00, 10.00, 0.2, 2.5),
    "claude-sonnet-5": (2.00, 10.00, 0.2, 2.5),
    "claude-opus-5-5": (4.00, 20.00, 0.4, 5.0),
    "claude-opus-5": (5.00, 25.00, 0.5, 6.25),
    # Anthropic, Claude 4.x
    "claude-opus-4-8": (5.00, 25.00, 0.5, 6.25),
    "claude-opus-4-7": (5.00, 25.00, 0.5, 6.25),
    "claude-opus-4-6": (5.00, 25.00, 0.5, 6.25),
    "claude-opus-4-5": (5.00, 25.00, 0.5, 6.25),
    "claude-opus-4-1": (15.00, 75.00, 1.5, 18.75),
    "claude-opus-4-0": (15.00, 75.00, 1.5, 18.75),
    "claude-opus-4": (15.00, 75.00, 1.5, 18.75),  # only as claude-opus-4-20250514 (snapshot suffix)
    "claude-sonnet-4-6": (3.00, 15.00, 0.3, 3.75),
    "claude-sonnet-4-5": (3.00, 15.00, 0.3, 3.75),
    "claude-sonnet-4-0": (3.00, 15.00, 0.3, 3.75),
    "claude-sonnet-4": (3.00, 15.00, 0.3, 3.75),
    "claude-haiku-4-5": (1.00, 5.00, 0.1, 1.25),
    # OpenAI (gpt-5.5 is the default OpenAI model)
    "gpt-5.5": (5.00, 30.00, 0.5),
    "gpt-5.4": (2.50, 15.00, 0.25),
    "gpt-5.4-mini": (0.75, 4.50, 0.075),
    "gpt-5.2": (1.75, 14.00, 0.175),
    "gpt-5": (1.25, 10.00, 0.125),
    "gpt-5-mini": (0.25, 2.00, 0.025),
    "gpt-5-nano": (0.05, 0.40, 0.005),
    "gpt-4.1": (2.00, 8.00, 0.5),
    "gpt-4.1-mini": (0.40, 1.60, 0.1),
    "gpt-4.1-nano": (0.10, 0.40, 0.025),
    "gpt-4o": (2.50, 10.00, 1.25),
    "gpt-4o-mini": (0.15, 0.60, 0.075),
}

#: The built-in list prices (what ``PriceTable()`` holds); see the sources above.
DEFAULT_PRICES = PriceTable()


def default_prices() -> PriceTable:
    """The built-in prices, merged with the file named by ``SIEM_CONSENSUS_PRICES`` if set.

    Raises:
        ConfigError: The file named by the variable cannot be read or holds invalid prices.
    """
    path = os.environ.get(PRICES_ENV)
    return DEFAULT_PRICES if not path else DEFAULT_PRICES.merged(PriceTable.from_file(path))


def require_price(model: str, prices: PriceTable, budget: Budget | None) -> None:
    """Refuse a money budget that ``model`` could never bind (no price for it).

    Raises:
        ConfigError: ``budget`` has ``max_cost_usd`` and ``prices`` has no price for ``model``;
            the message says how to supply one.
    """
    if budget is None or budget.max_cost_usd is None or prices.price(model) is not None:
        return
    raise ConfigError(
        f"model {model!r} has no price, so a ${budget.max_cost_usd:g} budget could not bind: "
        f"supply its price (USD per 1M input and output tokens) with "
        f"LLMSettings(prices=DEFAULT_PRICES.merged({{{model!r}: (input, output)}})) or a "
        f"TOML/JSON price file named by {PRICES_ENV} (e.g. {model} = [1.0, 4.0]); "
        "or use a token budget"
    )
