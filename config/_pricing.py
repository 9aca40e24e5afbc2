"""The ``pricing:`` section: model prices that replace the shipped ones.

Each item names a provider type and an upstream model, with prices in USD per million
tokens. ``cached_input`` and ``cache_write`` default to the input price, ``reasoning``
to the output price. An override replaces the shipped price entirely (including any
long-context tier).

``model: "*"`` gives the fallback price of every model of that provider type that has
no price of its own; ``provider: "*"`` with ``model: "*"`` the fallback of every
provider type. Without a price (own or fallback) a model is refused under a USD budget.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from config.model import PriceOverride
from config.provider_types import PROVIDER_TYPES

if TYPE_CHECKING:
    import yaml

    from config._nodes import Fields, NodeReader

_ANY = "*"
_PRICE_KEYS = frozenset(
    {
        "provider",
        "model",
        "input",
        "output",
        "cached_input",
        "cache_write",
        "reasoning",
        "default_output_tokens",
        "max_output_tokens",
        "effective_from",
    }
)


def read_pricing(reader: NodeReader, node: yaml.Node | None) -> tuple[PriceOverride, ...]:
    if node is None:
        return ()
    overrides: list[PriceOverride] = []
    first_lines: dict[tuple[str, str], int] = {}
    for index, item in enumerate(reader.items(node, "pricing")):
        override = _read_price(reader.fields(item, f"pricing[{index}]", _PRICE_KEYS))
        identity = (override.provider, override.model)
        if identity in first_lines:
            problem = (
                f"pricing[{index}]: a second price for {override.provider} model "
                f"'{override.model}' (the first is on line {first_lines[identity]})"
            )
            raise reader.error(item, problem)
        first_lines[identity] = override.line
        overrides.append(override)
    return tuple(overrides)


def _read_price(fields: Fields) -> PriceOverride:
    provider = fields.string("provider")
    if provider not in PROVIDER_TYPES and provider != _ANY:
        problem = (
            f"{fields.path('provider')}: unknown provider type '{provider}' "
            f'(known: {", ".join(PROVIDER_TYPES)}, or "*" for a fallback price)'
        )
        raise fields.reader.error(fields.require("provider"), problem)
    model = fields.string("model").lower()
    if provider == _ANY and model != _ANY:
        problem = f'{fields.path("model")}: a price for every provider needs model: "*"'
        raise fields.reader.error(fields.require("model"), problem)
    return PriceOverride(
        provider=provider,
        model=model,
        input=_required_number(fields, "input"),
        output=_required_number(fields, "output"),
        cached_input=fields.optional_number("cached_input", positive=False),
        cache_write=fields.optional_number("cache_write", positive=False),
        reasoning=fields.optional_number("reasoning", positive=False),
        default_output_tokens=fields.optional_integer("default_output_tokens", minimum=1),
        max_output_tokens=fields.optional_integer("max_output_tokens", minimum=1),
        effective_from=_read_date(fields),
        line=fields.line,
    )


def _required_number(fields: Fields, key: str) -> float:
    return fields.reader.number(fields.require(key), fields.path(key), positive=False)


def _read_date(fields: Fields) -> str | None:
    text = fields.optional_string("effective_from")
    if text is None:
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        problem = f"{fields.path('effective_from')}: expected a date such as '2026-12-01'"
        raise fields.reader.error(fields.require("effective_from"), problem) from None


__all__ = ["read_pricing"]
