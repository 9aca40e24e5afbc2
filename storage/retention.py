"""Retention: bodies and events older than their windows are pruned, a small batch at a
time, and the blobs no body names any more are collected.

Plain sync functions on a connection, run by the audit logger in its writer thread
(``Pruner`` is the step it calls). What is kept forever: ``requests`` and ``attempts``
(one row per request and per attempt, with their tokens and ``cost_usd``), so the cost
views and budgets read the same before and after pruning.

- **bodies** (``retention.bodies``, default 30 days): the body of ``request.received``
  and the response of ``response.completed`` are removed from the payload (it keeps
  every other field and says ``body_pruned``). Events are taken in ``id`` order from
  where the last batch stopped (``trail_retention.bodies_pruned_to``).
- **events** (``retention.events``, default 365 days): whole events are deleted.
- **blobs**: a blob is marked (``used_at``) whenever a stored body names it, at most
  every ``TOUCH_S``; once body pruning has caught up, blobs unmarked for longer than the
  bodies' window plus ``TOUCH_S`` are named by no kept body and are deleted.
- **SQLite**: the freed pages go back to the file system with
  ``PRAGMA incremental_vacuum`` (files made with ``auto_vacuum=INCREMENTAL``; see
  ``storage.database``); other files keep their size until a ``VACUUM``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from storage.blobs import TOUCH_S
from storage.codec import prune_documents
from storage.tables import blobs, events, trail_retention

DAY_S = 86_400.0
BATCH_ROWS = 1000
VACUUM_PAGES = 4096
_WATERMARK = "bodies_pruned_to"
_WITH_DOCUMENTS = ("request.received", "response.completed")

_SET_WATERMARK = sa.text(
    """INSERT INTO trail_retention (name, value) VALUES (:name, :value)
