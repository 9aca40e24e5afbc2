"""Shared budgets in SQL: the pools replicas lease slices of, and their leases.

Each call is one transaction, blocking (the gateway runs it on its one SQL writer):

- ``acquire`` grants up to the asked amount of a pool with one conditional ``UPDATE``
  (the row lock serialises replicas on PostgreSQL, the write lock on SQLite): the pool
  never grants past its limit, however many replicas ask at once. A pool is created at
  the first request for its period, starting from the spend the asking replica knows.
  A window's pool (``LeaseNeed.window_s``) is a row per step: the grant is limited by
  the sum of the steps of the last window and one step, whose rows are locked first
  (``SELECT … FOR UPDATE`` on PostgreSQL), so replicas asking at once are serialised.
- ``report`` records each lease's consumption and renews it (``expires_at``).
- ``reclaim_expired`` returns to their pools what expired leases held and had not
  reported consumed (their replica stopped renewing: killed, or cut off).
- ``end`` ends some of this replica's leases (a period or step over), ``release`` all
  of them at shutdown, returning what they did not use.
- ``prune_windows`` deletes the steps of windows long past.

Times are unix seconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from budgets.leases import LeaseNeed, LeaseReport
from budgets.provider_pools import PoolAddition, PoolStep
from messages.budget import BudgetId
from storage.budget_tables import budget_leases, budget_pools
from storage.database import insert_new_only, upsert

_TOLERANCE_USD = 1e-9
_PRUNE_MARGIN_S = 600.0
_ANCHOR = -1.0
"""The ``period_start`` of a windowed pool's anchor row, which steps (>= 0) never have."""


class SqlLeaseStore:
    def __init__(self, engine: Engine, replica_id: str) -> None:
        self._engine = engine
        self.replica_id = replica_id

    def acquire(self, need: LeaseNeed, *, now: float, ttl_s: float) -> float:
        """The amount granted (0 when the pool has nothing left)."""
        with self._engine.begin() as connection:
            if need.window_s is None:
                _create_pool(connection, need, now, need.floor)
                grant = _grant(connection, need, now)
            else:
                grant = _grant_in_window(connection, need, need.window_s, now)
            if grant > 0.0:
                self._hold(connection, need, grant, expires_at=now + ttl_s)
        return grant

    def report(self, reports: Sequence[LeaseReport], *, now: float, ttl_s: float) -> None:
        if reports:
            with self._engine.begin() as connection:
                self._write_reports(connection, reports, expires_at=now + ttl_s)

    def _write_reports(
        self, connection: Connection, reports: Sequence[LeaseReport], *, expires_at: float
    ) -> None:
        """A lease granted something has its row since it was granted (gone: it expired
        and was settled — it is not made again). One granted nothing may still have
        consumed (tokens settled over their estimate): its row is made now."""
        held = [r for r in reports if r.granted > 0.0]
        unheld = [r for r in reports if r.granted <= 0.0 and r.consumed > 0.0]
        if held:
            rows = [
                {**_key_params(r.identity, r.period_start), "consumed": r.consumed} for r in held
            ]
            statement = (
                sa.update(budget_leases)
                .where(budget_leases.c.replica_id == self.replica_id, *_key_match(budget_leases))
                .values(consumed=sa.bindparam("consumed"), expires_at=expires_at)
            )
            connection.execute(statement, rows)
        if unheld:
            new_rows = [
                {
                    "replica_id": self.replica_id,
                    **_key_values(r.identity, r.period_start),
                    "granted": 0.0,
                    "consumed": r.consumed,
                    "expires_at": expires_at,
                }
                for r in unheld
            ]
            keys = ["replica_id", "level", "scope_id", "period", "period_start"]
            upsert(connection, budget_leases, new_rows, keys, update=["consumed", "expires_at"])

    def reclaim_expired(self, *, now: float) -> int:
        """Settle every expired lease (any replica's); returns how many."""
        with self._engine.begin() as connection:
            query = sa.select(budget_leases).where(budget_leases.c.expires_at < now)
            if connection.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            expired = list(connection.execute(query))
            for lease in expired:
                _end_lease(connection, lease, consumed=lease.consumed, now=now)
        return len(expired)

    def release(self, reports: Sequence[LeaseReport], *, now: float) -> None:
        """This replica stops: all its leases end, with ``reports``' final consumption."""
        self._end_mine(reports, now=now, only_reported=False)

    def end(self, reports: Sequence[LeaseReport], *, now: float) -> None:
        """The leases of ``reports`` end (their period or step is over)."""
        if reports:
            self._end_mine(reports, now=now, only_reported=True)

    def add_and_read(
        self, additions: Sequence[PoolAddition], *, now: float
    ) -> dict[PoolStep, float]:
        """Provider pools: see ``add_and_read``."""
        return add_and_read(self._engine, additions, now=now)

    def prune_windows(self, *, now: float) -> int:
        """Delete windows' steps that ended two windows and ten minutes ago."""
        pools = budget_pools.c
        with self._engine.begin() as connection:
            deleted = connection.execute(
                sa.delete(budget_pools).where(
                    pools.window_s.is_not(None),
                    pools.period_start < now - 2 * pools.window_s - _PRUNE_MARGIN_S,
                )
            )
        return int(deleted.rowcount or 0)

    def _end_mine(self, reports: Sequence[LeaseReport], *, now: float, only_reported: bool) -> None:
        consumed = {(r.identity, r.period_start): r.consumed for r in reports}
        with self._engine.begin() as connection:
            self._write_reports(connection, reports, expires_at=now)
            mine = list(
                connection.execute(
                    sa.select(budget_leases).where(budget_leases.c.replica_id == self.replica_id)
                )
            )
            for lease in mine:
                key = ((lease.level, lease.scope_id, lease.period), lease.period_start)
                if only_reported and key not in consumed:
                    continue
                final = max(consumed.get(key, lease.consumed), lease.consumed)
                _end_lease(connection, lease, consumed=final, now=now)

    def _hold(
        self, connection: Connection, need: LeaseNeed, grant: float, *, expires_at: float
    ) -> None:
        key = {"replica_id": self.replica_id, **_key_values(need.identity, need.period_start)}
        updated = connection.execute(
            sa.update(budget_leases)
            .where(*(budget_leases.c[name] == value for name, value in key.items()))
            .values(granted=budget_leases.c.granted + grant, expires_at=expires_at)
        )
        if updated.rowcount == 0:
            connection.execute(
                sa.insert(budget_leases).values(
                    **key, granted=grant, consumed=0.0, expires_at=expires_at
                )
            )


