"""Provider budgets and provider rate limits shared by replicas.

A provider's budget or rate limit is a gate — the router skips a provider whose budget is
spent or whose rate limit is reached — not a reservation, so nothing is leased: each
replica adds what it charged each provider to that provider's pool row in
``budget_pools`` (about once a second, with the leases' report) and reads back what all
replicas charged; the gate then counts the larger of its own view and the pools'. The
pools are keyed like the leases' (``budgets.shared_limits``): a calendar period's start,
or a window's step, with ``requests/minute`` and ``tokens/minute`` pools for rate limits
(one request per attempt the provider answered, and its tokens).

What one replica charged but had not added when it was killed is the only spend the
others never learn of: at most a second of its traffic to that provider.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from budgets.leases import WINDOW_STEPS, period_key, window_step_start
from budgets.periods import Period, parse_period
from budgets.rates import WINDOW_S, RateWindow
from budgets.shared_limits import rate_pools
from budgets.tiers import BudgetView, ProviderBlock, ProviderGate, provider_gate
from messages.budget import BudgetId, BudgetLevel, ProviderCharge

_period = functools.lru_cache(maxsize=256)(parse_period)
"""A budget's period text parsed once (the gate is rebuilt on every provider charge)."""

PoolStep = tuple[BudgetId, float]
"""A pool row's key: the pool and its period's (or step's) start."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolAddition:
    """Add ``amount`` to a pool's row for ``period_start`` (made at ``floor`` if new),
    then read the pool's total (over ``window_s`` for a window's steps)."""

    identity: BudgetId
    period_start: float
    window_s: float | None
    limit: float
    amount: float
    floor: float = 0.0


class ProviderPools:
    def __init__(self) -> None:
        self._pending: dict[PoolStep, PoolAddition] = {}
        self._totals: dict[PoolStep, float] = {}  # what the pools held when last read
        self._in_force: dict[PoolStep, PoolAddition] = {}  # what to read, from the gate

    def charge_budget(
        self, identity: BudgetId, period: Period, limit: float, usd: float, at: float
    ) -> None:
        start, window = _key(period, at)
        self._add(
            PoolAddition(
                identity=identity, period_start=start, window_s=window, limit=limit, amount=usd
            )
        )

    def charge_rate(self, provider_id: str, rate: RateWindow, charge: ProviderCharge) -> None:
        start = window_step_start(charge.at, WINDOW_S)
        requests, tokens = rate_pools((str(BudgetLevel.PROVIDER), provider_id))
        for identity, limit, amount in (
            (requests, rate.requests_per_minute, 1.0),
            (tokens, rate.tokens_per_minute, float(charge.tokens)),
        ):
            if limit is not None:
                self._add(
                    PoolAddition(
                        identity=identity,
                        period_start=start,
                        window_s=WINDOW_S,
                        limit=limit,
                        amount=amount,
                    )
                )

    def take(self) -> list[PoolAddition]:
        """What to add (and read): this replica's charges since the last call, and a zero
        addition for every other pool in force, to read what the others charged."""
        additions = dict(self._in_force)
        for step, pending in self._pending.items():
            reading = additions.get(step)
            floor = reading.floor if reading is not None else 0.0
            additions[step] = dataclasses.replace(pending, floor=floor)
        self._pending = {}
        return list(additions.values())

    def restore(self, additions: Iterable[PoolAddition]) -> None:
        """Adding failed (the database): keep the amounts for the next try."""
        for addition in additions:
            if addition.amount:
                self._add(addition)

    def use_totals(self, totals: Mapping[PoolStep, float]) -> None:
        self._totals = dict(totals)

    def gate(
        self, views: Sequence[BudgetView], rates: Mapping[str, RateWindow], now: float
    ) -> ProviderGate:
        """The provider gate, counting what every replica charged."""
        self._in_force = {}
        shared_views = [self._shared_view(view, now) for view in views]
        local = provider_gate(shared_views, rates, now)
        blocked = dict(local.blocked)
        for provider_id, rate in rates.items():
            block = self._rate_block(provider_id, rate, now)
            if block is not None and provider_id not in blocked:
                blocked[provider_id] = block
        return ProviderGate(blocked=blocked) if blocked else local

    def _shared_view(self, view: BudgetView, now: float) -> BudgetView:
        limit = view.rule.limit_usd
        if limit is None:
            return view
        start, window = _key(_period(view.rule.period), now)
        spent = self._total(view.rule.identity, start, window, limit, floor=view.spent_usd)
        if spent <= view.spent_usd:
            return view
        # the others' spend ages out of a window step by step: look again at the next
        resets_at = start + window / WINDOW_STEPS if window else view.period_end
        return dataclasses.replace(view, spent_usd=spent, resets_at=resets_at)

    def _rate_block(self, provider_id: str, rate: RateWindow, now: float) -> ProviderBlock | None:
        start = window_step_start(now, WINDOW_S)
        requests, tokens = rate_pools((str(BudgetLevel.PROVIDER), provider_id))
        for identity, limit, unit in (
            (requests, rate.requests_per_minute, "requests"),
            (tokens, rate.tokens_per_minute, "tokens"),
        ):
            if limit is None:
                continue
            if self._total(identity, start, WINDOW_S, limit) >= limit:
                return ProviderBlock(
                    why=f"rate limit of {limit} {unit} per minute reached (all replicas)",
                    until=start + WINDOW_S / WINDOW_STEPS,
                )
        return None

    def _total(  # and remember the pool as in force: ``take`` reads it each time
        self,
        identity: BudgetId,
        start: float,
        window: float | None,
        limit: float,
        floor: float = 0.0,
    ) -> float:
        """What the pools held when last read, plus what this replica has not added."""
        step = (identity, start)
        self._in_force[step] = PoolAddition(
            identity=identity,
            period_start=start,
            window_s=window,
            limit=limit,
            amount=0.0,
            floor=floor,
        )
        pending = self._pending.get(step)
        return self._totals.get(step, 0.0) + (pending.amount if pending else 0.0)

    def _add(self, addition: PoolAddition) -> None:
        step = (addition.identity, addition.period_start)
        pending = self._pending.get(step)
        if pending is not None:
            addition = dataclasses.replace(addition, amount=pending.amount + addition.amount)
        self._pending[step] = addition


def _key(period: Period, at: float) -> tuple[float, float | None]:
    if period.rolling_s is not None:
        return window_step_start(at, period.rolling_s), period.rolling_s
    return period_key(period.bounds(at)[0]), None


__all__ = ["PoolAddition", "PoolStep", "ProviderPools"]
