"""Rate limits and rolling budgets shared by replicas: a replica admits only what its
leases of the current step hold, counts what it admitted and settled in them, and gives
back each step's lease when the step ends."""

from __future__ import annotations

import pytest

from budgets.leases import LeaseBook, LeaseNeed, window_step_start
from budgets.ledger import Claim, Ledger
from budgets.shared_limits import rate_pools
from messages.budget import BudgetRule, Refused, Reserved, Settle

STEP_START = 1_764_600_000.0  # a multiple of 6 s (a minute's step)
NOW = STEP_START + 1.0
ALICE = ("virtual_key", "alice")
REQUESTS, TOKENS = rate_pools(ALICE)


def claim(request_id: str, *, usd: float = 0.0, tokens: int = 10, at: float = NOW) -> Claim:
    return Claim(
        request_id=request_id,
        virtual_key_id="alice",
        team=None,
        customer=None,
        estimate_usd=usd,
        input_tokens=tokens,
        expires_at=at + 60,
    )


def settle(request_id: str, *, tokens: int, usd: float = 0.0, at: float = NOW) -> Settle:
    return Settle(
        request_id=request_id,
        at=at,
        virtual_key_id="alice",
        team=None,
        customer=None,
        cost_usd=usd,
        tokens=tokens,
    )


def ledger(rule: BudgetRule) -> tuple[Ledger, LeaseBook]:
    book = LeaseBook(0.01)
    ledger = Ledger(book)
    ledger.use_rules([rule], NOW)
    return ledger, book


def rate_rule(rpm: int | None = None, tpm: int | None = None) -> BudgetRule:
    return BudgetRule(
        level="virtual_key",
        scope_id="alice",
        period="monthly",
        limit_usd=None,
        requests_per_minute=rpm,
        tokens_per_minute=tpm,
    )


def test_requests_per_minute_are_admitted_against_the_current_steps_lease() -> None:
    ledger, book = ledger_for(rate_rule(rpm=1000))
    need = ledger.reserve(claim("r1"), NOW)
    assert isinstance(need, LeaseNeed)
    assert need.identity == REQUESTS and need.window_s == 60.0
    assert need.period_start == STEP_START
    assert need.amount == pytest.approx(10.0)  # 1 % of 1000 requests
    book.granted(need, 3.0)  # the pool had only 3 left
    for n in range(3):
        assert isinstance(ledger.reserve(claim(f"r{n}"), NOW), Reserved)
    refused = ledger.reserve(claim("r3"), NOW)
    assert isinstance(refused, Refused)
    assert (refused.reason, refused.unit, refused.limit) == ("rate", "requests", 1000)
    assert refused.retry_after_s == pytest.approx(5.0)  # the pool's next step, 6 s steps


def test_tokens_count_the_estimate_when_admitted_and_what_was_used_when_settled() -> None:
    ledger, book = ledger_for(rate_rule(tpm=10_000))
    need = ledger.reserve(claim("r1", tokens=50), NOW)
    assert isinstance(need, LeaseNeed) and need.identity == TOKENS
    assert need.amount == pytest.approx(100.0)  # a slice; the request needs only 50
    book.granted(need, 100.0)
    assert isinstance(ledger.reserve(claim("r1", tokens=50), NOW), Reserved)
    ledger.settle(settle("r1", tokens=130), NOW)  # 50 of input estimated; 130 used
    lease = book.current(TOKENS)
    assert lease is not None and lease.consumed == pytest.approx(130.0)
    more = ledger.reserve(claim("r2", tokens=50), NOW)
    assert isinstance(more, LeaseNeed)  # 130 + 50 > 100 leased: the deficit and more
    assert more.amount == pytest.approx(100.0)
    ledger.settle(settle("r0", tokens=0), NOW)  # unknown request: no correction
    assert lease.consumed == pytest.approx(130.0)


def test_a_new_step_retires_the_last_lease_with_what_it_consumed() -> None:
    ledger, book = ledger_for(rate_rule(rpm=1000))
    need = ledger.reserve(claim("r1"), NOW)
    assert isinstance(need, LeaseNeed)
    book.granted(need, 10.0)
    assert isinstance(ledger.reserve(claim("r1"), NOW), Reserved)
    assert isinstance(ledger.reserve(claim("r2"), NOW), Reserved)
    assert book.retired() == []
    later = NOW + 6.0
    again = ledger.reserve(claim("r3", at=later), later)
    assert isinstance(again, LeaseNeed) and again.period_start == STEP_START + 6.0
    [ended] = book.retired()
    assert (ended.identity, ended.period_start) == (REQUESTS, STEP_START)
    assert (ended.consumed, ended.granted) == (2.0, 10.0)  # 8 go back to the pool
    assert book.retired() == []  # taken once


def test_a_grant_for_a_step_that_ended_meanwhile_is_given_back() -> None:
    ledger, book = ledger_for(rate_rule(rpm=1000))
    old = ledger.reserve(claim("r1"), NOW)
    assert isinstance(old, LeaseNeed)
    new = ledger.reserve(claim("r2", at=NOW + 6), NOW + 6)  # the step moved on
    assert isinstance(new, LeaseNeed)
    book.granted(old, 10.0)  # the old step's answer arrives late
    [stale] = book.retired()
    assert (stale.period_start, stale.granted, stale.consumed) == (STEP_START, 10.0, 0.0)
    lease = book.current(REQUESTS)
    assert lease is not None and lease.granted == 0.0  # not counted in the new step


