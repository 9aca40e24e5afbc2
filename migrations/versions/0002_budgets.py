"""Budgets, virtual keys, prices, and the cost views.

Revision: 0002
Follows: 0001
Written: by hand, to match storage/tables.py and storage/budget_tables.py at the time

Adds ``requests.team`` / ``requests.customer`` (who a request is charged to, as it was
when it came), the tables ``model_prices``, ``virtual_keys``, ``budgets`` and
``budget_counters``, and four views. The views are plain SQL; the only dialect
difference is how a timestamp becomes a UTC day (``date(…)`` on SQLite, where
timestamps are UTC text; ``(… AT TIME ZONE 'UTC')::date`` on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LEVELS = "level IN ('customer', 'team', 'virtual_key', 'provider')"
_VIEWS = ("budget_status", "cost_by_day", "cost_by_key", "cost_by_model")
_TOKENS = """SUM(input_tokens) AS input_tokens,
       SUM(cached_input_tokens) AS cached_input_tokens,
       SUM(cache_write_tokens) AS cache_write_tokens,
       SUM(output_tokens) AS output_tokens,
       SUM(reasoning_tokens) AS reasoning_tokens,
       SUM(cost_usd) AS cost_usd,
       SUM(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END) AS unpriced"""


def _utc(name: str, *, nullable: bool, primary_key: bool = False) -> sa.Column:
    return sa.Column(
        name, sa.DateTime(timezone=True), nullable=nullable, primary_key=primary_key
    )


def _day(column: str) -> str:
    if op.get_bind().dialect.name == "postgresql":
        return f"(({column}) AT TIME ZONE 'UTC')::date"
    return f"date({column})"


def upgrade() -> None:
    op.add_column("requests", sa.Column("team", sa.Text(), nullable=True))
    op.add_column("requests", sa.Column("customer", sa.Text(), nullable=True))
    op.create_index("ix_requests_finished_at", "requests", ["finished_at"])
    _create_prices()
    _create_keys()
    _create_budgets()
    for statement in _views():
        op.execute(statement)


def _create_prices() -> None:
    op.create_table(
        "model_prices",
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        _utc("effective_from", nullable=False),
        sa.Column("input_per_mtok", sa.Float(), nullable=False),
        sa.Column("cached_input_per_mtok", sa.Float(), nullable=True),
        sa.Column("cache_write_per_mtok", sa.Float(), nullable=True),
        sa.Column("output_per_mtok", sa.Float(), nullable=False),
        sa.Column("reasoning_per_mtok", sa.Float(), nullable=True),
        sa.Column("tier_input_per_mtok", sa.Float(), nullable=True),
        sa.Column("tier_cached_input_per_mtok", sa.Float(), nullable=True),
        sa.Column("tier_cache_write_per_mtok", sa.Float(), nullable=True),
        sa.Column("tier_output_per_mtok", sa.Float(), nullable=True),
        sa.Column("tier_above_tokens", sa.Integer(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        _utc("loaded_at", nullable=False),
        sa.PrimaryKeyConstraint("provider", "model", "effective_from", name="pk_model_prices"),
    )


def _create_keys() -> None:
    op.create_table(
        "virtual_keys",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("secret_sha256", sa.Text(), nullable=False),
        sa.Column("secret_prefix", sa.Text(), nullable=False),
        sa.Column("account", sa.Text(), nullable=False),
        sa.Column("team", sa.Text(), nullable=True),
        sa.Column("customer", sa.Text(), nullable=True),
        sa.Column("allowed_models", sa.Text(), nullable=True),
        _utc("created_at", nullable=False),
        _utc("expires_at", nullable=True),
        _utc("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_virtual_keys"),
        sa.UniqueConstraint("secret_sha256", name="uq_virtual_keys_secret_sha256"),
    )


def _create_budgets() -> None:
    op.create_table(
        "budgets",
        sa.Column("level", sa.Text(), nullable=False),
        sa.Column("scope_id", sa.Text(), nullable=False),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("limit_usd", sa.Float(), nullable=True),
        sa.Column("requests_per_minute", sa.Integer(), nullable=True),
        sa.Column("tokens_per_minute", sa.Integer(), nullable=True),
        _utc("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("level", "scope_id", "period", name="pk_budgets"),
        sa.CheckConstraint(_LEVELS, name="ck_budgets_level"),
    )
    op.create_table(
        "budget_counters",
        sa.Column("level", sa.Text(), nullable=False),
        sa.Column("scope_id", sa.Text(), nullable=False),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("limit_usd", sa.Float(), nullable=True),
        sa.Column("requests_per_minute", sa.Integer(), nullable=True),
        sa.Column("tokens_per_minute", sa.Integer(), nullable=True),
        _utc("period_start", nullable=True),
        _utc("period_end", nullable=True),
        sa.Column("spent_usd", sa.Float(), nullable=False),
        sa.Column("reserved_usd", sa.Float(), nullable=False),
        _utc("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("level", "scope_id", "period", name="pk_budget_counters"),
    )


def _views() -> list[str]:
    attempt_day, request_day = _day("started_at"), _day("started_at")
    cost_by_model = f"""CREATE VIEW cost_by_model AS
