"""The budget accountant: the one owner of every budget's counters.

Inbox: ``Reserve`` (the ingress, before routing; answered on the request's one-shot
reply channel without waiting), ``Settle`` (the audit logger, at each request's terminal
event, fire-and-forget) and ``UseBudgets`` (the config at start and reload; the CLI's
budgets as the store watcher finds them). Handling a message never awaits.

On start the counters are rebuilt from the SQL trail before ``task_status.started()``,
so a restart never resets spend; a budget that appears later is loaded the same way in
the background (see ``budgets.ledger`` for how settlements meanwhile are not lost or
counted twice). About once a second stale holds lapse, the provider gate and the scopes
are republished on the ``BudgetBoard``, and the counters are written to
``budget_counters`` (what ``budget_status`` shows beside the trail's own sums) — handed
to the gateway's one SQL writer (``writes``, the audit logger's) without waiting, the
latest replacing one not yet written, so an unavailable database never holds it up.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, assert_never

import structlog
import trio

from actors.budget_leases import LeaseKeeper
from budgets.estimate import estimate_cost
from budgets.leases import DEFAULT_SHARE, LeaseBook, LeaseNeed, window_step_start
from budgets.ledger import RECENT_S, Claim, Ledger
from budgets.pricing import PriceTable
from budgets.rules import merged_rules
from budgets.tiers import OPEN_GATE, BudgetView, ProviderGate, provider_refusal
from config.model import AccountConfig, ProviderConfig, VirtualKeyConfig
from messages.budget import (
    AccountantInbox,
    BudgetId,
    BudgetLevel,
    BudgetRule,
    LoadedSpend,
    Refused,
    Reserve,
    Settle,
    UseBudgets,
)
from messages.commands import ClientRequest
from storage.database import is_unavailable

log = structlog.get_logger("switchyard.budget")

TICK_S = 1.0
REWRITE_EVERY_TICKS = 10  # counters are rewritten at least this often, changed or not
LOAD_LAG_S = RECENT_S / 2  # a budget added at runtime reads SQL up to this long ago
LEASE_RELEASE_TIMEOUT_S = 5.0  # at shutdown, giving unused leases back
PROVIDER_SHARE_S = 0.25  # replicas: provider spend to and from the pools this often
LOAD_RETRY_S, LOAD_RETRY_MAX_S = 0.5, 10.0  # reading the spend while SQL is unavailable


class BudgetStore(Protocol):
    """Blocking SQL access (``storage.budget_store.SqlBudgetStore``), run in a thread."""

    def load_spend(self, rules: Sequence[BudgetRule], *, cutoff: float) -> list[LoadedSpend]: ...

    def write_counters(self, views: Sequence[BudgetView], *, at: float) -> None: ...


SqlWrites = Callable[[str, Callable[[], object]], None]
"""``TrailWriter.submit``: run a blocking write on the one SQL writer, latest per key."""


class BudgetBoard:
    """What the accountant publishes for other actors to read without asking: immutable
    snapshots, replaced (never mutated) by the accountant only."""

    def __init__(self) -> None:
        self.scopes: frozenset[tuple[str, str]] = frozenset()
        self.gate: ProviderGate = OPEN_GATE

    def applies_to(self, key: VirtualKeyConfig) -> bool:
        """Whether any budget or rate limit covers the key, its team or its customer."""
        scopes = self.scopes
        if not scopes:
            return False
        return (
            (str(BudgetLevel.VIRTUAL_KEY), key.id) in scopes
            or (key.team is not None and (str(BudgetLevel.TEAM), key.team) in scopes)
            or (key.customer is not None and (str(BudgetLevel.CUSTOMER), key.customer) in scopes)
        )

    def covers_providers(self, account: AccountConfig | None) -> bool:
        """Whether a budget or rate limit covers one of ``account``'s providers."""
        scopes = self.scopes
        if not scopes or account is None:
            return False
        level = str(BudgetLevel.PROVIDER)
        return any((level, provider.id) in scopes for provider in account.providers)

    def provider_check(self, request: ClientRequest, provider: ProviderConfig) -> str | None:
        """The router's check (``Router(checks=…)``): skip a provider whose budget is spent."""
        return provider_refusal(self.gate, provider.id, now=time.time())


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountantStatistics:
    budgets: tuple[BudgetView, ...]
    holds: int
    reserved: int
    refused: int
    settled: int
    lapsed: int


