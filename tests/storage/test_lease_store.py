"""The lease pools in SQL (SQLite, and PostgreSQL when configured): the pool never
grants past its limit, whoever asks and however many at once, and expired or released
leases give back exactly what they did not report consumed."""

from __future__ import annotations

import threading

import pytest

from budgets.leases import LeaseNeed, LeaseReport
from budgets.provider_pools import PoolAddition
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


RATE = ("virtual_key", "alice", "requests/minute")
STEP = 6.0  # a minute's step
T0 = 1_764_600_000.0  # a step's start


def window_need(
    amount: float, start: float, *, limit: float = 100.0, floor: float = 0.0
) -> LeaseNeed:
    return LeaseNeed(
        identity=RATE, period_start=start, amount=amount, limit=limit, floor=floor, window_s=60.0
    )


def test_a_window_grants_while_its_last_steps_hold_less_than_the_limit(database_url: str) -> None:
    engine = make_engine(database_url)
    store = SqlLeaseStore(engine, "a")
    assert store.acquire(window_need(60.0, T0), now=T0, ttl_s=15) == pytest.approx(60.0)
    later = T0 + 5 * STEP
    assert store.acquire(window_need(60.0, later), now=later, ttl_s=15) == pytest.approx(40.0)
    # the window and one step (11 steps) after the first grant, it has aged out
    still = T0 + 10 * STEP
    assert store.acquire(window_need(10.0, still), now=still, ttl_s=15) == 0.0
    aged = T0 + 11 * STEP
    assert store.acquire(window_need(70.0, aged), now=aged, ttl_s=15) == pytest.approx(60.0)
    assert pool_allocated(engine, RATE, aged) == pytest.approx(60.0)
    engine.dispose()


