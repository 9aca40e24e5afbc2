"""Model prices, and what a ``Usage`` costs.

The shipped table (``budgets/data/model_prices.json``, USD per million tokens, derived
by ``scripts/derive_prices.py``) is keyed by provider *type* and upstream model; the
config's ``pricing:`` section replaces entries. A model not in the table has no price:
its cost is ``None`` (NULL in SQL), never a silent 0, and ``Pricer`` warns once per model.

The arithmetic follows ``messages.usage``: ``input_tokens`` includes the cached and
cache-write parts, ``output_tokens`` includes the reasoning part. So::

    cost = (input - cached - cache_write) · input_price + cached · cached_input_price
         + cache_write · cache_write_price + (output - reasoning) · output_price
         + reasoning · reasoning_price

A missing cached, cache-write or reasoning price bills those tokens at the plain input
or output price. Token counts are range-checked here too (defence in depth; providers'
usage is sanitised where it is read): a negative count is 0 and a count above
``MAX_TOKENS`` is ``MAX_TOKENS``, so a cost is never negative, NaN or infinite.

A ``pricing:`` entry with ``model: "*"`` is the fallback price of every unlisted model of
its provider type, and ``provider: "*"`` (with ``model: "*"``) of every provider type;
such a price's ``source`` is ``fallback`` (the others: ``shipped`` or ``config``).

A long-context tier (Gemini above 200k, GPT-5.5 above 272k…) prices the *whole* request
once its prompt (``input_tokens``) passes the tier's threshold.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any

import structlog

from config.model import PriceOverride
from messages.usage import Usage

log = structlog.get_logger("switchyard.pricing")

PER_TOKEN = 1e-6  # prices are per million tokens
MAX_TOKENS = 2**53
"""The largest token count priced; a larger one (a hostile or broken usage) is capped."""
ANY = "*"
"""The wildcard of a fallback price's ``provider`` and ``model``."""
_DATED = re.compile(r"-(\d{8}|\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True, slots=True, kw_only=True)
class TierPrice:
    """The prices of a whole request whose prompt is above ``above_tokens``."""

    above_tokens: int
    input: float
    cached_input: float | None = None
    cache_write: float | None = None
    output: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelPrice:
    provider: str  # provider type
    model: str
    input: float
    output: float
    cached_input: float | None = None
    cache_write: float | None = None
    reasoning: float | None = None
    max_output_tokens: int | None = None
    default_output_tokens: int | None = None
    tier: TierPrice | None = None
    effective_from: date | None = None  # None: from when the gateway loads it
    source: str = "shipped"

    def at_prompt(self, input_tokens: int) -> ModelPrice:
        """The prices that apply to a request whose prompt has ``input_tokens``."""
        tier = self.tier
        if tier is None or input_tokens <= tier.above_tokens:
            return self
        return replace(
            self,
            input=tier.input,
            output=tier.output if tier.output is not None else self.output,
            cached_input=tier.cached_input if tier.cached_input is not None else tier.input,
            cache_write=tier.cache_write if tier.cache_write is not None else tier.input,
            tier=None,
        )


def usage_cost(price: ModelPrice, usage: Usage) -> float:
    """USD for ``usage`` at ``price`` (see the module docstring for the arithmetic)."""
    input_tokens = _count(usage.input_tokens)
    output_tokens = _count(usage.output_tokens)
    p = price.at_prompt(input_tokens)
    cached = min(_count(usage.cached_input_tokens), input_tokens)
    written = min(_count(usage.cache_write_tokens), input_tokens - cached)
    fresh = input_tokens - cached - written
    reasoning = min(_count(usage.reasoning_tokens), output_tokens)
    visible = output_tokens - reasoning
    dollars_per_m = (
        fresh * p.input
        + cached * _or(p.cached_input, p.input)
        + written * _or(p.cache_write, p.input)
        + visible * p.output
        + reasoning * _or(p.reasoning, p.output)
    )
    return safe_cost(dollars_per_m * PER_TOKEN)


def safe_cost(usd: float) -> float:
    """``usd`` if it is a finite amount >= 0; else 0.0 for a negative or NaN amount and
    the largest float for +infinity (a cost never credits a budget or poisons its sum)."""
    if usd >= 0.0:
        return usd if usd <= _MAX_USD else _MAX_USD
    return 0.0


_MAX_USD = 1e300


def _count(tokens: object) -> int:
    """A token count in ``[0, MAX_TOKENS]`` (anything but an int counts as 0)."""
    if type(tokens) is int:  # the usual case, and not a bool
        return tokens if 0 <= tokens <= MAX_TOKENS else (0 if tokens < 0 else MAX_TOKENS)
    return 0


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


class PriceTable:
    """Prices by ``(provider type, model)``; models match case-insensitively, and a
    dated snapshot (``…-20250929``, ``…-2026-04-23``) not listed falls back to its alias."""

    def __init__(self, prices: Iterable[ModelPrice]) -> None:
        self._prices = {(p.provider, p.model.lower()): p for p in prices}

    @classmethod
    def shipped(cls) -> PriceTable:
        return cls(read_price_document(_shipped_document()))

    def __iter__(self) -> Iterator[ModelPrice]:
        return iter(self._prices.values())

    def __len__(self) -> int:
        return len(self._prices)

    def find(self, provider_type: str, model: str) -> ModelPrice | None:
        name = model.lower().removeprefix("models/")
        found = self._prices.get((provider_type, name))
        if found is None and (dated := _DATED.search(name)):
            found = self._prices.get((provider_type, name[: dated.start()]))
        if found is None:
            found = self._prices.get((provider_type, ANY)) or self._prices.get((ANY, ANY))
        return found

    def with_overrides(self, overrides: Sequence[PriceOverride]) -> PriceTable:
        prices = dict(self._prices)
        for override in overrides:
            price = _from_override(override)
            listed = prices.get((price.provider, price.model))
            if price.max_output_tokens is None and listed is not None:
                # the ceiling is a fact about the model, not its price: keep the list's
                price = replace(price, max_output_tokens=listed.max_output_tokens)
            prices[(price.provider, price.model)] = price
        return PriceTable(prices.values())


KEPT_TABLES = 8
"""Price tables kept after a reload replaced them, for events dated before it."""


class Pricer:
    """``PriceTable`` lookups that warn once per unpriced model (a log line, not a 0)."""

    def __init__(self, table: PriceTable) -> None:
        self._table = table
        self._until: list[tuple[float, PriceTable]] = []  # earlier tables, and their end
        self._warned: set[tuple[str, str]] = set()

    @property
    def table(self) -> PriceTable:
        return self._table

    def use(self, table: PriceTable, since: float | None = None) -> None:
        """Price with ``table`` from ``since`` on (unix seconds: a reload's moment). What
        happened before it keeps the table it ran under — the audit logger may price a
        request that finished before the reload after it."""
        if since is not None:
            self._until = [*self._until[-(KEPT_TABLES - 1) :], (since, self._table)]
        self._table = table
        self._warned.clear()

    def cost(self, provider_type: str, model: str, usage: Usage | None) -> float | None:
        """USD for ``usage``; 0.0 without usage; ``None`` when the model has no price."""
        return self.priced(provider_type, model, usage)[0]

    def priced(
        self, provider_type: str, model: str, usage: Usage | None, at: float | None = None
    ) -> tuple[float | None, str | None]:
        """``cost`` (at the prices in force ``at``, if given) and where its price came
        from (``ModelPrice.source``; ``None`` without usage or without a price)."""
        if usage is None or (usage.input_tokens <= 0 and usage.output_tokens <= 0):
            return 0.0, None
        table = self._table
        if at is not None and self._until:
            table = next((old for until, old in self._until if at < until), table)
        price = table.find(provider_type, model)
        if price is None:
            self._warn(provider_type, model)
            return None, None
        return usage_cost(price, usage), price.source

    def _warn(self, provider_type: str, model: str) -> None:
        if (provider_type, model) in self._warned:
            return
        self._warned.add((provider_type, model))
        log.warning(
            "model has no price: its cost is recorded as NULL; under a USD budget it is refused",
            provider_type=provider_type,
            model=model,
            fix="add it under 'pricing:' in the config",
        )


def read_price_document(document: Mapping[str, Any]) -> list[ModelPrice]:
    """The prices of a document in the shipped file's layout."""
    effective = date.fromisoformat(document["effective_from"])
    return [_from_row(row, effective) for row in document["prices"]]


def _from_row(row: Mapping[str, Any], effective: date) -> ModelPrice:
    above = row.get("above")
    tier = None
    if above is not None and above.get("input") is not None:
        tier = TierPrice(
            above_tokens=above["tokens"],
            input=above["input"],
            cached_input=above.get("cached_input"),
            cache_write=above.get("cache_write"),
            output=above.get("output"),
        )
    return ModelPrice(
        provider=row["provider"],
        model=row["model"],
        input=row["input"],
        output=row["output"],
        cached_input=row.get("cached_input"),
        cache_write=row.get("cache_write"),
        reasoning=row.get("reasoning"),
        max_output_tokens=row.get("max_output_tokens"),
        tier=tier,
        effective_from=effective,
    )


def _from_override(override: PriceOverride) -> ModelPrice:
    effective = override.effective_from
    return ModelPrice(
        provider=override.provider,
        model=override.model.lower(),
        input=override.input,
        output=override.output,
        cached_input=override.cached_input,
        cache_write=override.cache_write,
        reasoning=override.reasoning,
        default_output_tokens=override.default_output_tokens,
        max_output_tokens=override.max_output_tokens,
        effective_from=None if effective is None else date.fromisoformat(effective),
        source="fallback" if override.model == ANY else "config",
    )


def _shipped_document() -> dict[str, Any]:
    text = resources.files("budgets").joinpath("data/model_prices.json").read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def effective_datetime(price: ModelPrice, *, loaded_at: float) -> datetime:
    """When ``price`` took effect: its date at 00:00 UTC, or ``loaded_at`` if it has none."""
    if price.effective_from is None:
        return datetime.fromtimestamp(loaded_at, UTC)
    return datetime.combine(price.effective_from, datetime.min.time(), UTC)


__all__ = [
    "ANY",
    "MAX_TOKENS",
    "PER_TOKEN",
    "ModelPrice",
    "PriceTable",
    "Pricer",
    "TierPrice",
    "effective_datetime",
    "read_price_document",
    "safe_cost",
    "usage_cost",
]
