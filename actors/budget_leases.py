"""The accountant's side of shared budgets: asking the pools, reporting, giving back.

Every SQL call goes through the gateway's one SQL writer (``TrailWriter.run``) and
happens off the request path: a request waits for SQL only when this replica's lease
of one of its budgets has run short (once per slice, ``budgets.leases``), and the tick
fetches the next slice before that, when a lease is down to half a slice.
"""

from __future__ import annotations

import os
import platform
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import structlog

from budgets.leases import LeaseNeed, LeaseReport
from budgets.provider_pools import PoolAddition, PoolStep
from storage.lease_store import SqlLeaseStore

T = TypeVar("T")
RunSql = Callable[[Callable[[], T]], Awaitable[T]]

log = structlog.get_logger("switchyard.budget")

PRUNE_EVERY_S = 60.0  # deleting windows' steps long past


def new_replica_id() -> str:
    """This process among the replicas: host, pid and a random tail (never reused)."""
    return f"{platform.node()}-{os.getpid()}-{secrets.token_hex(4)}"


class LeaseKeeper:
    def __init__(
        self,
        store: SqlLeaseStore,
        run_sql: Callable[[Callable[[], object]], Awaitable[object]],
        *,
        ttl_s: float,
        clock: Callable[[], float],
    ) -> None:
        self._store = store
        self._run_sql = run_sql
        self.ttl_s = ttl_s
        self._clock = clock
        self._next_prune = 0.0

    @property
    def replica_id(self) -> str:
        return self._store.replica_id

    async def acquire(self, need: LeaseNeed) -> float:
        store, now, ttl = self._store, self._clock(), self.ttl_s
        granted = await self._run_sql(lambda: store.acquire(need, now=now, ttl_s=ttl))
        assert isinstance(granted, float)
        log.debug(
            "budget lease",
            budget=need.identity,
            asked_usd=round(need.amount, 6),
            granted_usd=round(granted, 6),
        )
        return granted

    async def report(
        self, reports: Sequence[LeaseReport], ended: Sequence[LeaseReport] = ()
    ) -> None:
        """Report consumption (renewing this replica's leases), end the leases of periods
        or steps that are over, and settle expired leases (anyone's)."""
        store, now, ttl = self._store, self._clock(), self.ttl_s
        prune = now >= self._next_prune
        if prune:
            self._next_prune = now + PRUNE_EVERY_S

        def job() -> int:
            store.end(ended, now=now)
            store.report(reports, now=now, ttl_s=ttl)
            if prune:
                store.prune_windows(now=now)
            return store.reclaim_expired(now=now)

        reclaimed = await self._run_sql(job)
        if reclaimed:
            log.warning("expired budget leases returned to their pools", leases=reclaimed)

    async def add_and_read(self, additions: Sequence[PoolAddition]) -> dict[PoolStep, float]:
        """Add this replica's provider charges to their pools; what all replicas charged."""
        store, now = self._store, self._clock()
        totals = await self._run_sql(lambda: store.add_and_read(additions, now=now))
        assert isinstance(totals, dict)
        return totals

    async def release(self, reports: Sequence[LeaseReport]) -> None:
        store, now = self._store, self._clock()
        await self._run_sql(lambda: store.release(reports, now=now))


__all__ = ["LeaseKeeper", "new_replica_id"]