def test_a_windows_first_step_starts_from_the_known_spend_and_later_steps_from_zero(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    store = SqlLeaseStore(engine, "a")
    assert store.acquire(window_need(10.0, T0, floor=95.0), now=T0, ttl_s=15) == 5.0
    assert pool_allocated(engine, RATE, T0) == pytest.approx(100.0)
    # the step's row exists: asking again, with any known spend, never restarts it
    assert store.acquire(window_need(10.0, T0, floor=50.0), now=T0, ttl_s=15) == 0.0
    assert pool_allocated(engine, RATE, T0) == pytest.approx(100.0)
    next_step = T0 + STEP
    assert store.acquire(window_need(10.0, next_step, floor=95.0), now=next_step, ttl_s=15) == 0.0
    assert pool_allocated(engine, RATE, next_step) == 0.0
    engine.dispose()


def test_concurrent_replicas_across_step_boundaries_never_exceed_a_windows_limit(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    grants: list[tuple[float, float]] = []
    lock = threading.Lock()

    def replica(name: str, offset: int) -> None:
        store = SqlLeaseStore(engine, name)
        for n in range(20):
            start = T0 + ((n + offset) // 4) * STEP  # replicas disagree on the step at times
            granted = store.acquire(window_need(2.0, start), now=start, ttl_s=15)
            with lock:
                grants.append((start, granted))

    threads = [threading.Thread(target=replica, args=(f"r{n}", n % 2)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 240 asked of a 100 limit, all inside one window: exactly 100 granted
    assert sum(granted for _, granted in grants) == pytest.approx(100.0)
    engine.dispose()


def test_ending_a_steps_lease_returns_what_it_left_and_counts_what_it_overran(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    store = SqlLeaseStore(engine, "a")
    store.acquire(window_need(10.0, T0), now=T0, ttl_s=15)
    store.end([LeaseReport(identity=RATE, period_start=T0, consumed=4.0, granted=10.0)], now=T0)
    assert pool_allocated(engine, RATE, T0) == pytest.approx(4.0)
    tokens = ("virtual_key", "alice", "tokens/minute")
    over = LeaseNeed(identity=tokens, period_start=T0, amount=100, limit=1000, floor=0, window_s=60)
    store.acquire(over, now=T0, ttl_s=15)
    store.end([LeaseReport(identity=tokens, period_start=T0, consumed=130, granted=100)], now=T0)
    assert pool_allocated(engine, tokens, T0) == pytest.approx(130.0)  # the overrun counts
    assert SqlLeaseStore(engine, "b").reclaim_expired(now=T0 + 100) == 0  # both ended
    engine.dispose()


def test_steps_two_windows_old_are_pruned_and_calendar_pools_are_kept(database_url: str) -> None:
    engine = make_engine(database_url)
    store = SqlLeaseStore(engine, "a")
    store.acquire(window_need(1.0, T0), now=T0, ttl_s=15)
    store.acquire(need(1.0), now=NOW, ttl_s=15)
    assert store.prune_windows(now=T0 + 700) == 0  # 120 s + 10 minutes not yet over
    assert store.prune_windows(now=T0 + 721) == 1
    assert pool_allocated(engine, RATE, T0) is None
    assert pool_allocated(engine, BUDGET, START) == pytest.approx(1.0)
    engine.dispose()


def test_a_lease_granted_nothing_still_brings_what_it_consumed_to_the_pool(
    database_url: str,
) -> None:
    """Tokens settled over their estimate after the pool ran dry count all the same."""
    engine = make_engine(database_url)
    store = SqlLeaseStore(engine, "a")
    assert store.acquire(window_need(100.0, T0), now=T0, ttl_s=15) == 100.0
    assert store.acquire(window_need(5.0, T0), now=T0, ttl_s=15) == 0.0  # exhausted
    # another replica's lease of the step: granted nothing, then settled 7 over estimates
    other = SqlLeaseStore(engine, "b")
    tokens_over = LeaseReport(identity=RATE, period_start=T0, consumed=7.0, granted=0.0)
    other.report([tokens_over], now=T0 + 1, ttl_s=15)
    other.end([tokens_over], now=T0 + STEP)
    assert pool_allocated(engine, RATE, T0) == pytest.approx(107.0)
    ended = LeaseReport(identity=RATE, period_start=T0, consumed=3.0, granted=0.0)
    other.end([ended], now=T0 + STEP)  # ended without a report first: counted as well
    assert pool_allocated(engine, RATE, T0) == pytest.approx(110.0)
    engine.dispose()


def test_a_late_report_never_remakes_a_lease_already_settled(database_url: str) -> None:
    engine = make_engine(database_url)
    slow, other = SqlLeaseStore(engine, "slow"), SqlLeaseStore(engine, "other")
    slow.acquire(need(2.0), now=NOW, ttl_s=15)
    assert other.reclaim_expired(now=NOW + 16) == 1  # its replica stopped renewing
    assert pool_allocated(engine, BUDGET, START) == 0.0
    late = LeaseReport(identity=BUDGET, period_start=START, consumed=0.5, granted=2.0)
    slow.report([late], now=NOW + 17, ttl_s=15)  # it comes back: nothing to renew
    slow.release([late], now=NOW + 18)
    assert pool_allocated(engine, BUDGET, START) == 0.0  # not given back twice
    engine.dispose()


PROVIDER = ("provider", "primary", "daily")


def addition(amount: float, *, start: float = START, floor: float = 0.0) -> PoolAddition:
    return PoolAddition(
        identity=PROVIDER, period_start=start, window_s=None, limit=1.0, amount=amount, floor=floor
    )


def test_provider_spend_adds_up_across_replicas_and_each_reads_the_total(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    a, b = SqlLeaseStore(engine, "a"), SqlLeaseStore(engine, "b")
    step = (PROVIDER, START)
    assert a.add_and_read([addition(0.25, floor=0.5)], now=NOW) == {step: pytest.approx(0.75)}
    assert b.add_and_read([addition(0.5, floor=9.0)], now=NOW) == {step: pytest.approx(1.25)}
    assert a.add_and_read([addition(0.0)], now=NOW) == {step: pytest.approx(1.25)}  # a read
    rate = PoolAddition(
        identity=RATE, period_start=T0, window_s=60.0, limit=100, amount=30.0, floor=0.0
    )
    later = PoolAddition(
        identity=RATE, period_start=T0 + STEP, window_s=60.0, limit=100, amount=5.0, floor=0.0
    )
    assert a.add_and_read([rate], now=T0) == {(RATE, T0): pytest.approx(30.0)}
    assert b.add_and_read([later], now=T0 + STEP) == {(RATE, T0 + STEP): pytest.approx(35.0)}
    engine.dispose()
