"""What LLM calls cost, and a per-run budget that stops spending when a limit is reached.

:class:`PriceTable` turns provider-reported token counts into US dollars. It never invents a
price: a model it does not know costs ``None``, and a dated snapshot id is matched to its
family only through a date suffix (``claude-sonnet-4-5-20250929`` -> ``claude-sonnet-4-5``,
``gpt-4o-2024-08-06`` -> ``gpt-4o``), so ``gpt-5-pro`` is *not* priced as ``gpt-5``.

:class:`Budget` adds up :class:`~siem_consensus.models.Usage` records and raises
:class:`BudgetExhausted` before a call that would go over a token or money limit.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import tomllib
from collections.abc import Iterator, Mapping
from os import PathLike
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import ConfigError, RuntimeFailure
from ..models import Usage

__all__ = [
    "DEFAULT_PRICES",
    "Budget",
    "BudgetExhausted",
    "ModelPrice",
    "PriceTable",
]

_log = logging.getLogger(__name__)

# A snapshot suffix after a family id: Anthropic `-20250929` (or Vertex `@20250929`), OpenAI
# `-2024-08-06`, optionally followed by a Bedrock-style `-v1:0`. Anything else is another model.
_SNAPSHOT = re.compile(r"(?:[-@]\d{8}|-\d{4}-\d{2}-\d{2})?(?:-v\d+(?::\d+)?)?")


class ModelPrice(NamedTuple):
    """List price of one model, USD per million tokens."""

    input_per_mtok: float
    output_per_mtok: float


_PriceLike = ModelPrice | tuple[float, float]


class PriceTable(Mapping[str, ModelPrice]):
    """Model id (or family prefix) -> :class:`ModelPrice`.

    Lookup order for a model id: the exact key; else the longest key that the id extends by a
    snapshot suffix (date, optional ``-vN:N``); else the longest key ending in ``*`` that
    prefixes the id (``"local:*"`` prices every local model, ``"llama3*"`` every llama3 tag).
    Ids compare case-insensitively. No match means no price.
    """

    def __init__(self, prices: Mapping[str, _PriceLike] | None = None) -> None:
        """Build a table from ``{model: (input_usd_per_mtok, output_usd_per_mtok)}``.

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

        Accepts ``{model: [input, output]}`` or ``{model: {"input": x, "output": y}}``,
        optionally nested under a top-level ``"prices"`` key.

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
        best: str | None = None
        for key in self._prices:
            if _matches(key, model) and (best is None or len(key) > len(best)):
                best = key
        return None if best is None else self._prices[best]

    def cost(self, model: str, input_tokens: int, output_tokens: int) -> float | None:
        """US dollars for one call's tokens, or None when ``model`` has no price."""
        price = self.price(model)
        if price is None:
            return None
        return (input_tokens * price.input_per_mtok + output_tokens * price.output_per_mtok) / 1e6


def _matches(key: str, model: str) -> bool:
    if key.endswith("*"):
        return model.startswith(key[:-1])
    return model.startswith(key) and _SNAPSHOT.fullmatch(model, len(key)) is not None


def _parse_entry(model: str, raw: Any) -> tuple[float, float]:
    if isinstance(raw, Mapping) and set(raw) == {"input", "output"}:
        raw = (raw["input"], raw["output"])
    if isinstance(raw, list | tuple) and len(raw) == 2:
        return (raw[0], raw[1])
    raise ConfigError(
        f"price for {model!r} must be [input, output] or {{input = ..., output = ...}} "
        f"in USD per 1M tokens, got {raw!r}"
    )


def _valid_price(model: str, value: _PriceLike) -> ModelPrice:
    items: tuple[object, ...] = tuple(value) if isinstance(value, tuple | list) else (value,)
    numbers = [n for n in items if isinstance(n, int | float) and not isinstance(n, bool)]
    valid = len(numbers) == len(items) == 2 and all(math.isfinite(n) and n >= 0 for n in numbers)
    if not valid:
        raise ConfigError(
            f"price for {model!r} must be two non-negative numbers (USD per 1M input and "
            f"output tokens), got {value!r}"
        )
    return ModelPrice(float(numbers[0]), float(numbers[1]))