SELECT {attempt_day} AS day, provider, provider_type, model,
       COUNT(DISTINCT request_id) AS requests, COUNT(*) AS attempts,
       {_TOKENS}
FROM attempts
WHERE finished_at IS NOT NULL
GROUP BY {attempt_day}, provider, provider_type, model"""
    cost_by_key = f"""CREATE VIEW cost_by_key AS
SELECT {request_day} AS day, customer, team, virtual_key,
       COUNT(*) AS requests,
       SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed,
       {_TOKENS}
FROM requests
WHERE virtual_key IS NOT NULL AND status <> 'in_progress'
GROUP BY {request_day}, customer, team, virtual_key"""
    cost_by_day = f"""CREATE VIEW cost_by_day AS
SELECT {request_day} AS day,
       COUNT(*) AS requests,
       SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed,
       {_TOKENS}
FROM requests
WHERE status <> 'in_progress'
GROUP BY {request_day}"""
    return [cost_by_model, cost_by_key, cost_by_day, _budget_status()]


def _budget_status() -> str:
    window = """(c.period_start IS NULL OR {t}.finished_at >= c.period_start)
              AND (c.period_end IS NULL OR {t}.finished_at < c.period_end)"""
    return f"""CREATE VIEW budget_status AS
SELECT c.level, c.scope_id, c.period, c.source, c.limit_usd,
       c.requests_per_minute, c.tokens_per_minute, c.period_start, c.period_end,
       COALESCE(CASE WHEN c.level = 'provider' THEN
           (SELECT SUM(a.cost_usd) FROM attempts a
            WHERE a.provider = c.scope_id AND {window.format(t="a")})
         ELSE
           (SELECT SUM(r.cost_usd) FROM requests r
            WHERE CASE c.level WHEN 'virtual_key' THEN r.virtual_key
                               WHEN 'team' THEN r.team
                               WHEN 'customer' THEN r.customer END = c.scope_id
              AND {window.format(t="r")})
         END, 0) AS spent_usd,
       c.reserved_usd,
       c.spent_usd AS counted_usd,
       c.limit_usd - c.spent_usd - c.reserved_usd AS remaining_usd,
       c.updated_at
FROM budget_counters c"""


def downgrade() -> None:
    for view in _VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
    op.drop_table("budget_counters")
    op.drop_table("budgets")
    op.drop_table("virtual_keys")
    op.drop_table("model_prices")
    op.drop_index("ix_requests_finished_at", table_name="requests")
    with op.batch_alter_table("requests") as batch:
        batch.drop_column("customer")
        batch.drop_column("team")
