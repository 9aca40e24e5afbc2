"""The budget, key and price tables (on ``storage.schema.metadata``, like the trail's).

``model_prices``
    every price the gateway has used, USD per million tokens, keyed by provider type,
    model and ``effective_from``: the row in force for a request is the latest one
    effective at its start, so a price change never rewrites the past.
``virtual_keys``
    keys made by ``switchyard keys create``: the SHA-256 of the secret, never the secret.
``budgets``
    budgets set with ``switchyard budgets set`` (the config's live in the config file).
``budget_counters``
    what the running accountant counts for every budget in force (config and CLI),
    rewritten about once a second: its window, its spend and what requests in flight
    hold. ``budget_status`` sets it beside the spend summed from the trail.
``budget_pools`` / ``budget_leases``
    shared budgets and rate limits (replicas): per budget and period — or step of a
    window, ``window_s`` — what the pool has granted (``allocated``: USD, or requests
    and tokens for the ``requests/minute`` and ``tokens/minute`` pools), and per replica
    what it holds and has reported consumed (see ``budgets.leases``,
    ``storage.lease_store``). Times are unix seconds.
"""

from __future__ import annotations

import sqlalchemy as sa

from storage.schema import UtcDateTime, metadata

BUDGET_LEVELS = ("customer", "team", "virtual_key", "provider")
_LEVEL_CHECK = "level IN ({})".format(", ".join(f"'{level}'" for level in BUDGET_LEVELS))
_PRICES = ("input", "cached_input", "cache_write", "output", "reasoning")
_TIER_PRICES = ("input", "cached_input", "cache_write", "output")


def _price_columns() -> list[sa.Column[float]]:
    columns = [
        sa.Column(f"{name}_per_mtok", sa.Float(), nullable=name not in ("input", "output"))
        for name in _PRICES
    ]
    columns += [sa.Column(f"tier_{name}_per_mtok", sa.Float()) for name in _TIER_PRICES]
    return columns


model_prices = sa.Table(
    "model_prices",
    metadata,
    sa.Column("provider", sa.Text(), primary_key=True),
    sa.Column("model", sa.Text(), primary_key=True),
    sa.Column("effective_from", UtcDateTime(), primary_key=True),
    *_price_columns(),
    sa.Column("tier_above_tokens", sa.Integer(), nullable=True),
    sa.Column("source", sa.Text(), nullable=False),
    sa.Column("loaded_at", UtcDateTime(), nullable=False),
)

virtual_keys = sa.Table(
    "virtual_keys",
    metadata,
    sa.Column("id", sa.Text(), primary_key=True),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("secret_sha256", sa.Text(), nullable=False),
    sa.Column("secret_prefix", sa.Text(), nullable=False),
    sa.Column("account", sa.Text(), nullable=False),
    sa.Column("team", sa.Text(), nullable=True),
    sa.Column("customer", sa.Text(), nullable=True),
    sa.Column("allowed_models", sa.Text(), nullable=True),  # comma-separated
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("expires_at", UtcDateTime(), nullable=True),
    sa.Column("revoked_at", UtcDateTime(), nullable=True),
    sa.UniqueConstraint("secret_sha256"),
)

budgets = sa.Table(
    "budgets",
    metadata,
    sa.Column("level", sa.Text(), primary_key=True),
    sa.Column("scope_id", sa.Text(), primary_key=True),
    sa.Column("period", sa.Text(), primary_key=True),
    sa.Column("limit_usd", sa.Float(), nullable=True),
    sa.Column("requests_per_minute", sa.Integer(), nullable=True),
    sa.Column("tokens_per_minute", sa.Integer(), nullable=True),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.CheckConstraint(_LEVEL_CHECK, name="level"),
)

budget_counters = sa.Table(
    "budget_counters",
    metadata,
    sa.Column("level", sa.Text(), primary_key=True),
    sa.Column("scope_id", sa.Text(), primary_key=True),
    sa.Column("period", sa.Text(), primary_key=True),
    sa.Column("source", sa.Text(), nullable=False),
    sa.Column("limit_usd", sa.Float(), nullable=True),
    sa.Column("requests_per_minute", sa.Integer(), nullable=True),
    sa.Column("tokens_per_minute", sa.Integer(), nullable=True),
    sa.Column("period_start", UtcDateTime(), nullable=True),
    sa.Column("period_end", UtcDateTime(), nullable=True),
    sa.Column("spent_usd", sa.Float(), nullable=False),
    sa.Column("reserved_usd", sa.Float(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

_LEASE_KEY = ("level", "scope_id", "period", "period_start")

budget_pools = sa.Table(
    "budget_pools",
    metadata,
    sa.Column("level", sa.Text(), primary_key=True),
    sa.Column("scope_id", sa.Text(), primary_key=True),
    sa.Column("period", sa.Text(), primary_key=True),
    sa.Column("period_start", sa.Float(), primary_key=True),
    sa.Column("limit_amount", sa.Float(), nullable=False),
    sa.Column("allocated", sa.Float(), nullable=False),
    sa.Column("last_grant", sa.Float(), nullable=False),
    sa.Column("updated_at", sa.Float(), nullable=False),
    sa.Column("window_s", sa.Float(), nullable=True),
)

budget_leases = sa.Table(
    "budget_leases",
    metadata,
    sa.Column("replica_id", sa.Text(), primary_key=True),
    sa.Column("level", sa.Text(), primary_key=True),
    sa.Column("scope_id", sa.Text(), primary_key=True),
    sa.Column("period", sa.Text(), primary_key=True),
    sa.Column("period_start", sa.Float(), primary_key=True),
    sa.Column("granted", sa.Float(), nullable=False),
    sa.Column("consumed", sa.Float(), nullable=False),
    sa.Column("expires_at", sa.Float(), nullable=False, index=True),
)

__all__ = [
    "BUDGET_LEVELS",
    "budget_counters",
    "budget_leases",
    "budget_pools",
    "budgets",
    "model_prices",
    "virtual_keys",
]