# List prices, USD per 1M tokens, standard (non-batch, uncached) text rates, as published when
# checked on 2026-11 (the search corpus' snapshot of the pages below). Long-context surcharges
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
# Left out on purpose (one source only, or priced per prompt-size band): gpt-5.1, gpt-5.4-nano,
#   gpt-5-pro, gpt-5.6, Claude 5.x and Haiku 5.5.
_DEFAULT_ENTRIES: dict[str, tuple[float, float]] = {
    # Anthropic, Claude 4.x
    "claude-opus-4-8": (5.00, 25.00),
    "claude-opus-4-7": (5.00, 25.00),
    "claude-opus-4-6": (5.00, 25.00),
    "claude-opus-4-5": (5.00, 25.00),
    "claude-opus-4-1": (15.00, 75.00),
    "claude-opus-4-0": (15.00, 75.00),
    "claude-opus-4": (15.00, 75.00),  # only as claude-opus-4-20250514 (snapshot suffix)
    "claude-sonnet-4-6": (3.00, 15.00),
    "claude-sonnet-4-5": (3.00, 15.00),
    "claude-sonnet-4-0": (3.00, 15.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-haiku-4-5": (1.00, 5.00),
    # OpenAI
    "gpt-5.5": (5.00, 30.00),
    "gpt-5.4": (2.50, 15.00),
    "gpt-5.4-mini": (0.75, 4.50),
    "gpt-5.2": (1.75, 14.00),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
}

#: The built-in list prices (what ``PriceTable()`` holds); see the sources above.
DEFAULT_PRICES = PriceTable()


class BudgetExhausted(RuntimeFailure):
    """A run's token or money budget would be exceeded: no further LLM calls are made.

    Attributes:
        limit: ``"tokens"`` or ``"cost_usd"``.
        spent: Amount already spent against that limit.
        estimate: What the refused call was expected to add.
        maximum: The configured limit.
    """

    def __init__(self, limit: str, *, spent: float, estimate: float, maximum: float) -> None:
        unit, label = ("tokens", "token") if limit == "tokens" else ("USD", "cost")
        if spent >= maximum:
            figures = f"spent {spent:g} {unit}, reaching the limit of {maximum:g} {unit}"
        else:
            figures = (
                f"spent {spent:g} {unit} + estimated {estimate:g} for the next call would "
                f"exceed the limit of {maximum:g} {unit}"
            )
        super().__init__(
            f"{label} budget exhausted: {figures}; raise max_{limit} or enable the response "
            "cache to make fewer calls"
        )
        self.limit = limit
        self.spent = spent
        self.estimate = estimate
        self.maximum = maximum


class Budget:
    """Token and money limits for one run, shared by every analyst call.

    Check before a call with :meth:`check` and :meth:`record` the provider-reported usage after
    it. Usage answered from the response cache (``Usage.cached``) costs nothing and is ignored.
    A usage whose cost is unknown (``cost_usd is None``: the model is not in the price table)
    counts its tokens but cannot exhaust a money budget; a warning is logged once per budget.

    Concurrency: ``check`` and ``record`` never await, so asyncio tasks in one loop cannot
    interleave inside them; a ``threading.Lock`` (held for a few additions, never across an
    await) also makes the budget safe when graph nodes run in worker threads. Checks are not
    reservations: calls checked concurrently may together overshoot a limit by at most what
    the in-flight calls use, which the concurrency limit bounds.
    """

    def __init__(self, max_tokens: int | None = None, max_cost_usd: float | None = None) -> None:
        """Set the limits; None means unlimited.

        Args:
            max_tokens: Input plus output tokens allowed for the run.
            max_cost_usd: US dollars allowed for the run (priced models only).
        """
        if max_tokens is not None and max_tokens < 0:
            raise ConfigError(f"max_tokens must be >= 0, got {max_tokens}")
        if max_cost_usd is not None and not max_cost_usd >= 0:
            raise ConfigError(f"max_cost_usd must be >= 0, got {max_cost_usd}")
        self.max_tokens = max_tokens
        self.max_cost_usd = max_cost_usd
        self._lock = threading.Lock()
        self._tokens = 0
        self._cost = 0.0
        self._unpriced = 0
        self._warned = False

    @property
    def spent_tokens(self) -> int:
        """Input plus output tokens recorded so far."""
        return self._tokens

    @property
    def spent_cost_usd(self) -> float:
        """US dollars recorded so far (unpriced usage adds nothing)."""
        return self._cost

    @property
    def unpriced_calls(self) -> int:
        """Recorded usages whose cost was unknown."""
        return self._unpriced

    @property
    def exhausted(self) -> bool:
        """Whether a limit has been reached: any further call would be refused."""
        return self._over_tokens(0) or self._over_cost()

    def _over_tokens(self, estimate: int) -> bool:
        limit = self.max_tokens
        return limit is not None and (self._tokens >= limit or self._tokens + estimate > limit)

    def _over_cost(self) -> bool:
        return self.max_cost_usd is not None and self._cost >= self.max_cost_usd

    def check(self, estimated_tokens: int = 0) -> None:
        """Refuse a call that would go over a limit.

        Args:
            estimated_tokens: Tokens the next call is expected to use (prompt estimate plus
                ``max_tokens`` of the answer); 0 just checks what is already spent.

        Raises:
            BudgetExhausted: A limit is already reached, or the estimate would pass it.
        """
        with self._lock:
            if self._over_tokens(estimated_tokens):
                assert self.max_tokens is not None
                raise BudgetExhausted(
                    "tokens",
                    spent=self._tokens,
                    estimate=estimated_tokens,
                    maximum=self.max_tokens,
                )
            if self._over_cost():
                assert self.max_cost_usd is not None
                raise BudgetExhausted(
                    "cost_usd",
                    spent=round(self._cost, 6),
                    estimate=0,
                    maximum=self.max_cost_usd,
                )

    def record(self, usage: Usage) -> None:
        """Add one analyst's provider-reported usage (cached answers are free)."""
        if usage.cached:
            return
        with self._lock:
            self._tokens += usage.input_tokens + usage.output_tokens
            if usage.cost_usd is not None:
                self._cost += usage.cost_usd
                return
            self._unpriced += 1
            warn = self.max_cost_usd is not None and not self._warned
            self._warned = self._warned or warn
        if warn:
            _log.warning(
                "usage with no known price was recorded: its tokens count against max_tokens "
                "but cannot exhaust max_cost_usd=%s; add the model to the price table",
                self.max_cost_usd,
            )

    def __repr__(self) -> str:
        return (
            f"Budget(spent_tokens={self._tokens}, max_tokens={self.max_tokens}, "
            f"spent_cost_usd={self._cost:.6f}, max_cost_usd={self.max_cost_usd})"
        )
