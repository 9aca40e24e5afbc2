"""Shared budgets across replicas: the lease pools and the leases.

Revision: 0005_leases
Follows: 0004_trail_blobs
Written: by hand, to match storage/budget_tables.py at the time

``budget_pools``: per budget and period, what the pool has granted to replicas.
``budget_leases``: per replica, what it holds of a pool and has reported consumed, and
when its lease lapses unless renewed. See ``budgets/leases.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_leases"
down_revision: str | Sequence[str] | None = "0004_trail_blobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = ("level", "scope_id", "period", "period_start")


def _key_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("level", sa.Text(), primary_key=True),
        sa.Column("scope_id", sa.Text(), primary_key=True),
        sa.Column("period", sa.Text(), primary_key=True),
        sa.Column("period_start", sa.Float(), primary_key=True),
    ]


def upgrade() -> None:
    op.create_table(
        "budget_pools",
        *_key_columns(),
        sa.Column("limit_usd", sa.Float(), nullable=False),
        sa.Column("allocated_usd", sa.Float(), nullable=False),
        sa.Column("last_grant_usd", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "budget_leases",
        sa.Column("replica_id", sa.Text(), primary_key=True),
        *_key_columns(),
        sa.Column("granted_usd", sa.Float(), nullable=False),
        sa.Column("consumed_usd", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_budget_leases_expires_at", "budget_leases", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_budget_leases_expires_at", table_name="budget_leases")
    op.drop_table("budget_leases")
    op.drop_table("budget_pools")