def test_a_rolling_budget_is_leased_per_step_and_spend_counts_once() -> None:
    rule = BudgetRule(level="virtual_key", scope_id="alice", period="1h", limit_usd=10.0)
    ledger, book = ledger_for(rule)
    need = ledger.reserve(claim("r1", usd=0.05), NOW)
    assert isinstance(need, LeaseNeed)
    assert need.window_s == 3600.0
    assert need.period_start == window_step_start(NOW, 3600.0)  # 6-minute steps
    assert need.amount == pytest.approx(0.1)
    book.granted(need, 0.1)
    assert isinstance(ledger.reserve(claim("r1", usd=0.05), NOW), Reserved)
    later = need.period_start + 360.0 + 1.0  # the next step
    ledger.settle(settle("r1", tokens=10, usd=0.04, at=later), later)
    assert book.current(rule.identity) is not None
    again = ledger.reserve(claim("r2", usd=0.05, at=later), later)
    assert isinstance(again, LeaseNeed) and again.period_start == need.period_start + 360.0
    lease = book.current(rule.identity)
    assert lease is not None and lease.period_start == again.period_start
    [ended] = book.retired()
    # r1 settled before anything asked in the new step: it counts, once, in the lease
    # current then (the pool counts a window and one step, so either step is in it)
    assert ended.consumed == pytest.approx(0.04)
    assert lease.consumed == 0.0
    book.granted(again, 0.0)  # the window is spent
    refused = ledger.reserve(claim("r2", usd=0.05, at=later), later)
    assert isinstance(refused, Refused) and refused.reason == "budget"
    assert refused.resets_at == pytest.approx(again.period_start + 360.0)


def test_settled_spend_counts_in_the_current_steps_lease() -> None:
    rule = BudgetRule(level="virtual_key", scope_id="alice", period="1h", limit_usd=10.0)
    ledger, book = ledger_for(rule)
    need = ledger.reserve(claim("r1", usd=0.05), NOW)
    assert isinstance(need, LeaseNeed)
    book.granted(need, 0.1)
    assert isinstance(ledger.reserve(claim("r1", usd=0.05), NOW), Reserved)
    ledger.settle(settle("r1", tokens=10, usd=0.07), NOW)
    lease = book.current(rule.identity)
    assert lease is not None and lease.consumed == pytest.approx(0.07)


def test_without_leases_rate_limits_stay_local() -> None:
    ledger = Ledger()
    ledger.use_rules([rate_rule(rpm=2)], NOW)
    assert isinstance(ledger.reserve(claim("r1"), NOW), Reserved)
    assert isinstance(ledger.reserve(claim("r2"), NOW), Reserved)
    refused = ledger.reserve(claim("r3"), NOW)
    assert isinstance(refused, Refused) and refused.retry_after_s == pytest.approx(60.0)


def ledger_for(rule: BudgetRule) -> tuple[Ledger, LeaseBook]:
    return ledger(rule)


def test_tokens_settled_into_a_lease_granted_nothing_are_still_reported() -> None:
    ledger, book = ledger_for(rate_rule(tpm=10_000))
    need = ledger.reserve(claim("r1", tokens=50), NOW)
    assert isinstance(need, LeaseNeed)
    book.granted(need, 100.0)
    assert isinstance(ledger.reserve(claim("r1", tokens=50), NOW), Reserved)
    next_step = NOW + 6
    dry = ledger.reserve(claim("r2", tokens=50, at=next_step), next_step)
    assert isinstance(dry, LeaseNeed)
    book.granted(dry, 0.0)  # the pool is spent for this step
    ledger.settle(settle("r1", tokens=1100, at=next_step), next_step)
    [report] = book.reports()
    assert (report.granted, report.consumed) == (0.0, 1050.0)  # what SQL must still learn
    [retired] = book.retired()
    assert (retired.granted, retired.consumed) == (100.0, 50.0)


def test_a_late_grant_and_its_steps_lease_end_as_one() -> None:
    """Both are the same SQL lease (replica, pool, step): one report, sums of both."""
    ledger, book = ledger_for(rate_rule(rpm=1000))
    first = ledger.reserve(claim("r1"), NOW)
    assert isinstance(first, LeaseNeed)
    book.granted(first, 10.0)
    assert isinstance(ledger.reserve(claim("r1"), NOW), Reserved)
    more = LeaseNeed(
        identity=REQUESTS, period_start=STEP_START, amount=10.0, limit=1000, floor=0, window_s=60
    )
    assert isinstance(ledger.reserve(claim("r2", at=NOW + 6), NOW + 6), LeaseNeed)
    book.granted(more, 10.0)  # asked in the old step, answered in the new one
    [ended] = book.retired()
    assert (ended.period_start, ended.granted, ended.consumed) == (STEP_START, 20.0, 1.0)