ON CONFLICT (name) DO UPDATE SET value = excluded.value"""
)
_PRUNED_PAYLOAD = (
    sa.update(events)
    .where(events.c.id == sa.bindparam("event_id"))
    .values(payload=sa.bindparam("new_payload"))
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RetentionPolicy:
    """How long bodies and events are kept, in seconds (``None``: forever)."""

    bodies_s: float | None = 30 * DAY_S
    events_s: float | None = 365 * DAY_S


@dataclass(frozen=True, slots=True, kw_only=True)
class PruneReport:
    bodies: int = 0
    events: int = 0
    blobs: int = 0
    pages: int = 0
    more: bool = False
    """A batch was full: more is waiting."""


def prune_bodies(connection: Connection, before: datetime, limit: int) -> tuple[int, bool]:
    """Remove the bodies of up to ``limit`` events recorded before ``before``; returns
    (bodies removed, whether more events are due)."""
    start = connection.execute(
        sa.select(trail_retention.c.value).where(trail_retention.c.name == _WATERMARK)
    ).scalar()
    first = connection.execute(
        sa.select(events.c.recorded_at)
        .where(events.c.id > (start or 0))
        .order_by(events.c.id)
        .limit(1)
    ).scalar()
    if first is None or first >= before:
        return 0, False  # nothing is due: the usual case, one indexed look
    document = sa.case(
        (events.c.kind.in_(_WITH_DOCUMENTS), sa.cast(events.c.payload, sa.Text)), else_=None
    )
    query = (
        sa.select(events.c.id, events.c.recorded_at, document.label("payload"))
        .where(events.c.id > (start or 0))
        .order_by(events.c.id)
        .limit(limit)
    )
    rows = connection.execute(query).all()
    updates: list[dict[str, object]] = []
    last = start or 0
    for row in rows:
        if row.recorded_at >= before:
            break
        last = row.id
        pruned = None if row.payload is None else prune_documents(row.payload.encode())
        if pruned is not None:
            updates.append({"event_id": row.id, "new_payload": pruned.decode()})
    if updates:
        connection.execute(_PRUNED_PAYLOAD, updates)
    if last != (start or 0):
        connection.execute(_SET_WATERMARK, {"name": _WATERMARK, "value": last})
    caught_up = len(rows) < limit or any(row.recorded_at >= before for row in rows)
    return len(updates), not caught_up


def prune_events(connection: Connection, before: datetime, limit: int) -> int:
    """Delete up to ``limit`` of the oldest events (in ``id`` order) recorded before
    ``before``, stopping at the first that is not.

    The walk is by ``id`` (the rowid: no index on ``recorded_at`` to keep up on every
    event). Events are written in about the order they were made (a batch waits its
    flush interval), but an event held in the audit writer's spool through a database
    outage follows newer ones: it is pruned once they are due, at most that outage later.
    The delete names the range read and is held to events that are due, so an event
    another replica committed inside that range meanwhile (PostgreSQL hands out ids
    before commit) is deleted only if it is due as well.
    """
    first = connection.execute(
        sa.select(events.c.recorded_at).order_by(events.c.id).limit(1)
    ).scalar()
    if first is None or first >= before:
        return 0  # nothing is due (the usual case): one look at the table's first row
    rows = connection.execute(
        sa.select(events.c.id, events.c.recorded_at).order_by(events.c.id).limit(limit)
    ).all()
    ids: list[int] = []
    for row in rows:
        if row.recorded_at >= before:
            break
        ids.append(row.id)
    if ids:
        due = sa.and_(events.c.id <= ids[-1], events.c.recorded_at < before)
        return int(connection.execute(sa.delete(events).where(due)).rowcount)
    return 0


def collect_blobs(connection: Connection, unused_since: float, limit: int) -> int:
    """Delete up to ``limit`` blobs no stored body has named since ``unused_since``."""
    keys = (
        connection.execute(
            sa.select(blobs.c.key).where(blobs.c.used_at < int(unused_since)).limit(limit)
        )
        .scalars()
        .all()
    )
    if keys:
        connection.execute(sa.delete(blobs).where(blobs.c.key.in_(keys)))
    return len(keys)


def incremental_vacuum(engine: Engine, pages: int) -> int:
    """SQLite: give up to ``pages`` free pages back to the file system; how many were.

    Run outside a transaction, through the driver's ``executescript``: Python's
    ``execute`` steps ``PRAGMA incremental_vacuum`` once, which frees a single page.
    """
    if engine.dialect.name != "sqlite":
        return 0
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        free = int(driver.execute("PRAGMA freelist_count").fetchone()[0])
        if free:
            driver.executescript(f"PRAGMA incremental_vacuum({int(pages)});")
        left = int(driver.execute("PRAGMA freelist_count").fetchone()[0])
    finally:
        raw.close()
    return free - left


def prune(
    engine: Engine, policy: RetentionPolicy, *, now: float, limit: int = BATCH_ROWS
) -> PruneReport:
    """One bounded step of retention (each part at most ``limit`` rows)."""
    bodies = removed = collected = 0
    more = False
    with engine.begin() as connection:
        if policy.bodies_s is not None:
            bodies, more = prune_bodies(connection, _utc(now - policy.bodies_s), limit)
        if policy.events_s is not None:
            removed = prune_events(connection, _utc(now - policy.events_s), limit)
            more = more or removed >= limit
        window = _shortest(policy)
        if window is not None and not more:
            collected = collect_blobs(connection, now - window - TOUCH_S, limit)
            more = collected == limit
    pages = incremental_vacuum(engine, VACUUM_PAGES) if bodies or removed or collected else 0
    return PruneReport(bodies=bodies, events=removed, blobs=collected, pages=pages, more=more)


def _shortest(policy: RetentionPolicy) -> float | None:
    windows = [w for w in (policy.bodies_s, policy.events_s) if w is not None]
    return min(windows) if windows else None


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class Pruner:
    """The audit logger's housekeeping step: ``prune`` with the clock; True while more
    is waiting (so it is called again soon)."""

    def __init__(
        self,
        engine: Engine,
        policy: RetentionPolicy,
        *,
        limit: int = BATCH_ROWS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._policy = policy
        self._limit = limit
        self._clock = clock
        self.last: PruneReport | None = None

    def __call__(self) -> bool:
        self.last = prune(self._engine, self._policy, now=self._clock(), limit=self._limit)
        return self.last.more


__all__ = [
    "BATCH_ROWS",
    "PruneReport",
    "Pruner",
    "RetentionPolicy",
    "collect_blobs",
    "incremental_vacuum",
    "prune",
    "prune_bodies",
    "prune_events",
]