def pool_allocated(engine: Engine, identity: BudgetId, period_start: float) -> float | None:
    """What the pool has granted (for tests and ``budgets status``)."""
    with engine.connect() as connection:
        value = connection.execute(
            sa.select(budget_pools.c.allocated).where(
                *(budget_pools.c[k] == v for k, v in _key_values(identity, period_start).items())
            )
        ).scalar()
    return None if value is None else float(value)


def _start_from(connection: Connection, need: LeaseNeed, allocated: float) -> None:
    connection.execute(
        sa.update(budget_pools)
        .where(*_match(budget_pools, need.identity, need.period_start))
        .values(allocated=allocated)
    )


def _create_pool(connection: Connection, need: LeaseNeed, now: float, floor: float) -> bool:
    """Whether the pool row was created (not there yet)."""
    values = {
        **_key_values(need.identity, need.period_start),
        "limit_amount": need.limit,
        "allocated": min(max(floor, 0.0), need.limit),
        "last_grant": 0.0,
        "updated_at": now,
        "window_s": need.window_s,
    }
    statement = insert_new_only(connection, budget_pools).values(**values)
    inserted = connection.execute(statement.returning(budget_pools.c.period_start)).first()
    return inserted is not None


def _grant_in_window(connection: Connection, need: LeaseNeed, window_s: float, now: float) -> float:
    """Grant ``min(amount, limit - what the window's steps hold)``, into this step's row.
    The first step ever of a window starts from the spend the asking replica knows."""
    held = _window_total(connection, need, window_s, now, lock=True)
    grant = min(need.amount, need.limit - held)
    if not grant > _TOLERANCE_USD:  # also a NaN
        return 0.0
    connection.execute(
        sa.update(budget_pools)
        .where(*_match(budget_pools, need.identity, need.period_start))
        .values(
            allocated=budget_pools.c.allocated + grant,
            last_grant=grant,
            limit_amount=need.limit,
            updated_at=now,
        )
    )
    return grant


def _window_total(
    connection: Connection, need: LeaseNeed, window_s: float, now: float, *, lock: bool
) -> float:
    """What the steps sharing a window with this one hold: a window before it and, for a
    replica whose clock lags the others', a window after it (this step's row made first if
    new). With ``lock``, grants of the pool are serialised first: on PostgreSQL on its
    anchor row (rows of other steps may be inserted meanwhile, which row locks on them
    would not see), on SQLite by the write lock the first write takes."""
    pools = budget_pools.c
    level, scope_id, period = need.identity
    same_pool = (pools.level == level, pools.scope_id == scope_id, pools.period == period)
    if lock and connection.dialect.name == "postgresql":
        _lock_anchor(connection, need, now)
    near = (
        *same_pool,
        pools.period_start >= need.period_start - window_s,
        pools.period_start <= need.period_start + window_s,
    )
    # write first: on SQLite a transaction that read before it writes can fail at once
    created = _create_pool(connection, need, now, 0.0)
    if created and need.floor > 0.0:
        earlier = pools.period_start != need.period_start
        if not connection.execute(sa.select(sa.func.count()).where(*near, earlier)).scalar():
            _start_from(connection, need, min(need.floor, need.limit))
    query = sa.select(pools.allocated).where(*near)
    return sum(float(value) for value in connection.execute(query).scalars())


