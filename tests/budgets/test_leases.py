"""Shared budgets in the ledger: a replica admits only against what it has leased."""

from __future__ import annotations

import pytest

from budgets.leases import LeaseBook, LeaseNeed
from budgets.ledger import Claim, Ledger
from messages.budget import BudgetRule, Refused, Reserved, Settle

NOW = 1_764_600_000.0
RULE = BudgetRule(level="virtual_key", scope_id="alice", period="monthly", limit_usd=10.0)


def claim(request_id: str, usd: float) -> Claim:
    return Claim(
        request_id=request_id,
        virtual_key_id="alice",
        team=None,
        customer=None,
        estimate_usd=usd,
        input_tokens=10,
        expires_at=NOW + 60,
    )


def ledger() -> Ledger:
    book = Ledger(LeaseBook(0.01))
    book.use_rules([RULE], NOW)
    return book


def test_without_a_lease_a_request_waits_for_one_sized_to_a_slice_or_its_need() -> None:
    book = ledger()
    small = book.reserve(claim("r1", 0.02), NOW)
    assert isinstance(small, LeaseNeed)
    assert small.amount == pytest.approx(0.1)  # 1 % of the limit
    big = book.reserve(claim("r2", 0.5), NOW)
    assert isinstance(big, LeaseNeed)
    assert big.amount == pytest.approx(0.5)  # more than a slice: what it needs


def test_requests_are_admitted_within_the_lease_then_need_more() -> None:
    book = ledger()
    need = book.reserve(claim("r1", 0.04), NOW)
    assert isinstance(need, LeaseNeed)
    assert book.leases is not None
    book.leases.granted(need, 0.1)
    assert isinstance(book.reserve(claim("r1", 0.04), NOW), Reserved)
    assert isinstance(book.reserve(claim("r2", 0.04), NOW), Reserved)
    assert isinstance(book.reserve(claim("r3", 0.04), NOW), LeaseNeed)  # 0.12 > 0.10 held


def test_settled_spend_is_consumed_from_the_lease_and_an_exhausted_pool_refuses() -> None:
    book = ledger()
    need = book.reserve(claim("r1", 0.05), NOW)
    assert isinstance(need, LeaseNeed) and book.leases is not None
    book.leases.granted(need, need.amount)
    assert isinstance(book.reserve(claim("r1", 0.05), NOW), Reserved)
    book.settle(
        Settle(
            request_id="r1",
            at=NOW,
            virtual_key_id="alice",
            team=None,
            customer=None,
            cost_usd=0.08,
            tokens=10,
        ),
        NOW,
    )
    lease = book.leases.current(RULE.identity)
    assert lease is not None and lease.consumed == pytest.approx(0.08)
    more = book.reserve(claim("r2", 0.05), NOW)
    assert isinstance(more, LeaseNeed)
    book.leases.granted(more, 0.0)  # the other replicas hold the rest
    refused = book.reserve(claim("r2", 0.05), NOW)
    assert isinstance(refused, Refused) and refused.reason == "budget"
    assert book.leases.reports()[0].consumed == pytest.approx(0.08)


def test_a_new_period_starts_a_new_lease() -> None:
    book = ledger()
    need = book.reserve(claim("r1", 0.05), NOW)
    assert isinstance(need, LeaseNeed) and book.leases is not None
    book.leases.granted(need, 0.1)
    next_month = NOW + 40 * 86400
    again = book.reserve(claim("r2", 0.05), next_month)
    assert isinstance(again, LeaseNeed) and again.period_start > need.period_start
