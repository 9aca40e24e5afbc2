"""Prices in SQL: ``model_prices`` keeps every price the gateway has used, by date.

``sync_prices`` adds a row for each price that is new or differs from the latest row
of its model; the new row takes effect at the price's own ``effective_from`` when that
is later than the latest row's, else at ``now`` — a change never rewrites the past.
``price_at`` answers which price applied to a model at a moment.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from budgets.pricing import ModelPrice, PriceTable, effective_datetime
from storage.budget_tables import model_prices
from storage.database import insert_new_only

_PRICE_COLUMNS = (
    "input_per_mtok",
    "cached_input_per_mtok",
    "cache_write_per_mtok",
    "output_per_mtok",
    "reasoning_per_mtok",
    "tier_above_tokens",
    "tier_input_per_mtok",
    "tier_cached_input_per_mtok",
    "tier_cache_write_per_mtok",
    "tier_output_per_mtok",
)


def price_columns(price: ModelPrice) -> dict[str, Any]:
    tier = price.tier
    return {
        "input_per_mtok": price.input,
        "cached_input_per_mtok": price.cached_input,
        "cache_write_per_mtok": price.cache_write,
        "output_per_mtok": price.output,
        "reasoning_per_mtok": price.reasoning,
        "tier_above_tokens": None if tier is None else tier.above_tokens,
        "tier_input_per_mtok": None if tier is None else tier.input,
        "tier_cached_input_per_mtok": None if tier is None else tier.cached_input,
        "tier_cache_write_per_mtok": None if tier is None else tier.cache_write,
        "tier_output_per_mtok": None if tier is None else tier.output,
    }


def sync_prices(engine: Engine, table: PriceTable, *, now: float) -> int:
    """Record the prices of ``table`` that SQL does not have yet; returns how many."""
    loaded_at = datetime.fromtimestamp(now, UTC)
    with engine.begin() as connection:
        latest = _latest_rows(connection)
        rows = []
        for price in table:
            current = latest.get((price.provider, price.model))
            columns = price_columns(price)
            if current is not None and all(current[k] == v for k, v in columns.items()):
                continue
            effective = effective_datetime(price, loaded_at=now)
            if current is not None and effective <= current["effective_from"]:
                effective = loaded_at
            rows.append(
                {
                    "provider": price.provider,
                    "model": price.model,
                    "effective_from": effective,
                    **columns,
                    "source": price.source,
                    "loaded_at": loaded_at,
                }
            )
        if rows:
            connection.execute(insert_new_only(connection, model_prices), rows)
    return len(rows)


def price_at(engine: Engine, provider: str, model: str, at: float) -> dict[str, Any] | None:
    """The ``model_prices`` row in force for ``(provider, model)`` at ``at``."""
    query = (
        sa.select(model_prices)
        .where(
            model_prices.c.provider == provider,
            model_prices.c.model == model.lower(),
            model_prices.c.effective_from <= datetime.fromtimestamp(at, UTC),
        )
        .order_by(model_prices.c.effective_from.desc())
        .limit(1)
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    return None if row is None else dict(row._mapping)


def _latest_rows(connection: sa.Connection) -> dict[tuple[str, str], dict[str, Any]]:
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    query = sa.select(model_prices).order_by(model_prices.c.effective_from)
    for row in connection.execute(query):
        latest[(row.provider, row.model)] = dict(row._mapping)
    return latest


__all__ = ["price_at", "price_columns", "sync_prices"]
