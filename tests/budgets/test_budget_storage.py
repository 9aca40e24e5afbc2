"""Budget tables and cost views on SQLite and PostgreSQL: stored keys and budgets, spend
rebuilt from the trail, the accountant's counters beside the trail's sums, prices by date."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from budgets.keys import StoredKey
from budgets.pricing import PriceTable
from budgets.tiers import BudgetView
from config.model import PriceOverride
from messages.budget import BudgetRule
from storage import SqlRecorder
from storage.budget_store import (
    delete_budget,
    load_budget_rules,
    load_spend,
    read_budget_status,
    set_budget,
    write_counters,
)
from storage.cost_report import cost_report
from storage.key_store import KeyConflict, create_key, load_keys, revoke_key
from storage.price_store import price_at, sync_prices
from tests.budgets.trail_samples import GPT_55_COST, MISTRAL_COST, PricedTrail, Who, request_events

NOW = time.time()
TODAY = datetime.fromtimestamp(NOW, UTC).date()
DAY_START = datetime.combine(TODAY, datetime.min.time(), UTC).timestamp()
TEN_DAYS_AGO = NOW - 10 * 86400


def _record(engine: Engine) -> PricedTrail:
    """Five priced requests: three today by key-1 (two on gpt-5.5, one on mistral), one
    today by key-2 of another team, one ten days ago by key-1."""
    trail = PricedTrail()
    recorder = SqlRecorder(engine)
    other = Who(key="key-2", team="blue", customer="acme")
    today = max(DAY_START + 1, NOW - 120)
    batches = [
        request_events("r1", today),
        request_events("r2", today + 1),
        request_events(
            "r3",
            today + 2,
            provider="mistral-main",
            provider_type="mistral",
            model="mistral-large-latest",
        ),
        request_events("r4", today + 3, who=other),
        request_events("r5", TEN_DAYS_AGO),
    ]
    for events in batches:
        recorder.append(trail.batch(events))
    return trail


def _rule(level: str, scope: str, period: str, limit: float | None = 10.0) -> BudgetRule:
    return BudgetRule(level=level, scope_id=scope, period=period, limit_usd=limit, source="cli")


def test_stored_keys_round_trip_and_revoke_once(engine: Engine) -> None:
    key = StoredKey(
        id="vk_1",
        name="laptop",
        digest="ab" * 32,
        prefix="sy-abc…",
        account="dev",
        team="red",
        customer=None,
        allowed_models=("gpt-5.5", "gpt-4o"),
        created_at=float(int(NOW)),  # whole seconds: the round trip keeps microseconds only
        expires_at=float(int(NOW) + 60),
    )
    create_key(engine, key)
    assert load_keys(engine) == [key]
    with pytest.raises(KeyConflict):
        create_key(engine, key)
    assert revoke_key(engine, "vk_1", at=NOW + 1) and revoke_key(engine, "vk_1", at=NOW + 9)
    [revoked] = load_keys(engine)
    assert revoked.revoked_at == pytest.approx(NOW + 1, abs=1e-3)
    assert not revoke_key(engine, "vk_missing", at=NOW)


def test_cli_budgets_are_set_replaced_and_deleted(engine: Engine) -> None:
    set_budget(engine, _rule("team", "red", "monthly", 5.0), at=NOW)
    set_budget(engine, _rule("team", "red", "monthly", 7.5), at=NOW)
    rated = BudgetRule(
        level="virtual_key",
        scope_id="key-1",
        period="12h",
        limit_usd=None,
        requests_per_minute=30,
        source="cli",
    )
    set_budget(engine, rated, at=NOW)
    rules = load_budget_rules(engine)
    assert [(r.level, r.scope_id, r.period, r.limit_usd, r.requests_per_minute) for r in rules] == [
        ("team", "red", "monthly", 7.5, None),
        ("virtual_key", "key-1", "12h", None, 30),
    ]
    assert delete_budget(engine, _rule("team", "red", "monthly"))
    assert not delete_budget(engine, _rule("team", "red", "monthly"))
    with pytest.raises(sa.exc.IntegrityError):
        set_budget(engine, _rule("planet", "earth", "daily"), at=NOW)


def test_spend_is_rebuilt_per_tier_and_window_from_the_trail(engine: Engine) -> None:
    _record(engine)
    rules = [
        _rule("virtual_key", "key-1", "daily"),
        _rule("virtual_key", "key-1", "total"),
        _rule("team", "red", "daily"),
        _rule("customer", "acme", "daily"),
        _rule("provider", "openai-main", "daily"),
        _rule("virtual_key", "key-1", "1h"),
    ]
    spends = {s.identity: s for s in load_spend(engine, rules, cutoff=NOW + 60)}
    today_key1 = 2 * GPT_55_COST + MISTRAL_COST

    def total(identity: tuple[str, str, str]) -> float:
        return sum(usd for _, usd in spends[identity].buckets)

    assert total(("virtual_key", "key-1", "daily")) == pytest.approx(today_key1)
    assert total(("virtual_key", "key-1", "total")) == pytest.approx(today_key1 + GPT_55_COST)
    assert total(("team", "red", "daily")) == pytest.approx(today_key1)
    assert total(("customer", "acme", "daily")) == pytest.approx(today_key1 + GPT_55_COST)
    assert total(("provider", "openai-main", "daily")) == pytest.approx(3 * GPT_55_COST)
    rolling = spends[("virtual_key", "key-1", "1h")].buckets
    assert len(rolling) == 3 and sum(usd for _, usd in rolling) == pytest.approx(today_key1)
    early = load_spend(engine, rules[:1], cutoff=DAY_START - 1)
    assert early[0].buckets[0][1] == 0  # before today's requests finished


def test_budget_status_sets_the_counters_beside_the_trails_sums(engine: Engine) -> None:
    trail = _record(engine)
    rule = _rule("virtual_key", "key-1", "daily", 1.0)
    provider = _rule("provider", "mistral-main", "total", 2.0)
    counted = sum(s.cost_usd for s in trail.settlements if s.virtual_key_id == "key-1")
    views = [
        BudgetView(
            rule=rule,
            spent_usd=counted,
            reserved_usd=0.25,
            period_start=DAY_START,
            period_end=DAY_START + 86400,
            resets_at=DAY_START + 86400,
        ),
        BudgetView(
            rule=provider,
            spent_usd=MISTRAL_COST,
            reserved_usd=0.0,
            period_start=None,
            period_end=None,
            resets_at=None,
        ),
    ]
    write_counters(engine, views, at=NOW)
    status = {row["level"]: row for row in read_budget_status(engine)}
    key = status["virtual_key"]
    assert key["spent_usd"] == pytest.approx(2 * GPT_55_COST + MISTRAL_COST)  # today only
    assert key["counted_usd"] == pytest.approx(counted)  # the ledger also saw r5, 10 days ago
    assert key["reserved_usd"] == 0.25 and key["limit_usd"] == 1.0
    assert key["remaining_usd"] == pytest.approx(1.0 - counted - 0.25)
    assert status["provider"]["spent_usd"] == pytest.approx(MISTRAL_COST)
    write_counters(engine, views[1:], at=NOW + 1)
    assert [row["level"] for row in read_budget_status(engine)] == ["provider"]


def _this_week_sql(engine: Engine) -> str:
    """The README's query: what did each model cost me this week (since Monday, UTC)?"""
    monday = (
        "date_trunc('week', now() AT TIME ZONE 'UTC')::date"
        if engine.dialect.name == "postgresql"
        else "date('now', 'weekday 0', '-6 days')"
    )
    return f"""
        SELECT provider, model, SUM(requests) AS requests, SUM(input_tokens) AS input,
               SUM(cached_input_tokens) AS cached, SUM(output_tokens) AS output,
               SUM(cost_usd) AS cost_usd
        FROM cost_by_model
        WHERE day >= {monday}
        GROUP BY provider, model ORDER BY cost_usd DESC"""


