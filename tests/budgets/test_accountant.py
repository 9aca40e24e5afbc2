"""The accountant actor driven through its inbox: counters rebuilt from the store before
it answers, reserve → settle, budgets added at runtime, holds lapsing, the board."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import trio
import trio.testing

from actors.budget import LOAD_LAG_S, Accountant, BudgetBoard
from budgets.pricing import PriceTable
from budgets.tiers import BudgetView
from config.model import ProviderConfig, VirtualKeyConfig
from messages.budget import (
    AccountantInbox,
    BudgetRule,
    LoadedSpend,
    ProviderCharge,
    Refused,
    Reserve,
    Reserved,
    Route,
    Settle,
    UseBudgets,
)

NOON = 1_795_608_000.0  # 2026-11-25T12:00:00Z
KEY_RULE = BudgetRule(level="virtual_key", scope_id="key-1", period="daily", limit_usd=0.05)
ROUTE = (Route(provider_type="openai", model="gpt-5.5", max_output_tokens=500),)
ESTIMATE = (1000 * 5 + 500 * 30) / 1e6  # 1000 tokens in, 500 out on gpt-5.5: $0.02


class FakeStore:
    def __init__(self, spent: dict[tuple[str, str, str], float]) -> None:
        self.spent = spent
        self.cutoffs: list[float] = []
        self.written: list[list[BudgetView]] = []

    def load_spend(self, rules: Sequence[BudgetRule], *, cutoff: float) -> list[LoadedSpend]:
        self.cutoffs.append(cutoff)
        return [
            LoadedSpend(
                identity=r.identity, buckets=((cutoff - 60, self.spent.get(r.identity, 0)),)
            )
            for r in rules
        ]

    def write_counters(self, views: Sequence[BudgetView], *, at: float) -> None:
        self.written.append(list(views))


class Clock:
    def __init__(self) -> None:
        self.now = NOON

    def __call__(self) -> float:
        return self.now


async def _ask(
    inbox: trio.MemorySendChannel[AccountantInbox], request_id: str
) -> Reserved | Refused:
    send, receive = trio.open_memory_channel[Reserved | Refused](1)
    await inbox.send(
        Reserve(
            request_id=request_id,
            virtual_key_id="key-1",
            team=None,
            customer=None,
            routes=ROUTE,
            input_tokens=1000,
            expires_at=NOON + 600,
            reply_to=send,
        )
    )
    with trio.fail_after(5):
        return await receive.receive()


def _settle(request_id: str, cost: float, at: float) -> Settle:
    return Settle(
        request_id=request_id,
        at=at,
        virtual_key_id="key-1",
        team=None,
        customer=None,
        cost_usd=cost,
        tokens=100,
        provider_charges=(ProviderCharge(provider_id="p1", cost_usd=cost, tokens=100, at=at),),
    )


async def test_counters_are_rebuilt_before_it_answers_and_settle_releases(
    nursery: trio.Nursery,
) -> None:
    store = FakeStore({KEY_RULE.identity: 0.02})
    clock = Clock()
    accountant = Accountant(
        prices=PriceTable.shipped(),
        board=BudgetBoard(),
        store=store,
        rules={"config": (KEY_RULE,)},
        clock=clock,
        tick_s=3600,
    )
    send, receive = trio.open_memory_channel[AccountantInbox](16)
    await nursery.start(accountant.run, receive)
    assert store.cutoffs == [NOON]
    first = await _ask(send, "a")
    assert isinstance(first, Reserved) and first.estimate_usd == pytest.approx(ESTIMATE)
    refused = await _ask(send, "b")  # 0.02 spent + 0.02 held + 0.02 > 0.05
    assert isinstance(refused, Refused) and refused.used == pytest.approx(0.02)
    await send.send(_settle("a", 0.001, NOON))
    await trio.testing.wait_all_tasks_blocked()
    assert isinstance(await _ask(send, "b"), Reserved)
    stats = accountant.statistics()
    assert (stats.reserved, stats.refused, stats.settled, stats.holds) == (2, 1, 1, 1)
    assert stats.budgets[0].spent_usd == pytest.approx(0.021)
    await accountant.tick()
    assert store.written[-1][0].reserved_usd == pytest.approx(ESTIMATE)
    clock.now = NOON + 700  # past the hold's expires_at
    await accountant.tick()
    assert accountant.statistics().lapsed == 1 and accountant.statistics().holds == 0


async def test_a_budget_set_at_runtime_is_loaded_without_losing_recent_settlements(
    nursery: trio.Nursery,
) -> None:
    store = FakeStore({KEY_RULE.identity: 0.03})  # what SQL had before the cutoff
    clock = Clock()
    board = BudgetBoard()
    accountant = Accountant(
        prices=PriceTable.shipped(), board=board, store=store, clock=clock, tick_s=3600
    )
    send, receive = trio.open_memory_channel[AccountantInbox](16)
    await nursery.start(accountant.run, receive)
    key = VirtualKeyConfig(id="key-1", secret="s", account="dev")
    assert not board.applies_to(key)
    await send.send(_settle("recent", 0.01, NOON - 1))  # after the cutoff: not in SQL's sum
    clock.now = NOON
    await send.send(UseBudgets(source="cli", rules=(KEY_RULE,)))
    with trio.fail_after(5):  # the load runs in a worker thread
        while not (budgets := accountant.statistics().budgets) or budgets[0].spent_usd < 0.035:
            await trio.sleep(0.01)
    assert store.cutoffs == [NOON - LOAD_LAG_S]
    assert board.applies_to(key)
    [view] = accountant.statistics().budgets
    assert view.spent_usd == pytest.approx(0.04)
    assert isinstance(await _ask(send, "c"), Refused)


async def test_the_board_blocks_a_provider_whose_budget_is_spent(nursery: trio.Nursery) -> None:
    rule = BudgetRule(level="provider", scope_id="p1", period="total", limit_usd=0.01)
    board = BudgetBoard()
    accountant = Accountant(
        prices=PriceTable.shipped(),
        board=board,
        store=FakeStore({}),
        rules={"config": (rule,)},
        clock=Clock(),
        tick_s=3600,
    )
    send, receive = trio.open_memory_channel[AccountantInbox](16)
    await nursery.start(accountant.run, receive)
    provider = ProviderConfig(id="p1", type="openai", model="m", weight=1, base_url="x", keys=())
    assert board.provider_check(None, provider) is None  # type: ignore[arg-type]
    await send.send(_settle("a", 0.011, NOON))
    await trio.testing.wait_all_tasks_blocked()
    why = board.provider_check(None, provider)  # type: ignore[arg-type]
    assert why is not None and "total budget spent" in why
