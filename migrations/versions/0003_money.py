"""Where each cost's price came from.

Revision: 0003_money
Follows: 0002
Written: by hand, to match storage/tables.py at the time

Adds ``requests.price_source`` and ``attempts.price_source``: ``shipped`` (the price
list), ``config`` (a ``pricing:`` entry) or ``fallback`` (a ``pricing:`` entry with
``model: "*"``, for a model without a price of its own); NULL when nothing was priced.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_money"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("requests", "attempts")


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(table, sa.Column("price_source", sa.Text(), nullable=True))


def downgrade() -> None:
    # plain ALTER TABLE (SQLite >= 3.35, PostgreSQL): a batch copy would break the views
    for table in _TABLES:
        op.execute(f"ALTER TABLE {table} DROP COLUMN price_source")