def test_cost_by_model_answers_this_weeks_cost_in_one_select(engine: Engine) -> None:
    _record(engine)
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.exec_driver_sql(_this_week_sql(engine))]
    assert [row[:6] for row in rows] == [
        ("openai-main", "gpt-5.5", 3, 3600, 600, 900),
        ("mistral-main", "mistral-large-latest", 1, 1200, 200, 300),
    ]
    assert float(rows[0][6]) == pytest.approx(3 * GPT_55_COST)
    assert float(rows[1][6]) == pytest.approx(MISTRAL_COST)


def test_cost_reports_by_key_team_day_and_since(engine: Engine) -> None:
    _record(engine)
    by_key = cost_report(engine, "key")
    assert [(r["virtual_key"], r["team"], r["requests"]) for r in by_key] == [
        ("key-1", "red", 4),
        ("key-2", "blue", 1),
    ]
    assert by_key[0]["cost_usd"] == pytest.approx(3 * GPT_55_COST + MISTRAL_COST)
    today = cost_report(engine, "team", since=TODAY)
    assert [(r["team"], r["requests"]) for r in today] == [("red", 3), ("blue", 1)]
    days = cost_report(engine, "day")
    ten_days_ago = datetime.fromtimestamp(TEN_DAYS_AGO, UTC).date()
    assert [(r["day"], r["requests"]) for r in days] == [
        (ten_days_ago.isoformat(), 1),
        (TODAY.isoformat(), 4),
    ]
    by_model = cost_report(engine, "model", since=TODAY)
    assert sum(r["cost_usd"] for r in by_model) == pytest.approx(sum(r["cost_usd"] for r in today))
    assert all(r["unpriced"] == 0 for r in by_model)


def test_prices_are_kept_by_date_so_old_requests_keep_their_price(engine: Engine) -> None:
    shipped = PriceTable.shipped()
    assert sync_prices(engine, shipped, now=NOW) == len(shipped)
    assert sync_prices(engine, shipped, now=NOW + 1) == 0
    effective = datetime(2026, 11, 25, tzinfo=UTC).timestamp()
    row = price_at(engine, "openai", "gpt-5.5", effective + 1)
    assert row is not None and row["input_per_mtok"] == 5.0 and row["tier_above_tokens"] == 272_000
    assert price_at(engine, "openai", "gpt-5.5", effective - 1) is None
    cheaper = shipped.with_overrides(
        (PriceOverride(provider="openai", model="gpt-5.5", input=4.0, output=20.0),)
    )
    later = effective + 30 * 86400
    assert sync_prices(engine, cheaper, now=later) == 1
    assert price_at(engine, "openai", "gpt-5.5", later - 1)["input_per_mtok"] == 5.0  # type: ignore[index]
    new = price_at(engine, "openai", "gpt-5.5", later + 1)
    assert new is not None and new["input_per_mtok"] == 4.0 and new["source"] == "config"


def test_replicas_writing_the_counters_at_once_never_collide(engine: Engine) -> None:
    """Every replica's accountant rewrites the same counter rows about once a second."""
    views = [
        BudgetView(
            rule=_rule("virtual_key", f"key-{n}", "total", 1.0),
            spent_usd=0.1 * n,
            reserved_usd=0.0,
            period_start=None,
            period_end=None,
            resets_at=None,
        )
        for n in range(20)
    ]
    errors: list[BaseException] = []

    def replica() -> None:
        try:
            for n in range(15):
                write_counters(engine, views, at=NOW + n)
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=replica) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(read_budget_status(engine)) == 20