class Accountant:
    def __init__(
        self,
        *,
        prices: PriceTable,
        board: BudgetBoard,
        store: BudgetStore | None = None,
        rules: dict[str, tuple[BudgetRule, ...]] | None = None,
        clock: Callable[[], float] = time.time,
        tick_s: float = TICK_S,
        writes: SqlWrites | None = None,
        leases: LeaseKeeper | None = None,
        lease_share: float = DEFAULT_SHARE,
    ) -> None:
        self._prices = prices
        self._board = board
        self._store = store
        self._rules = dict(rules or {})
        self._clock = clock
        self._tick_s = tick_s
        self._writes = writes
        self._leases = leases  # shared budgets (replicas): see actors.budget_leases
        self._ledger = Ledger(LeaseBook(lease_share) if leases is not None else None)
        self._parked: dict[BudgetId, list[Reserve]] = {}  # waiting for a lease
        self._limiter = trio.CapacityLimiter(1)
        self._nursery: trio.Nursery | None = None
        self._dirty = True
        self._provider_rules = False
        self._ticks = 0
        self._reserved = self._refused = self._settled = self._lapsed = 0
        self._handled: trio.Event | None = None  # made only while someone waits on it

    async def run(
        self,
        inbox: trio.MemoryReceiveChannel[AccountantInbox],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                added = self._ledger.use_rules(merged_rules(self._rules), self._clock())
                await self._load(added, cutoff=self._clock())
                self._publish()
                nursery.start_soon(self._tick_forever)
                if self._leases is not None:
                    nursery.start_soon(self._share_providers_forever)
                task_status.started()
                async for message in inbox:
                    self.handle(message)
                    if self._handled is not None:
                        self._handled.set()
                        self._handled = None
                nursery.cancel_scope.cancel()
        finally:  # cancelled at shutdown: give back what this replica did not use
            await self._release_leases()

    def handle(self, message: AccountantInbox) -> None:
        match message:
            case Reserve():
                self._reserve(message)
            case Settle():
                self._settle(message)
            case UseBudgets():
                self._use(message)
            case _:
                assert_never(message)

    async def next_message(self) -> None:
        """Return after the next message is handled (what a test waits on to see the
        counters move, instead of polling them)."""
        if self._handled is None:
            self._handled = trio.Event()
        await self._handled.wait()

    def use_prices(self, prices: PriceTable) -> None:
        """Estimate with ``prices`` from now on (a config reload)."""
        self._prices = prices

    def statistics(self) -> AccountantStatistics:
        return AccountantStatistics(
            budgets=tuple(self._ledger.views(self._clock())),
            holds=self._ledger.holds,
            reserved=self._reserved,
            refused=self._refused,
            settled=self._settled,
            lapsed=self._lapsed,
        )

    def _reserve(self, message: Reserve) -> None:
        estimate = estimate_cost(self._prices, message.routes, input_tokens=message.input_tokens)
        claim = Claim(
            request_id=message.request_id,
            virtual_key_id=message.virtual_key_id,
            team=message.team,
            customer=message.customer,
            estimate_usd=estimate.usd,
            unpriced=estimate.unpriced,
            input_tokens=message.input_tokens,
            expires_at=message.expires_at,
        )
        answer = self._ledger.reserve(claim, self._clock())
        if isinstance(answer, LeaseNeed):
            self._parked.setdefault(answer.identity, []).append(message)
            self._want_lease(answer)
            return
        if isinstance(answer, Refused):
            self._refused += 1
        else:
            self._reserved += 1
            self._dirty = True
        # if the ingress gave up waiting, its request's terminal event settles the hold
        with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
            message.reply_to.send_nowait(answer)

    def _want_lease(self, need: LeaseNeed) -> None:
        book = self._ledger.leases
        if book is None or need.identity in book.pending or self._nursery is None:
            return
        book.pending.add(need.identity)
        self._nursery.start_soon(self._acquire, need)

    async def _acquire(self, need: LeaseNeed) -> None:
        """Ask the pool; then reserve the requests that waited for it (again)."""
        book, keeper = self._ledger.leases, self._leases
        assert book is not None
        assert keeper is not None
        try:
            granted = await keeper.acquire(need)
        except Exception:  # an unreachable database: what is leased is all there is
            log.exception("budget lease not granted: the database failed", budget=need.identity)
            granted = 0.0
        book.pending.discard(need.identity)
        book.granted(need, granted)
        for message in self._parked.pop(need.identity, []):
            self._reserve(message)

    async def _keep_leases(self) -> None:
        """Each tick: fetch the next slice of a lease running low, report consumption,
        end the leases of periods or steps that are over."""
        book, keeper = self._ledger.leases, self._leases
        if book is None or keeper is None:
            return
        now = self._clock()
        for identity, lease in list(book.items()):
            limits = self._ledger.budget_limit(identity)
            current = lease.window_s is None or lease.period_start == window_step_start(
                now, lease.window_s
            )
            if current and limits and book.low(identity, held=limits[1], limit=limits[0]):
                self._want_lease(
                    LeaseNeed(
                        identity=identity,
                        period_start=lease.period_start,
                        amount=book.share * limits[0],
                        limit=limits[0],
                        floor=lease.granted,
                        window_s=lease.window_s,
                    )
                )
        ended = book.retired()
        try:
            await keeper.report(book.reports(), ended)
        except Exception:
            log.exception("budget leases not reported: the database failed", at=now)
            book.retire_again(ended)

    async def _share_providers_forever(self) -> None:
        while True:
            await trio.sleep(PROVIDER_SHARE_S)
            await self.share_providers()

    async def share_providers(self) -> None:
        """Add this replica's provider charges to the pools, gate on what all charged."""
        pools, keeper = self._ledger.provider_pools, self._leases
        additions = pools.take() if pools is not None else []
        if pools is None or keeper is None or not additions:
            return
        try:
            pools.use_totals(await keeper.add_and_read(additions))
        except Exception:
            log.exception("provider spend not shared: the database failed")
            pools.restore(additions)
            return
        if self._provider_rules:
            self._board.gate = self._ledger.provider_gate(self._clock())

    async def _release_leases(self) -> None:
        book, keeper = self._ledger.leases, self._leases
        if book is None or keeper is None:
            return
        with trio.move_on_after(LEASE_RELEASE_TIMEOUT_S, shield=True):
            try:
                await keeper.release(book.final_reports(self._ledger.held_by_budget()))
            except Exception:
                log.exception("budget leases not released: they lapse when they expire")

    def _settle(self, message: Settle) -> None:
        self._settled += 1
        self._ledger.settle(message, self._clock())
        self._dirty = True
        if message.provider_charges and self._provider_rules:
            self._board.gate = self._ledger.provider_gate(self._clock())

    def _use(self, message: UseBudgets) -> None:
        self._rules[message.source] = message.rules
        now = self._clock()
        added = self._ledger.use_rules(merged_rules(self._rules), now)
        self._publish()
        self._dirty = True
        if added and self._nursery is not None:
            self._nursery.start_soon(self._load, added, now - LOAD_LAG_S)
        log.info("budgets in force", source=message.source, budgets=len(message.rules))

    async def _load(self, rules: Sequence[BudgetRule], cutoff: float) -> None:
        store = self._store
        if store is None or not rules:
            return
        self._ledger.begin_load(cutoff)
        try:
            spends = await self._read_spend(store, rules, cutoff)
            self._ledger.load(spends, cutoff=cutoff, now=self._clock())
        finally:
            self._ledger.end_load(cutoff)
        self._publish()
        self._dirty = True

    async def _read_spend(
        self, store: BudgetStore, rules: Sequence[BudgetRule], cutoff: float
    ) -> list[LoadedSpend]:
        """The spend from SQL, retried while the database is unavailable (a restart)."""
        delay = LOAD_RETRY_S
        while True:
            try:
                return await trio.to_thread.run_sync(
                    lambda: store.load_spend(rules, cutoff=cutoff), limiter=self._limiter
                )
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                log.warning("budget spend unreadable: retrying", error=type(exc).__name__)
            await trio.sleep(delay)
            delay = min(delay * 2, LOAD_RETRY_MAX_S)

    async def _tick_forever(self) -> None:
        while True:
            await trio.sleep(self._tick_s)
            await self.tick()

    async def tick(self) -> None:
        """Lapse stale holds, republish, and write the counters if they changed."""
        now = self._clock()
        lapsed = self._ledger.expire(now)
        if lapsed:
            self._lapsed += lapsed
            self._dirty = True
            log.warning("budget holds lapsed without a settlement", holds=lapsed)
        self._publish()
        await self._keep_leases()
        self._ticks += 1
        if self._store is None or not (self._dirty or self._ticks % REWRITE_EVERY_TICKS == 0):
            return
        self._dirty = False
        views = self._ledger.views(now)
        store = self._store
        if self._writes is not None:
            self._writes("budget_counters", lambda: store.write_counters(views, at=now))
            return
        await trio.to_thread.run_sync(
            lambda: store.write_counters(views, at=now), limiter=self._limiter
        )

    def _publish(self) -> None:
        scopes = self._ledger.scopes
        self._board.scopes = scopes
        self._provider_rules = any(level == BudgetLevel.PROVIDER for level, _ in scopes)
        if self._provider_rules:
            self._board.gate = self._ledger.provider_gate(self._clock())
        else:
            self._board.gate = OPEN_GATE


__all__ = ["Accountant", "AccountantStatistics", "BudgetBoard", "BudgetStore", "SqlWrites"]
