"""The lease pools in SQL (SQLite, and PostgreSQL when configured): the pool never
grants past its limit, whoever asks and however many at once, and expired or released
leases give back exactly what they did not report consumed."""

from __future__ import annotations

import threading

import pytest

from budgets.leases import LeaseNeed, LeaseReport
from storage import make_engine
from storage.lease_store import SqlLeaseStore, pool_allocated

BUDGET = ("virtual_key", "alice", "monthly")
START = 1_764_547_200.0  # a month's start (unix seconds)
NOW = START + 1000


def need(amount: float, *, limit: float = 10.0, floor: float = 0.0) -> LeaseNeed:
    return LeaseNeed(identity=BUDGET, period_start=START, amount=amount, limit=limit, floor=floor)


def test_grants_stop_at_the_limit_and_a_new_pool_starts_at_the_known_spend(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    store = SqlLeaseStore(engine, "replica-a")
    assert store.acquire(need(3.0, floor=4.0), now=NOW, ttl_s=15) == pytest.approx(3.0)
    assert pool_allocated(engine, BUDGET, START) == pytest.approx(7.0)
    assert store.acquire(need(5.0), now=NOW, ttl_s=15) == pytest.approx(3.0)  # what is left
    assert store.acquire(need(1.0), now=NOW, ttl_s=15) == 0.0
    assert pool_allocated(engine, BUDGET, START) == pytest.approx(10.0)
    engine.dispose()


def test_concurrent_replicas_never_get_more_than_the_limit(database_url: str) -> None:
    engine = make_engine(database_url)
    grants: list[float] = []
    lock = threading.Lock()

    def replica(name: str) -> None:
        store = SqlLeaseStore(engine, name)
        for _ in range(30):
            granted = store.acquire(need(0.1), now=NOW, ttl_s=15)
            with lock:
                grants.append(granted)

    threads = [threading.Thread(target=replica, args=(f"r{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 180 asks of 0.10 against a 10.00 limit: exactly 100 granted, in total, never more
    assert sum(grants) == pytest.approx(10.0)
    assert pool_allocated(engine, BUDGET, START) == pytest.approx(10.0)
    engine.dispose()


def test_an_expired_lease_returns_what_its_replica_did_not_report_consumed(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    dead, alive = SqlLeaseStore(engine, "dead"), SqlLeaseStore(engine, "alive")
    assert dead.acquire(need(2.0), now=NOW, ttl_s=15) == pytest.approx(2.0)
    report = LeaseReport(identity=BUDGET, period_start=START, consumed=0.5, granted=2.0)
    dead.report([report], now=NOW + 1, ttl_s=15)
    assert alive.reclaim_expired(now=NOW + 10) == 0  # still renewed
    assert alive.reclaim_expired(now=NOW + 17) == 1  # 15 s after its last report
    assert pool_allocated(engine, BUDGET, START) == pytest.approx(0.5)
    engine.dispose()


def test_release_gives_back_the_unused_part_of_every_lease(database_url: str) -> None:
    engine = make_engine(database_url)
    store = SqlLeaseStore(engine, "a")
    store.acquire(need(1.0), now=NOW, ttl_s=15)
    store.acquire(need(1.0), now=NOW, ttl_s=15)  # the same lease grows
    final = LeaseReport(identity=BUDGET, period_start=START, consumed=1.25, granted=2.0)
    store.release([final], now=NOW + 2)
    assert pool_allocated(engine, BUDGET, START) == pytest.approx(1.25)
    assert SqlLeaseStore(engine, "b").reclaim_expired(now=NOW + 100) == 0  # nothing left
    engine.dispose()
