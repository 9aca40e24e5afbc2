"""Bodies stored once per distinct part, and retention's progress.

Revision: 0004_trail_blobs
Follows: 0003_money
Written: by hand, to match storage/tables.py

Adds ``blobs`` (content-addressed parts of request and response bodies, see
``storage/blobs.py``) and ``trail_retention`` (how far body pruning has gone). Payloads
written before keep their bodies inline and read back as before.

SQLite's ``auto_vacuum=INCREMENTAL`` (so pruning can give pages back with
``PRAGMA incremental_vacuum``) can only be chosen before a file's first table: new
files get it when ``storage.database.make_engine`` first connects to them; an existing
file keeps its mode until ``PRAGMA auto_vacuum=INCREMENTAL; VACUUM;`` (see README).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_trail_blobs"
down_revision: str | Sequence[str] | None = "0003_money"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "blobs",
        sa.Column("key", sa.LargeBinary(), nullable=False),
        sa.Column("parent", sa.LargeBinary(), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_blobs"),
    )
    op.create_index("ix_blobs_used_at", "blobs", ["used_at"])
    op.create_table(
        "trail_retention",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_trail_retention"),
    )


def downgrade() -> None:
    op.drop_table("trail_retention")
    op.drop_index("ix_blobs_used_at", table_name="blobs")
    op.drop_table("blobs")