def _lock_anchor(connection: Connection, need: LeaseNeed, now: float) -> None:
    """Lock the pool's anchor row (made if new): one row every grant of the pool takes."""
    anchor = LeaseNeed(
        identity=need.identity, period_start=_ANCHOR, amount=0.0, limit=need.limit, floor=0.0
    )
    _create_pool(connection, anchor, now, 0.0)
    connection.execute(
        sa.select(budget_pools.c.period_start)
        .where(*_match(budget_pools, need.identity, _ANCHOR))
        .with_for_update()
    ).all()


def add_and_read(
    engine: Engine, additions: Sequence[PoolAddition], *, now: float
) -> dict[PoolStep, float]:
    """Add each amount to its pool's row (made if new), then read each pool's total —
    a period's row, or a window's steps. One transaction; rows in key order."""
    totals: dict[PoolStep, float] = {}
    ordered = sorted(additions, key=lambda a: (a.identity, a.period_start))
    with engine.begin() as connection:
        for addition in ordered:
            need = LeaseNeed(
                identity=addition.identity,
                period_start=addition.period_start,
                amount=addition.amount,
                limit=addition.limit,
                floor=addition.floor,
                window_s=addition.window_s,
            )
            if addition.window_s is None:
                _create_pool(connection, need, now, addition.floor)
                before = 0.0
            else:  # made if new, and the other steps read, before this one grows
                before = _window_total(connection, need, addition.window_s, now, lock=False)
            amount = addition.amount if math.isfinite(addition.amount) else 0.0
            if amount > 0.0:
                connection.execute(
                    sa.update(budget_pools)
                    .where(*_match(budget_pools, addition.identity, addition.period_start))
                    .values(allocated=budget_pools.c.allocated + amount, updated_at=now)
                )
            step = (addition.identity, addition.period_start)
            if addition.window_s is None:
                totals[step] = _row_total(connection, addition.identity, addition.period_start)
            else:
                totals[step] = before + max(amount, 0.0)
    return totals


def _row_total(connection: Connection, identity: BudgetId, period_start: float) -> float:
    value = connection.execute(
        sa.select(budget_pools.c.allocated).where(*_match(budget_pools, identity, period_start))
    ).scalar()
    return 0.0 if value is None else float(value)


def _grant(connection: Connection, need: LeaseNeed, now: float) -> float:
    """One conditional UPDATE: grant ``min(amount, limit - allocated)``, if any is left.
    Every SET expression reads the row as it was, so ``last_grant`` is the grant."""
    pools = budget_pools.c
    wanted = pools.allocated + need.amount
    after = sa.case((wanted > need.limit, need.limit), else_=wanted)
    row = connection.execute(
        sa.update(budget_pools)
        .where(
            *(pools[k] == v for k, v in _key_values(need.identity, need.period_start).items()),
            pools.allocated < need.limit - _TOLERANCE_USD,
        )
        .values(
            last_grant=after - pools.allocated,
            allocated=after,
            limit_amount=need.limit,
            updated_at=now,
        )
        .returning(pools.last_grant)
    ).first()
    return 0.0 if row is None else max(0.0, float(row[0]))


def _end_lease(
    connection: Connection, lease: sa.Row[object], *, consumed: float, now: float
) -> None:
    """The pool takes back what the lease did not consume — or counts what it consumed
    past its grant (a request that cost more than its estimate; tokens over the input
    estimate)."""
    change = consumed - lease.granted if math.isfinite(consumed) else 0.0
    identity = (lease.level, lease.scope_id, lease.period)
    if abs(change) > _TOLERANCE_USD:
        pools = budget_pools.c
        after = pools.allocated + change
        connection.execute(
            sa.update(budget_pools)
            .where(*_match(budget_pools, identity, lease.period_start))
            .values(allocated=sa.case((after < 0.0, 0.0), else_=after), updated_at=now)
        )
    connection.execute(
        sa.delete(budget_leases).where(
            budget_leases.c.replica_id == lease.replica_id,
            *(
                budget_leases.c[k] == v
                for k, v in _key_values(identity, lease.period_start).items()
            ),
        )
    )


def _key_values(identity: BudgetId, period_start: float) -> dict[str, object]:
    level, scope_id, period = identity
    return {"level": level, "scope_id": scope_id, "period": period, "period_start": period_start}


def _match(table: sa.Table, identity: BudgetId, period_start: float) -> list[Any]:
    return [table.c[k] == v for k, v in _key_values(identity, period_start).items()]


def _key_params(identity: BudgetId, period_start: float) -> dict[str, object]:
    return {f"k_{name}": value for name, value in _key_values(identity, period_start).items()}


def _key_match(table: sa.Table) -> list[sa.ColumnElement[bool]]:
    return [
        table.c[name] == sa.bindparam(f"k_{name}")
        for name in ("level", "scope_id", "period", "period_start")
    ]


__all__ = ["SqlLeaseStore", "add_and_read", "pool_allocated"]
