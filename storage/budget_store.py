"""Budgets in SQL: those set by the CLI, the spend to rebuild counters from, and the
accountant's counters written back for ``budget_status``.

Spend comes from the trail: a request's ``cost_usd`` at its ``finished_at`` for the
customer, team and virtual-key tiers, an attempt's at its own ``finished_at`` for the
provider tier — the same amounts and times the accountant counts. Blocking: the gateway
calls these from a worker thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from budgets.periods import parse_period
from budgets.spend import bucket_width
from budgets.tiers import BudgetView
from messages.budget import BudgetLevel, BudgetRule, LoadedSpend
from storage.budget_tables import budget_counters, budgets
from storage.database import upsert
from storage.tables import attempts, requests

_REQUEST_SCOPE = {
    BudgetLevel.VIRTUAL_KEY: requests.c.virtual_key,
    BudgetLevel.TEAM: requests.c.team,
    BudgetLevel.CUSTOMER: requests.c.customer,
}


def set_budget(engine: Engine, rule: BudgetRule, *, at: float) -> None:
    """Create or replace the budget of ``rule.identity``."""
    row = {
        "level": rule.level,
        "scope_id": rule.scope_id,
        "period": rule.period,
        "limit_usd": rule.limit_usd,
        "requests_per_minute": rule.requests_per_minute,
        "tokens_per_minute": rule.tokens_per_minute,
        "updated_at": _moment(at),
    }
    with engine.begin() as connection:
        connection.execute(sa.delete(budgets).where(*_identity(budgets, rule)))
        connection.execute(sa.insert(budgets), [row])


def delete_budget(engine: Engine, rule: BudgetRule) -> bool:
    with engine.begin() as connection:
        return connection.execute(sa.delete(budgets).where(*_identity(budgets, rule))).rowcount > 0


def load_budget_rules(engine: Engine) -> list[BudgetRule]:
    """The budgets set by the CLI (``source="cli"``)."""
    query = sa.select(budgets).order_by(budgets.c.level, budgets.c.scope_id, budgets.c.period)
    with engine.connect() as connection:
        return [
            BudgetRule(
                level=row.level,
                scope_id=row.scope_id,
                period=row.period,
                limit_usd=row.limit_usd,
                requests_per_minute=row.requests_per_minute,
                tokens_per_minute=row.tokens_per_minute,
                source="cli",
            )
            for row in connection.execute(query)
        ]


def load_spend(engine: Engine, rules: Sequence[BudgetRule], *, cutoff: float) -> list[LoadedSpend]:
    """Each budget's spend in its window at ``cutoff``, from the trail before ``cutoff``.

    Calendar and total budgets get one sum; rolling budgets get the priced rows of
    their window (at most one window of one scope's traffic), bucketed by the ledger.
    """
    with engine.connect() as connection:
        return [_spend(connection, rule, cutoff) for rule in rules if rule.limit_usd is not None]


def _spend(connection: Connection, rule: BudgetRule, cutoff: float) -> LoadedSpend:
    table, scope = _scope_column(rule)
    period = parse_period(rule.period)
    start, _ = period.bounds(cutoff)
    if period.rolling_s is not None:
        assert start is not None
        start -= bucket_width(period.rolling_s)  # the ledger counts one bucket more
    conditions = [scope == rule.scope_id, table.c.cost_usd.is_not(None), _live(table)]
    conditions.append(table.c.finished_at < _moment(cutoff))
    if start is not None:
        conditions.append(table.c.finished_at >= _moment(start))
    if period.rolling_s is None:
        total = connection.execute(
            sa.select(sa.func.coalesce(sa.func.sum(table.c.cost_usd), 0.0)).where(*conditions)
        ).scalar_one()
        buckets: tuple[tuple[float, float], ...] = ((start or 0.0, float(total)),)
    else:
        query = sa.select(table.c.finished_at, table.c.cost_usd).where(*conditions)
        buckets = tuple(
            (row.finished_at.timestamp(), row.cost_usd) for row in connection.execute(query)
        )
    return LoadedSpend(identity=rule.identity, buckets=buckets)


def _live(table: sa.Table) -> sa.ColumnElement[bool]:
    """Live traffic only: a replayed request (``switchyard replay``) never counts."""
    if table is requests:
        return requests.c.replay_run_id.is_(None)
    replayed = sa.select(requests.c.request_id).where(requests.c.replay_run_id.is_not(None))
    return table.c.request_id.not_in(replayed)


def _scope_column(rule: BudgetRule) -> tuple[sa.Table, sa.ColumnElement[Any]]:
    if rule.level == BudgetLevel.PROVIDER:
        return attempts, attempts.c.provider
    return requests, _REQUEST_SCOPE[BudgetLevel(rule.level)]


def write_counters(engine: Engine, views: Sequence[BudgetView], *, at: float) -> None:
    """Replace ``budget_counters`` with the accountant's view of every budget."""
    rows = [
        {
            "level": view.rule.level,
            "scope_id": view.rule.scope_id,
            "period": view.rule.period,
            "source": view.rule.source,
            "limit_usd": view.rule.limit_usd,
            "requests_per_minute": view.rule.requests_per_minute,
            "tokens_per_minute": view.rule.tokens_per_minute,
            "period_start": _moment(view.period_start),
            "period_end": _moment(view.period_end),
            "spent_usd": view.spent_usd,
            "reserved_usd": view.reserved_usd,
            "updated_at": _moment(at),
        }
        for view in views
    ]
    keys = ["level", "scope_id", "period"]
    in_force = [tuple(row[key] for key in keys) for row in rows]
    key_columns = sa.tuple_(*(budget_counters.c[key] for key in keys))
    with engine.begin() as connection:  # replicas write the same rows: upsert, never clear
        stale = sa.delete(budget_counters)
        if in_force:
            stale = stale.where(key_columns.not_in(in_force))
        connection.execute(stale)
        upsert(connection, budget_counters, rows, keys)


def read_budget_status(engine: Engine) -> list[dict[str, Any]]:
    """The ``budget_status`` view, one dict per budget."""
    query = sa.text("SELECT * FROM budget_status ORDER BY level, scope_id, period")
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def _identity(table: sa.Table, rule: BudgetRule) -> list[sa.ColumnElement[bool]]:
    return [
        table.c.level == rule.level,
        table.c.scope_id == rule.scope_id,
        table.c.period == rule.period,
    ]


def _moment(at: float | None) -> datetime | None:
    return None if at is None else datetime.fromtimestamp(at, UTC)


class SqlBudgetStore:
    """The accountant's ``BudgetStore`` over one engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def load_spend(self, rules: Sequence[BudgetRule], *, cutoff: float) -> list[LoadedSpend]:
        return load_spend(self._engine, rules, cutoff=cutoff)

    def write_counters(self, views: Sequence[BudgetView], *, at: float) -> None:
        write_counters(self._engine, views, at=at)


__all__ = [
    "SqlBudgetStore",
    "delete_budget",
    "load_budget_rules",
    "load_spend",
    "read_budget_status",
    "set_budget",
    "write_counters",
]
