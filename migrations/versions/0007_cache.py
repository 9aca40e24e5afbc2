"""The response cache: its entries, and what each cache hit saved.

Revision: 0007_cache
Follows: 0006_replay
Written: by hand, to match storage/cache_tables.py and storage/tables.py

Adds ``cache_entries`` (see ``storage/cache_tables.py``), ``requests.cost_saved_usd``
(set on a request served from the cache: what its answer cost when it was made) and
that column, summed, in the ``cost_by_key`` and ``cost_by_day`` views (re-created from
0006_replay's live views, so replayed requests stay out of them).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_cache"
down_revision: str | Sequence[str] | None = "0006_replay"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNPRICED = "SUM(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END) AS unpriced"
_SAVED = ",\n       SUM(COALESCE(cost_saved_usd, 0)) AS cost_saved_usd"
_WITH_SAVINGS = ("CREATE VIEW cost_by_key ", "CREATE VIEW cost_by_day ")
_LIVE_VIEWS = ("budget_status", "cost_by_day", "cost_by_key", "cost_by_model")


def _live_views() -> list[str]:
    replay = importlib.import_module("migrations.versions.0006_replay")
    made: list[str] = replay.live_views()
    return made


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
    _replace_live_views(saved=True)


def downgrade() -> None:
    _replace_live_views(saved=False)
    # plain ALTER TABLE (SQLite >= 3.35, PostgreSQL): a batch copy would break the views
    op.execute("ALTER TABLE requests DROP COLUMN cost_saved_usd")
    op.drop_index("ix_cache_entries_expires_at", table_name="cache_entries")
    op.drop_table("cache_entries")


def _replace_live_views(*, saved: bool) -> None:
    for view in _LIVE_VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
    for statement in _live_views():
        if saved and statement.startswith(_WITH_SAVINGS):
            if _UNPRICED not in statement:  # 0002's text changed: add the sum by hand
                raise RuntimeError(f"0007_cache: no place for the savings in {statement[:40]!r}")
            statement = statement.replace(_UNPRICED, _UNPRICED + _SAVED)
        op.execute(statement)
