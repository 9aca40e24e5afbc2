"""Provider budgets and rate limits shared by replicas: each replica's charges go to the
provider's pools as additions, and its gate counts what all replicas charged."""

from __future__ import annotations

import pytest

from budgets.leases import LeaseBook
from budgets.ledger import Ledger
from budgets.provider_pools import PoolAddition
from budgets.shared_limits import rate_pools
from budgets.tiers import provider_refusal
from messages.budget import BudgetRule, ProviderCharge, Settle

DAY_START = 1_764_547_200.0  # a day's start (UTC)
NOW = DAY_START + 3600.0
DAILY = BudgetRule(level="provider", scope_id="primary", period="daily", limit_usd=1.0)
RATE = BudgetRule(
    level="provider",
    scope_id="primary",
    period="total",
    limit_usd=None,
    requests_per_minute=100,
    tokens_per_minute=None,
)


def shared_ledger(*rules: BudgetRule) -> Ledger:
    ledger = Ledger(LeaseBook(0.01))
    ledger.use_rules(list(rules), NOW)
    return ledger


def charged(ledger: Ledger, request_id: str, usd: float, *, at: float = NOW) -> None:
    charge = ProviderCharge(provider_id="primary", cost_usd=usd, tokens=500, at=at)
    ledger.settle(
        Settle(
            request_id=request_id,
            at=at,
            virtual_key_id="alice",
            team=None,
            customer=None,
            cost_usd=usd,
            tokens=500,
            provider_charges=(charge,),
        ),
        at,
    )


def test_charges_become_additions_and_pools_in_force_are_read_every_time() -> None:
    ledger = shared_ledger(DAILY)
    pools = ledger.provider_pools
    assert pools is not None
    ledger.provider_gate(NOW)  # the gate learns which pools are in force
    charged(ledger, "r1", 0.25)
    charged(ledger, "r2", 0.25)
    [addition] = pools.take()
    assert addition == PoolAddition(
        identity=DAILY.identity,
        period_start=DAY_START,
        window_s=None,
        limit=1.0,
        amount=0.5,
        floor=0.0,
    )
    [again] = pools.take()  # nothing new: still read, to learn the others' spend
    assert again.amount == 0.0


def test_the_gate_closes_on_what_all_replicas_spent() -> None:
    ledger = shared_ledger(DAILY)
    pools = ledger.provider_pools
    assert pools is not None
    charged(ledger, "r1", 0.25)  # this replica: $0.25 of $1.00
    assert provider_refusal(ledger.provider_gate(NOW), "primary", now=NOW) is None
    pools.take()
    pools.use_totals({(DAILY.identity, DAY_START): 1.05})  # all replicas: $1.05
    gate = ledger.provider_gate(NOW)
    assert provider_refusal(gate, "primary", now=NOW) == "daily budget spent ($1.05 of $1.00)"
    assert provider_refusal(gate, "primary", now=DAY_START + 86400) is None  # next day


def test_a_shared_rate_limit_blocks_until_the_pools_next_step() -> None:
    ledger = shared_ledger(RATE)
    pools = ledger.provider_pools
    assert pools is not None
    charged(ledger, "r1", 0.0)
    requests, _ = rate_pools(("provider", "primary"))
    [addition] = pools.take()
    assert (addition.identity, addition.amount, addition.window_s) == (requests, 1.0, 60.0)
    step = addition.period_start
    pools.use_totals({(requests, step): 100.0})
    gate = ledger.provider_gate(NOW)
    reason = provider_refusal(gate, "primary", now=NOW)
    assert reason == "rate limit of 100 requests per minute reached (all replicas)"
    assert provider_refusal(gate, "primary", now=step + 6.0) is None


def test_additions_that_failed_are_kept_for_the_next_try() -> None:
    ledger = shared_ledger(DAILY)
    pools = ledger.provider_pools
    assert pools is not None
    charged(ledger, "r1", 0.25)
    failed = pools.take()
    charged(ledger, "r2", 0.5)
    pools.restore(failed)
    [retry] = pools.take()
    assert retry.amount == pytest.approx(0.75)


def test_a_single_process_has_no_provider_pools() -> None:
    assert Ledger().provider_pools is None
