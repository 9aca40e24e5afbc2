"""The accountant while SQL is unavailable: its spend is read again until the database
answers (not a crash loop), and its counters go to the one SQL writer without waiting."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

import pytest
import sqlalchemy as sa
import trio

from actors import budget
from actors.budget import Accountant, BudgetBoard
from budgets.pricing import PriceTable
from budgets.tiers import BudgetView
from messages.budget import AccountantInbox, BudgetRule, LoadedSpend
from tests.budgets.test_accountant import KEY_RULE, Clock, FakeStore


class RestartingStore(FakeStore):
    """``load_spend`` fails as a restarting server does, ``failures`` times."""

    def __init__(self, failures: int) -> None:
        super().__init__({KEY_RULE.identity: 0.03})
        self.failures = failures

    def load_spend(self, rules: Sequence[BudgetRule], *, cutoff: float) -> list[LoadedSpend]:
        if self.failures:
            self.failures -= 1
            raise sa.exc.OperationalError("SELECT", {}, sqlite3.OperationalError("shutting down"))
        return super().load_spend(rules, cutoff=cutoff)


async def test_the_spend_is_read_again_until_the_database_answers(
    nursery: trio.Nursery, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(budget, "LOAD_RETRY_S", 0.01)
    store = RestartingStore(failures=3)
    accountant = Accountant(
        prices=PriceTable.shipped(),
        board=BudgetBoard(),
        store=store,
        rules={"config": (KEY_RULE,)},
        clock=Clock(),
        tick_s=3600,
    )
    send, receive = trio.open_memory_channel[AccountantInbox](16)
    with trio.fail_after(5):
        await nursery.start(accountant.run, receive)
    assert store.failures == 0
    [view] = accountant.statistics().budgets
    assert view.spent_usd == pytest.approx(0.03)
    send.close()


async def test_a_bug_reading_the_spend_is_not_retried(nursery: trio.Nursery) -> None:
    class Broken(FakeStore):
        def load_spend(self, rules: Sequence[BudgetRule], *, cutoff: float) -> list[LoadedSpend]:
            raise KeyError("a bug")

    accountant = Accountant(
        prices=PriceTable.shipped(),
        board=BudgetBoard(),
        store=Broken({}),
        rules={"config": (KEY_RULE,)},
        clock=Clock(),
    )
    _, receive = trio.open_memory_channel[AccountantInbox](16)
    with pytest.raises(ExceptionGroup) as raised:
        await accountant.run(receive)
    assert raised.group_contains(KeyError)


async def test_counters_are_handed_to_the_one_writer_without_waiting(
    nursery: trio.Nursery,
) -> None:
    store = FakeStore({})
    submitted: dict[str, Callable[[], object]] = {}
    accountant = Accountant(
        prices=PriceTable.shipped(),
        board=BudgetBoard(),
        store=store,
        rules={"config": (KEY_RULE,)},
        clock=Clock(),
        tick_s=3600,
        writes=submitted.__setitem__,
    )
    send, receive = trio.open_memory_channel[AccountantInbox](16)
    await nursery.start(accountant.run, receive)
    await accountant.tick()
    assert store.written == []  # nothing written on the accountant's own thread
    submitted.pop("budget_counters")()
    written: list[BudgetView] = store.written[-1]
    assert [view.rule.identity for view in written] == [KEY_RULE.identity]
    send.close()
