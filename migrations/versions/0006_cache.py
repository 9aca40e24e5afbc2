"""The response cache: its entries, and what each cache hit saved.

Revision: 0006_cache
Follows: 0005_leases
Written: by hand, to match storage/cache_tables.py and storage/tables.py

Adds ``cache_entries`` (see ``storage/cache_tables.py``), ``requests.cost_saved_usd``
(set on a request served from the cache: what its answer cost when it was made) and
that column, summed, in the ``cost_by_key`` and ``cost_by_day`` views.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_cache"
down_revision: str | Sequence[str] | None = "0005_leases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TOKENS = """SUM(input_tokens) AS input_tokens,
       SUM(cached_input_tokens) AS cached_input_tokens,
       SUM(cache_write_tokens) AS cache_write_tokens,
       SUM(output_tokens) AS output_tokens,
       SUM(reasoning_tokens) AS reasoning_tokens,
       SUM(cost_usd) AS cost_usd,
       SUM(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END) AS unpriced"""
_SAVED = "SUM(COALESCE(cost_saved_usd, 0)) AS cost_saved_usd"


def _day(column: str) -> str:
    if op.get_bind().dialect.name == "postgresql":
        return f"(({column}) AT TIME ZONE 'UTC')::date"
    return f"date({column})"


def upgrade() -> None:
    op.create_table(
        "cache_entries",
        sa.Column("key", sa.LargeBinary(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.LargeBinary(), nullable=True),
        sa.Column("user_text", sa.Text(), nullable=True),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("answer", sa.LargeBinary(), nullable=False),
        sa.Column("origin_request_id", sa.Text(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_cache_entries"),
    )
    op.create_index("ix_cache_entries_expires_at", "cache_entries", ["expires_at"])
    op.add_column("requests", sa.Column("cost_saved_usd", sa.Float(), nullable=True))
    _replace_views(saved=True)


def downgrade() -> None:
    _replace_views(saved=False)
    # plain ALTER TABLE (SQLite >= 3.35, PostgreSQL): a batch copy would break the views
    op.execute("DROP VIEW IF EXISTS budget_status")
    op.execute("ALTER TABLE requests DROP COLUMN cost_saved_usd")
    op.execute(_BUDGET_STATUS)
    op.drop_index("ix_cache_entries_expires_at", table_name="cache_entries")
    op.drop_table("cache_entries")


def _replace_views(*, saved: bool) -> None:
    day = _day("started_at")
    extra = f",\n       {_SAVED}" if saved else ""
    op.execute("DROP VIEW IF EXISTS cost_by_key")
    op.execute("DROP VIEW IF EXISTS cost_by_day")
    op.execute(f"""CREATE VIEW cost_by_key AS
SELECT {day} AS day, customer, team, virtual_key,
       COUNT(*) AS requests,
       SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed,
       {_TOKENS}{extra}
FROM requests
WHERE virtual_key IS NOT NULL AND status <> 'in_progress'
GROUP BY {day}, customer, team, virtual_key""")
    op.execute(f"""CREATE VIEW cost_by_day AS
SELECT {day} AS day,
       COUNT(*) AS requests,
       SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed,
       {_TOKENS}{extra}
FROM requests
WHERE status <> 'in_progress'
GROUP BY {day}""")


_WINDOW = """(c.period_start IS NULL OR {t}.finished_at >= c.period_start)
              AND (c.period_end IS NULL OR {t}.finished_at < c.period_end)"""
_BUDGET_STATUS = f"""CREATE VIEW budget_status AS
SELECT c.level, c.scope_id, c.period, c.source, c.limit_usd,
       c.requests_per_minute, c.tokens_per_minute, c.period_start, c.period_end,
       COALESCE(CASE WHEN c.level = 'provider' THEN
           (SELECT SUM(a.cost_usd) FROM attempts a
            WHERE a.provider = c.scope_id AND {_WINDOW.format(t="a")})
         ELSE
           (SELECT SUM(r.cost_usd) FROM requests r
            WHERE CASE c.level WHEN 'virtual_key' THEN r.virtual_key
                               WHEN 'team' THEN r.team
                               WHEN 'customer' THEN r.customer END = c.scope_id
              AND {_WINDOW.format(t="r")})
         END, 0) AS spent_usd,
       c.reserved_usd,
       c.spent_usd AS counted_usd,
       c.limit_usd - c.spent_usd - c.reserved_usd AS remaining_usd,
       c.updated_at
FROM budget_counters c"""
