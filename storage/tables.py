"""The trail's SQL schema as SQLAlchemy Core tables; ``migrations/`` follows this file.

The trail's three tables:

``events``
    the append-only trail, one row per event, ``(request_id, seq)`` unique; ``id``
    is the global cursor for readers tailing the trail.
``requests``
    one row per request, inserted on ``request.received`` and completed by the
    terminal event: the table to query for traffic, latency, tokens and cost.
``attempts``
    one row per upstream attempt (retries and failovers each get one).

``blobs`` holds the large parts of bodies, each once (``storage/blobs.py``), and
``trail_retention`` how far retention has pruned (``storage/retention.py``).

And four for budgets, keys and prices (``storage/budget_tables.py`` explains them):
``model_prices``, ``virtual_keys``, ``budgets`` and ``budget_counters``; plus the views
``cost_by_model``, ``cost_by_key``, ``cost_by_day`` and ``budget_status``, which the
migrations create (they are not in this metadata).

Every timestamp is UTC. On SQLite they are stored as ``YYYY-MM-DD HH:MM:SS.ffffff``
so ``WHERE started_at >= datetime('now', '-7 days')`` compares correctly; on
PostgreSQL they are ``timestamptz``. ``events.payload`` is a JSON document (``json``
on PostgreSQL, ``TEXT`` holding JSON on SQLite), queryable with ``->>`` or
``json_extract``.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from storage.budget_tables import budget_counters, budgets, model_prices, virtual_keys
from storage.cache_tables import cache_entries
from storage.replay_tables import replay_items, replay_jobs
from storage.schema import NAMING_CONVENTION, JsonDocument, UtcDateTime, metadata


def _utc(name: str, *, nullable: bool) -> sa.Column[datetime]:
    return sa.Column(name, UtcDateTime(), nullable=nullable)


def _tokens() -> list[sa.Column[int]]:
    names = (
        "input_tokens",
        "cached_input_tokens",
        "cache_write_tokens",
        "output_tokens",
        "reasoning_tokens",
    )
    return [sa.Column(name, sa.Integer(), nullable=False) for name in names]


# SQLite gets ``INTEGER PRIMARY KEY`` (the rowid); elsewhere 64 bits, since a busy
# gateway writes billions of events.
_EVENT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", _EVENT_ID, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.Text(), nullable=False),
    sa.Column("seq", sa.Integer(), nullable=False),
    sa.Column("kind", sa.Text(), nullable=False),
    _utc("recorded_at", nullable=False),
    sa.Column("payload", JsonDocument(), nullable=False),
    sa.UniqueConstraint("request_id", "seq"),
    # No index on ``recorded_at``: each would cost every event a B-tree insert, and
    # nothing on the gateway's path reads events by time (retention walks ``id`` order).
    # AUTOINCREMENT: ids are never reused, even after the newest rows are pruned,
    # so a reader's cursor stays valid.
    sqlite_autoincrement=True,
)

REQUEST_STATUSES = ("in_progress", "completed", "failed")
_REPLAYED = sa.text("replay_run_id IS NOT NULL")
_STATUS_CHECK = "status IN ({})".format(", ".join(f"'{status}'" for status in REQUEST_STATUSES))

requests = sa.Table(
    "requests",
    metadata,
    sa.Column("request_id", sa.Text(), primary_key=True),
    sa.Column("session_id", sa.Text(), nullable=True),
    sa.Column("thread_id", sa.Text(), nullable=True),
    _utc("started_at", nullable=False),
    _utc("finished_at", nullable=True),
    sa.Column("latency_ms", sa.Float(), nullable=True),
    sa.Column("virtual_key", sa.Text(), nullable=True),
    sa.Column("account_id", sa.Text(), nullable=True),
    sa.Column("team", sa.Text(), nullable=True),
    sa.Column("customer", sa.Text(), nullable=True),
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
    sa.Column("price_source", sa.Text(), nullable=True),
    sa.Column("cost_saved_usd", sa.Float(), nullable=True),  # a cache hit: what it saved
    # a replayed request (``switchyard replay``): its run and the logged request it re-sends
    sa.Column("replay_run_id", sa.Text(), nullable=True),
    sa.Column("original_request_id", sa.Text(), nullable=True),
    sa.CheckConstraint(_STATUS_CHECK, name="status"),
    sa.Index(None, "started_at"),
    sa.Index(None, "session_id"),
    sa.Index(None, "provider", "model"),
    sa.Index(None, "finished_at"),
    # partial: a live request (``replay_run_id`` NULL, nearly all of them) costs no entry
    sa.Index(
        None,
        "replay_run_id",
        "original_request_id",
        sqlite_where=_REPLAYED,
        postgresql_where=_REPLAYED,
    ),
)

attempts = sa.Table(
    "attempts",
    metadata,
    sa.Column("request_id", sa.Text(), primary_key=True),
    sa.Column("attempt", sa.Integer(), primary_key=True, autoincrement=False),
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
    sa.Column("price_source", sa.Text(), nullable=True),
    sa.Index(None, "started_at"),
)

# Content-addressed parts of bodies (``storage.blobs``): ``key`` is the SHA-256 of the
# content, ``parent`` the previous node of a chain, ``used_at`` (unix seconds) when a
# stored body last named it, so retention can collect what no body names any more.
blobs = sa.Table(
    "blobs",
    metadata,
    sa.Column("key", sa.LargeBinary(), primary_key=True),
    sa.Column("parent", sa.LargeBinary(), nullable=True),
    sa.Column("data", sa.LargeBinary(), nullable=False),
    sa.Column("used_at", sa.BigInteger(), nullable=False),
    sa.Index(None, "used_at"),
)

# Retention's progress (``storage.retention``): ``bodies_pruned_to`` is the last
# ``events.id`` whose body retention has handled.
trail_retention = sa.Table(
    "trail_retention",
    metadata,
    sa.Column("name", sa.Text(), primary_key=True),
    sa.Column("value", sa.BigInteger(), nullable=False),
)

__all__ = [
    "NAMING_CONVENTION",
    "REQUEST_STATUSES",
    "JsonDocument",
    "UtcDateTime",
    "attempts",
    "blobs",
    "budget_counters",
    "budgets",
    "cache_entries",
    "events",
    "metadata",
    "model_prices",
    "replay_items",
    "replay_jobs",
    "requests",
    "trail_retention",
    "virtual_keys",
]
