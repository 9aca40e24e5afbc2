"""The budget side of the gateway, assembled for ``actors.system``.

At start: the price table (shipped, with the config's ``pricing:`` overrides) is synced
into ``model_prices``; the stored virtual keys and CLI budgets are read; the accountant
is built with the config's and the CLI's budgets (it rebuilds its counters from SQL
when it starts). Started in the actors' nursery: the accountant, then the store watcher.
On reload: new prices for the meter and the accountant, the config's budgets to the
accountant, and the new prices into SQL. Every write after the start (counters, price
syncs) goes through ``writes``, the gateway's one SQL writer (``TrailWriter.submit``).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import trio
from sqlalchemy.engine import Engine

from actors.budget import Accountant, BudgetBoard, SqlWrites
from actors.budget_leases import LeaseKeeper, RunSql, new_replica_id
from actors.store_watcher import POLL_S, KeysSink, StoredState, StoreWatcher
from actors.supervisor import supervised
from budgets.keys import StoredKey
from budgets.metering import Meter
from budgets.pricing import Pricer, PriceTable
from budgets.rules import rules_from_config
from config.model import GatewayConfig
from messages.budget import AccountantInbox, UseBudgets
from storage.budget_store import SqlBudgetStore, load_budget_rules
from storage.key_store import load_keys
from storage.lease_store import SqlLeaseStore
from storage.price_store import sync_prices


def load_stored_state(engine: Engine) -> StoredState:
    """The virtual keys and budgets the CLI stored (blocking)."""
    return StoredState(keys=tuple(load_keys(engine)), rules=tuple(load_budget_rules(engine)))


def prices_for(config: GatewayConfig) -> PriceTable:
    return PriceTable.shipped().with_overrides(config.pricing)


@dataclass(slots=True, kw_only=True)
class BudgetWiring:
    engine: Engine
    stored: StoredState
    board: BudgetBoard
    accountant: Accountant
    meter: Meter  # the audit logger's
    writes: SqlWrites
    store_poll_s: float = POLL_S

    @classmethod
    async def prepare(
        cls,
        engine: Engine,
        config: GatewayConfig,
        *,
        writes: SqlWrites,
        run_sql: RunSql[object] | None = None,
        store_poll_s: float = POLL_S,
    ) -> BudgetWiring:
        prices = prices_for(config)
        stored = await trio.to_thread.run_sync(_prepare_sql, engine, prices)
        board = BudgetBoard()
        accountant = Accountant(
            prices=prices,
            board=board,
            store=SqlBudgetStore(engine),
            rules={"config": rules_from_config(config.budgets), "cli": stored.rules},
            writes=writes,
            leases=_lease_keeper(engine, config, run_sql),
            lease_share=config.server.budget_lease_share,
        )
        return cls(
            engine=engine,
            stored=stored,
            board=board,
            accountant=accountant,
            meter=Meter(Pricer(prices)),
            writes=writes,
            store_poll_s=store_poll_s,
        )

    @property
    def stored_keys(self) -> tuple[StoredKey, ...]:
        return self.stored.keys

    async def start(
        self,
        nursery: trio.Nursery,
        inbox: trio.MemoryReceiveChannel[AccountantInbox],
        watcher_outbox: trio.MemorySendChannel[AccountantInbox],
        use_keys: KeysSink,
    ) -> None:
        """The accountant (counters rebuilt before it answers), then the store watcher."""
        await nursery.start(supervised, "budget_accountant", self.accountant.run, inbox)
        watcher = StoreWatcher(
            functools.partial(load_stored_state, self.engine),
            self.stored,
            use_keys=use_keys,
            accountant=watcher_outbox,
            poll_s=self.store_poll_s,
        )
        await nursery.start(supervised, "store_watcher", watcher.run)

    async def reload(
        self, config: GatewayConfig, accountant: trio.MemorySendChannel[AccountantInbox]
    ) -> None:
        prices = prices_for(config)
        self.meter.pricer.use(prices, since=time.time())
        self.accountant.use_prices(prices)
        await accountant.send(UseBudgets(source="config", rules=rules_from_config(config.budgets)))
        self.writes(
            "model_prices", functools.partial(sync_prices, self.engine, prices, now=time.time())
        )


def _lease_keeper(
    engine: Engine, config: GatewayConfig, run_sql: RunSql[object] | None
) -> LeaseKeeper | None:
    """With ``server.shared_budgets``: this replica's leases of the shared budgets."""
    if not config.server.shared_budgets or run_sql is None:
        return None
    store = SqlLeaseStore(engine, new_replica_id())
    return LeaseKeeper(store, run_sql, ttl_s=config.server.budget_lease_ttl_s, clock=time.time)


def _prepare_sql(engine: Engine, prices: PriceTable) -> StoredState:
    sync_prices(engine, prices, now=time.time())
    return load_stored_state(engine)


__all__ = ["BudgetWiring", "load_stored_state", "prices_for"]
