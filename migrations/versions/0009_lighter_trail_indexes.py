"""Lighter trail indexes: two index entries fewer for every request the gateway writes.

Revision: 0009_lighter_trail_indexes
Follows: 0008_shared_windows
Written: by hand, to match storage/tables.py

- ``ix_events_recorded_at`` is dropped. Every event paid a B-tree insert for it, and
  nothing on the gateway's path reads events by time: retention walks them in ``id``
  order (``storage.retention``), and reports read ``requests``.
- ``ix_requests_replay_run_id_original_request_id`` becomes partial (``WHERE
  replay_run_id IS NOT NULL``): it serves lookups of a replay run's requests, and a live
  request, whose ``replay_run_id`` is NULL, no longer adds an entry to it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_lighter_trail_indexes"
down_revision: str | Sequence[str] | None = "0008_shared_windows"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REPLAY_INDEX = "ix_requests_replay_run_id_original_request_id"
_REPLAY_COLUMNS = ["replay_run_id", "original_request_id"]
_REPLAYED = sa.text("replay_run_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_events_recorded_at", table_name="events")
    op.drop_index(_REPLAY_INDEX, table_name="requests")
    op.create_index(
        _REPLAY_INDEX,
        "requests",
        _REPLAY_COLUMNS,
        sqlite_where=_REPLAYED,
        postgresql_where=_REPLAYED,
    )


def downgrade() -> None:
    op.drop_index(_REPLAY_INDEX, table_name="requests")
    op.create_index(_REPLAY_INDEX, "requests", _REPLAY_COLUMNS)
    op.create_index("ix_events_recorded_at", "events", ["recorded_at"])
