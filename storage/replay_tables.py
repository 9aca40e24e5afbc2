"""The replay runs' tables (``switchyard replay``); ``migrations/versions/0006_replay.py``
creates them with the views ``replay_results`` and ``replay_runs``.

``replay_jobs``
    one row per run: the config it replays through, the pinned route, the spend cap,
    the concurrency, the selection in words, and its ``status`` (``running``,
    ``interrupted``, ``capped`` or ``completed``), so ``--resume RUN_ID`` can finish it.
``replay_items``
    the logged requests the run selected, in order, each once. Whether one was replayed
    is read from the trail itself: a ``requests`` row tagged with the run and the item's
    ``original_request_id`` that ended and was not refused before reaching a provider.
"""

from __future__ import annotations

import sqlalchemy as sa

from storage.schema import UtcDateTime, metadata

REPLAY_STATUSES = ("running", "interrupted", "capped", "completed")

replay_jobs = sa.Table(
    "replay_jobs",
    metadata,
    sa.Column("run_id", sa.Text(), primary_key=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("status", sa.Text(), nullable=False),
    sa.Column("config_source", sa.Text(), nullable=False),
    sa.Column("route", sa.Text(), nullable=True),
    sa.Column("max_cost_usd", sa.Float(), nullable=True),
    sa.Column("concurrency", sa.Integer(), nullable=False),
    sa.Column("selection", sa.Text(), nullable=False),
)

replay_items = sa.Table(
    "replay_items",
    metadata,
    sa.Column("run_id", sa.Text(), primary_key=True),
    sa.Column("position", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("original_request_id", sa.Text(), nullable=False),
    sa.UniqueConstraint("run_id", "original_request_id"),
)

__all__ = ["REPLAY_STATUSES", "replay_items", "replay_jobs"]
