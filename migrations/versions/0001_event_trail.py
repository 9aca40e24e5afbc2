"""The event trail: events, requests, attempts.

Revision: 0001
Follows: (none)
Written: by hand, to match storage/tables.py at the time

Types are spelled out here rather than imported from storage.tables, so this
revision keeps meaning the same thing when tables.py moves on. The payload column
is plain JSON (the codec hands it serialised text); timestamps are UTC timestamptz.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TOKENS = (
    "input_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
)


def _utc(name: str, *, nullable: bool) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _tokens() -> list[sa.Column]:
    return [sa.Column(name, sa.Integer(), nullable=False) for name in _TOKENS]


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("request_id", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        _utc("recorded_at", nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("request_id", "seq", name="uq_events_request_id_seq"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_events_recorded_at", "events", ["recorded_at"])

    op.create_table(
        "requests",
        sa.Column("request_id", sa.Text(), nullable=False),
        sa.Column("session_id", sa.Text(), nullable=True),
        sa.Column("thread_id", sa.Text(), nullable=True),
        _utc("started_at", nullable=False),
        _utc("finished_at", nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("virtual_key", sa.Text(), nullable=True),
        sa.Column("account_id", sa.Text(), nullable=True),
        sa.Column("client_format", sa.Text(), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("stream", sa.Boolean(), nullable=False),
        sa.Column("model_requested", sa.Text(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=True),
        sa.Column("model", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("error_kind", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        *_tokens(),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("request_id", name="pk_requests"),
        sa.CheckConstraint(
            "status IN ('in_progress', 'completed', 'failed')", name="ck_requests_status"
        ),
    )
    op.create_index("ix_requests_started_at", "requests", ["started_at"])
    op.create_index("ix_requests_session_id", "requests", ["session_id"])
    op.create_index("ix_requests_provider_model", "requests", ["provider", "model"])

    op.create_table(
        "attempts",
        sa.Column("request_id", sa.Text(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("provider_type", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("key_id", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _utc("started_at", nullable=False),
        sa.Column("first_byte_ms", sa.Float(), nullable=True),
        _utc("finished_at", nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        *_tokens(),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("request_id", "attempt", name="pk_attempts"),
    )
    op.create_index("ix_attempts_started_at", "attempts", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_attempts_started_at", table_name="attempts")
    op.drop_table("attempts")
    op.drop_index("ix_requests_provider_model", table_name="requests")
    op.drop_index("ix_requests_session_id", table_name="requests")
    op.drop_index("ix_requests_started_at", table_name="requests")
    op.drop_table("requests")
    op.drop_index("ix_events_recorded_at", table_name="events")
    op.drop_table("events")
