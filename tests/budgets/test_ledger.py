"""The ledger: every tier blocks at its limit, holds stop concurrent overspend, periods
reset (calendar and rolling) on an injected clock, and a SQL reload counts once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from budgets.ledger import RECENT_S, Claim, Ledger
from budgets.tiers import provider_refusal
from messages.budget import BudgetRule, LoadedSpend, ProviderCharge, Refused, Reserved, Settle

NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC).timestamp()
MIDNIGHT = datetime(2026, 11, 26, 0, 0, tzinfo=UTC).timestamp()


def _rule(
    level: str, scope: str, limit: float | None, period: str = "daily", **rates: int
) -> BudgetRule:
    return BudgetRule(level=level, scope_id=scope, period=period, limit_usd=limit, **rates)


def _claim(request_id: str, estimate: float | None = 0.10, *, tokens: int = 100) -> Claim:
    return Claim(
        request_id=request_id,
        virtual_key_id="key-1",
        team="team-1",
        customer="cust-1",
        estimate_usd=estimate,
        input_tokens=tokens,
        expires_at=NOON + 3600,
    )


def _settle(
    request_id: str, cost: float, at: float, *, tokens: int = 0, **who: str | None
) -> Settle:
    scope = {"virtual_key_id": "key-1", "team": "team-1", "customer": "cust-1", **who}
    return Settle(request_id=request_id, at=at, cost_usd=cost, tokens=tokens, **scope)  # type: ignore[arg-type]


def _spend(ledger: Ledger, now: float, limit: float) -> int:
    """Reserve and settle at the estimate until refused; returns how many passed."""
    passed = 0
    while isinstance(ledger.reserve(_claim(f"r{passed}"), now), Reserved):
        ledger.settle(_settle(f"r{passed}", 0.10, now), now)
        passed += 1
        assert passed < 1000
    return passed


@pytest.mark.parametrize(
    ("level", "scope"), [("customer", "cust-1"), ("team", "team-1"), ("virtual_key", "key-1")]
)
def test_each_request_tier_blocks_at_its_limit(level: str, scope: str) -> None:
    ledger = Ledger()
    ledger.use_rules([_rule(level, scope, 0.50)], NOON)
    assert _spend(ledger, NOON, 0.50) == 5
    refused = ledger.reserve(_claim("late"), NOON)
    assert isinstance(refused, Refused)
    assert (refused.reason, refused.level, refused.scope_id, refused.limit) == (
        "budget",
        level,
        scope,
        0.50,
    )
    assert refused.used == pytest.approx(0.50) and refused.resets_at == MIDNIGHT
    text = refused.describe()
    assert (
        f"{level} '{scope}'" in text and "$0.50 per day" in text and "2026-11-26T00:00:00Z" in text
    )


def test_the_widest_failing_tier_is_named() -> None:
    ledger = Ledger()
    ledger.use_rules([_rule("virtual_key", "key-1", 0.05), _rule("customer", "cust-1", 0.05)], NOON)
    refused = ledger.reserve(_claim("a"), NOON)
    assert isinstance(refused, Refused) and refused.level == "customer"


def test_holds_stop_concurrent_requests_from_overspending_together() -> None:
    ledger = Ledger()
    ledger.use_rules([_rule("virtual_key", "key-1", 1.00)], NOON)
    held = [ledger.reserve(_claim(f"c{i}", 0.30), NOON) for i in range(5)]
    assert [isinstance(answer, Reserved) for answer in held] == [True, True, True, False, False]
    refused = held[3]
    assert isinstance(refused, Refused) and refused.reserved == pytest.approx(0.90)
    ledger.settle(_settle("c0", 0.05, NOON), NOON)  # cheaper than held: the rest is released
    assert isinstance(ledger.reserve(_claim("c5", 0.30), NOON), Reserved)
    [view] = ledger.views(NOON)
    assert view.spent_usd == pytest.approx(0.05) and view.reserved_usd == pytest.approx(0.90)


def test_a_failed_request_releases_its_hold_and_lapsed_holds_are_dropped() -> None:
    ledger = Ledger()
    ledger.use_rules([_rule("team", "team-1", 0.25)], NOON)
    assert isinstance(ledger.reserve(_claim("a", 0.20), NOON), Reserved)
    assert isinstance(ledger.reserve(_claim("b", 0.20), NOON), Refused)
    ledger.settle(_settle("a", 0.0, NOON), NOON)  # failed: nothing billed
    assert isinstance(ledger.reserve(_claim("b", 0.20), NOON), Reserved)
    assert ledger.expire(NOON + 3599) == 0
    assert ledger.expire(NOON + 3600) == 1
    [view] = ledger.views(NOON + 3600)
    assert view.reserved_usd == 0 and view.spent_usd == 0


def test_calendar_period_resets_at_midnight_utc() -> None:
    ledger = Ledger()
    ledger.use_rules([_rule("virtual_key", "key-1", 0.30)], NOON)
    assert _spend(ledger, NOON, 0.30) == 3
    assert isinstance(ledger.reserve(_claim("x"), MIDNIGHT - 1), Refused)
    assert isinstance(ledger.reserve(_claim("x"), MIDNIGHT), Reserved)
    [view] = ledger.views(MIDNIGHT)
    assert view.spent_usd == 0 and view.period_start == MIDNIGHT


def test_a_charge_dated_in_the_last_period_does_not_count_in_the_new_one() -> None:
    ledger = Ledger()
    ledger.use_rules([_rule("virtual_key", "key-1", 1.0)], NOON)
    ledger.settle(_settle("a", 0.40, MIDNIGHT + 5), MIDNIGHT + 5)
    ledger.settle(_settle("b", 0.25, MIDNIGHT - 5), MIDNIGHT + 6)  # a late straggler
    [view] = ledger.views(MIDNIGHT + 10)
    assert view.spent_usd == pytest.approx(0.40)


def test_rolling_window_frees_spend_as_it_ages_out() -> None:
    ledger = Ledger()
    ledger.use_rules([_rule("virtual_key", "key-1", 0.30, period="1h")], NOON)
    for i, minute in enumerate((0, 20, 40)):
        at = NOON + minute * 60
        assert isinstance(ledger.reserve(_claim(f"r{i}"), at), Reserved)
        ledger.settle(_settle(f"r{i}", 0.10, at), at)
    refused = ledger.reserve(_claim("x"), NOON + 50 * 60)
    assert isinstance(refused, Refused)
    # the first charge leaves the window one bucket (6 s for 1 h) after an hour
    assert refused.resets_at == pytest.approx(NOON + 3600 + 6, abs=6)
    assert "rolling 1h" in refused.describe()
    assert isinstance(ledger.reserve(_claim("x"), NOON + 3600 + 12), Reserved)


def _provider_settle(request_id: str, cost: float, at: float) -> Settle:
    charge = ProviderCharge(provider_id="openai-main", cost_usd=cost, tokens=10, at=at)
    return Settle(
        request_id=request_id,
        at=at,
        virtual_key_id=None,
        team=None,
        customer=None,
        cost_usd=cost,
        tokens=10,
        provider_charges=(charge,),
    )


def test_provider_budget_blocks_that_provider_until_the_period_ends() -> None:
    ledger = Ledger()
    ledger.use_rules([_rule("provider", "openai-main", 0.50)], NOON)
    ledger.settle(_provider_settle("a", 0.30, NOON), NOON)
    assert provider_refusal(ledger.provider_gate(NOON), "openai-main", now=NOON) is None
    ledger.settle(_provider_settle("b", 0.25, NOON + 1), NOON + 1)
    gate = ledger.provider_gate(NOON + 1)
    why = provider_refusal(gate, "openai-main", now=NOON + 1)
    assert why is not None and "daily budget spent" in why
    assert provider_refusal(gate, "other", now=NOON + 1) is None
    assert provider_refusal(gate, "openai-main", now=MIDNIGHT) is None  # lapses by itself


def test_provider_rate_limit_blocks_for_the_rest_of_the_minute() -> None:
    ledger = Ledger()
    ledger.use_rules([_rule("provider", "openai-main", None, requests_per_minute=1)], NOON)
    ledger.settle(_provider_settle("a", 0.0, NOON), NOON)
    why = provider_refusal(ledger.provider_gate(NOON + 20), "openai-main", now=NOON + 20)
    assert why is not None and "1 requests per minute" in why
    assert provider_refusal(ledger.provider_gate(NOON + 20), "openai-main", now=NOON + 60) is None


def test_rate_limits_refuse_with_the_wait_until_the_window_frees() -> None:
    ledger = Ledger()
    ledger.use_rules([_rule("team", "team-1", None, requests_per_minute=2)], NOON)
    assert isinstance(ledger.reserve(_claim("a", None), NOON), Reserved)
    assert isinstance(ledger.reserve(_claim("b", None), NOON + 10), Reserved)
    refused = ledger.reserve(_claim("c", None), NOON + 30)
    assert isinstance(refused, Refused) and refused.reason == "rate"
    assert refused.retry_after_s == pytest.approx(30.0) and refused.unit == "requests"
    assert "2 requests per minute" in refused.describe()
    assert isinstance(ledger.reserve(_claim("c", None), NOON + 60.5), Reserved)


def test_token_rate_counts_the_estimate_then_the_real_tokens() -> None:
    ledger = Ledger()
    ledger.use_rules([_rule("virtual_key", "key-1", None, tokens_per_minute=1000)], NOON)
    assert isinstance(ledger.reserve(_claim("a", None, tokens=600), NOON), Reserved)
    assert isinstance(ledger.reserve(_claim("b", None, tokens=600), NOON), Refused)
    ledger.settle(_settle("a", 0.0, NOON + 1, tokens=300), NOON + 1)  # used less than thought
    assert isinstance(ledger.reserve(_claim("b", None, tokens=600), NOON + 2), Reserved)
    refused = ledger.reserve(_claim("c", None, tokens=200), NOON + 3)
    assert isinstance(refused, Refused) and refused.unit == "tokens"
    assert refused.retry_after_s == pytest.approx(57.0)


def test_a_budget_loaded_from_sql_counts_each_settlement_once() -> None:
    ledger = Ledger()
    ledger.use_rules([_rule("virtual_key", "key-1", 10.0)], NOON)
    ledger.settle(_settle("before", 1.0, NOON - 30), NOON - 30)  # also in SQL
    ledger.settle(_settle("after", 2.0, NOON + 5), NOON + 5)  # not in SQL yet
    cutoff = NOON
    sql = LoadedSpend(identity=("virtual_key", "key-1", "daily"), buckets=((NOON - 43200, 1.0),))
    ledger.load([sql], cutoff=cutoff, now=NOON + 10)
    [view] = ledger.views(NOON + 10)
    assert view.spent_usd == pytest.approx(3.0)


def test_a_slow_load_keeps_every_settlement_since_its_cutoff() -> None:
    ledger = Ledger()
    ledger.use_rules([_rule("virtual_key", "key-1", 10.0)], NOON)
    ledger.begin_load(NOON)
    ledger.settle(_settle("early", 1.0, NOON + 1), NOON + 1)  # not in SQL yet
    later = NOON + 10 * RECENT_S  # the load took far longer than RECENT_S
    ledger.settle(_settle("late", 2.0, later), later)
    sql = LoadedSpend(identity=("virtual_key", "key-1", "daily"), buckets=((NOON - 43200, 0.5),))
    ledger.load([sql], cutoff=NOON, now=later)
    ledger.end_load(NOON)
    [view] = ledger.views(later)
    assert view.spent_usd == pytest.approx(3.5)


def test_removing_a_budget_stops_counting_it() -> None:
    ledger = Ledger()
    ledger.use_rules([_rule("virtual_key", "key-1", 0.10)], NOON)
    assert ledger.scopes == {("virtual_key", "key-1")}
    assert ledger.use_rules([], NOON) == []
    assert ledger.scopes == frozenset() and ledger.views(NOON) == []
    assert isinstance(ledger.reserve(_claim("a", 5.0), NOON), Reserved)
