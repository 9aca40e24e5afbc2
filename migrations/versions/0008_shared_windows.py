"""Shared windows: rolling budgets and rate limits leased across replicas.

Revision: 0008_shared_windows
Follows: 0007_cache
Written: by hand, to match storage/budget_tables.py

A pool now also holds rate limits (``period`` ``requests/minute`` or ``tokens/minute``:
amounts in requests or tokens) and windows pooled in steps (``window_s``: the window a
step's row counts in; ``NULL`` for a calendar period or ``total``). Amount columns lose
their ``_usd`` suffix accordingly: ``limit_amount``, ``allocated``, ``last_grant`` in
``budget_pools``; ``granted``, ``consumed`` in ``budget_leases``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_shared_windows"
down_revision: str | Sequence[str] | None = "0007_cache"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_POOLS = {"limit_usd": "limit_amount", "allocated_usd": "allocated", "last_grant_usd": "last_grant"}
_LEASES = {"granted_usd": "granted", "consumed_usd": "consumed"}


def upgrade() -> None:
    with op.batch_alter_table("budget_pools") as batch:
        for old, new in _POOLS.items():
            batch.alter_column(old, new_column_name=new)
        batch.add_column(sa.Column("window_s", sa.Float(), nullable=True))
    with op.batch_alter_table("budget_leases") as batch:
        for old, new in _LEASES.items():
            batch.alter_column(old, new_column_name=new)


def downgrade() -> None:
    with op.batch_alter_table("budget_leases") as batch:
        for old, new in _LEASES.items():
            batch.alter_column(new, new_column_name=old)
    with op.batch_alter_table("budget_pools") as batch:
        batch.drop_column("window_s")
        for old, new in _POOLS.items():
            batch.alter_column(new, new_column_name=old)
