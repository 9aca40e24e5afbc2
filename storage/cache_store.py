"""The cache's entries in SQL (``cache_entries``): written by the one SQL writer, read
once at start to rebuild the cache, and polled by replicas for each other's entries.
Blocking: the gateway calls these from a thread."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cache.entries import Entry
from storage.cache_tables import cache_entries

_COLUMNS = (
    "key",
    "scope",
    "model",
    "fingerprint",
    "user_text",
    "embedding",
    "answer",
    "origin_request_id",
    "cost_usd",
    "created_at",
    "expires_at",
)


def load_entries(engine: Engine, *, now: float, limit: int) -> list[Entry]:
    """The live entries, the most recent ``limit``, oldest first."""
    query = (
        sa.select(*(cache_entries.c[name] for name in _COLUMNS))
        .where(cache_entries.c.expires_at > now)
        .order_by(cache_entries.c.created_at.desc())
        .limit(limit)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [_entry(row) for row in reversed(rows)]


def _entry(row: Any) -> Entry:
    return Entry(
        key=bytes(row.key),
        scope=row.scope,
        model=row.model,
        fingerprint=None if row.fingerprint is None else bytes(row.fingerprint),
        user_text=row.user_text or "",
        embedding=None if row.embedding is None else bytes(row.embedding),
        answer=bytes(row.answer),
        origin_request_id=row.origin_request_id,
        cost_usd=row.cost_usd,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


def load_entries_since(engine: Engine, *, since: float, now: float, limit: int) -> list[Entry]:
    """Live entries created after ``since`` (by any replica), oldest first."""
    query = (
        sa.select(*(cache_entries.c[name] for name in _COLUMNS))
        .where(cache_entries.c.created_at > since, cache_entries.c.expires_at > now)
        .order_by(cache_entries.c.created_at)
        .limit(limit)
    )
    with engine.connect() as connection:
        return [_entry(row) for row in connection.execute(query).all()]


def write_entries(
    engine: Engine, changes: Mapping[bytes, Entry | None], *, expired_before: float
) -> None:
    """Apply ``changes`` (key → the entry to store, or ``None`` to delete it) and delete
    every row expired before ``expired_before``, in one transaction."""
    keys = list(changes)
    with engine.begin() as connection:
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            connection.execute(sa.delete(cache_entries).where(cache_entries.c.key.in_(chunk)))
        expired = cache_entries.c.expires_at <= expired_before
        connection.execute(sa.delete(cache_entries).where(expired))
        rows = [
            {name: getattr(entry, name) for name in _COLUMNS}
            for entry in changes.values()
            if entry is not None and entry.expires_at > expired_before
        ]
        if rows:
            connection.execute(sa.insert(cache_entries), rows)


__all__ = ["load_entries", "load_entries_since", "write_entries"]
