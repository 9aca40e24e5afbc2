"""Shared budgets in SQL: the pools replicas lease slices of, and their leases.

Each call is one transaction, blocking (the gateway runs it on its one SQL writer):

- ``acquire`` grants up to the asked amount of a pool with one conditional ``UPDATE``
  (the row lock serialises replicas on PostgreSQL, the write lock on SQLite): the pool
  never grants past its limit, however many replicas ask at once. A pool is created at
  the first request for its period, starting from the spend the asking replica knows.
- ``report`` records each lease's consumption and renews it (``expires_at``).
- ``reclaim_expired`` returns to their pools what expired leases held and had not
  reported consumed (their replica stopped renewing: killed, or cut off).
- ``release`` ends this replica's leases at shutdown, returning what it did not use.

Times are unix seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from budgets.leases import LeaseNeed, LeaseReport
from messages.budget import BudgetId
from storage.budget_tables import budget_leases, budget_pools
from storage.database import insert_new_only

_TOLERANCE_USD = 1e-9


class SqlLeaseStore:
    def __init__(self, engine: Engine, replica_id: str) -> None:
        self._engine = engine
        self.replica_id = replica_id

    def acquire(self, need: LeaseNeed, *, now: float, ttl_s: float) -> float:
        """The amount granted (0 when the pool has nothing left)."""
        with self._engine.begin() as connection:
            _create_pool(connection, need, now)
            grant = _grant(connection, need, now)
            if grant > 0.0:
                self._hold(connection, need, grant, expires_at=now + ttl_s)
        return grant

    def report(self, reports: Sequence[LeaseReport], *, now: float, ttl_s: float) -> None:
        if not reports:
            return
        rows = [
            {**_key_params(r.identity, r.period_start), "consumed": r.consumed} for r in reports
        ]
        statement = (
            sa.update(budget_leases)
            .where(budget_leases.c.replica_id == self.replica_id, *_key_match(budget_leases))
            .values(
                consumed_usd=sa.bindparam("consumed"),
                expires_at=now + ttl_s,
            )
        )
        with self._engine.begin() as connection:
            connection.execute(statement, rows)

    def reclaim_expired(self, *, now: float) -> int:
        """Settle every expired lease (any replica's); returns how many."""
        with self._engine.begin() as connection:
            query = sa.select(budget_leases).where(budget_leases.c.expires_at < now)
            if connection.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            expired = list(connection.execute(query))
            for lease in expired:
                _end_lease(connection, lease, consumed=lease.consumed_usd, now=now)
        return len(expired)

    def release(self, reports: Sequence[LeaseReport], *, now: float) -> None:
        """This replica stops: its leases end, with ``reports``' final consumption."""
        consumed = {(r.identity, r.period_start): r.consumed for r in reports}
        with self._engine.begin() as connection:
            mine = list(
                connection.execute(
                    sa.select(budget_leases).where(budget_leases.c.replica_id == self.replica_id)
                )
            )
            for lease in mine:
                key = ((lease.level, lease.scope_id, lease.period), lease.period_start)
                final = max(consumed.get(key, lease.consumed_usd), lease.consumed_usd)
                _end_lease(connection, lease, consumed=final, now=now)

    def _hold(
        self, connection: Connection, need: LeaseNeed, grant: float, *, expires_at: float
    ) -> None:
        key = {"replica_id": self.replica_id, **_key_values(need.identity, need.period_start)}
        updated = connection.execute(
            sa.update(budget_leases)
            .where(*(budget_leases.c[name] == value for name, value in key.items()))
            .values(granted_usd=budget_leases.c.granted_usd + grant, expires_at=expires_at)
        )
        if updated.rowcount == 0:
            connection.execute(
                sa.insert(budget_leases).values(
                    **key, granted_usd=grant, consumed_usd=0.0, expires_at=expires_at
                )
            )


def pool_allocated(engine: Engine, identity: BudgetId, period_start: float) -> float | None:
    """What the pool has granted (for tests and ``budgets status``)."""
    with engine.connect() as connection:
        value = connection.execute(
            sa.select(budget_pools.c.allocated_usd).where(
                *(budget_pools.c[k] == v for k, v in _key_values(identity, period_start).items())
            )
        ).scalar()
    return None if value is None else float(value)


def _create_pool(connection: Connection, need: LeaseNeed, now: float) -> None:
    values = {
        **_key_values(need.identity, need.period_start),
        "limit_usd": need.limit,
        "allocated_usd": min(max(need.floor, 0.0), need.limit),
        "last_grant_usd": 0.0,
        "updated_at": now,
    }
    connection.execute(insert_new_only(connection, budget_pools).values(**values))


def _grant(connection: Connection, need: LeaseNeed, now: float) -> float:
    """One conditional UPDATE: grant ``min(amount, limit - allocated)``, if any is left.
    Every SET expression reads the row as it was, so ``last_grant_usd`` is the grant."""
    pools = budget_pools.c
    wanted = pools.allocated_usd + need.amount
    after = sa.case((wanted > need.limit, need.limit), else_=wanted)
    row = connection.execute(
        sa.update(budget_pools)
        .where(
            *(pools[k] == v for k, v in _key_values(need.identity, need.period_start).items()),
            pools.allocated_usd < need.limit - _TOLERANCE_USD,
        )
        .values(
            last_grant_usd=after - pools.allocated_usd,
            allocated_usd=after,
            limit_usd=need.limit,
            updated_at=now,
        )
        .returning(pools.last_grant_usd)
    ).first()
    return 0.0 if row is None else max(0.0, float(row[0]))


def _end_lease(
    connection: Connection, lease: sa.Row[object], *, consumed: float, now: float
) -> None:
    unused = max(0.0, lease.granted_usd - consumed)
    identity = (lease.level, lease.scope_id, lease.period)
    if unused > 0.0:
        pools = budget_pools.c
        connection.execute(
            sa.update(budget_pools)
            .where(*(pools[k] == v for k, v in _key_values(identity, lease.period_start).items()))
            .values(
                allocated_usd=sa.case(
                    (pools.allocated_usd - unused < 0.0, 0.0), else_=pools.allocated_usd - unused
                ),
                updated_at=now,
            )
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


__all__ = ["SqlLeaseStore", "pool_allocated"]
