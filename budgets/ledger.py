"""The budget ledger: every budget's spend and holds, reserve → settle, as pure state.

``reserve`` admits a request only if, for each budget of its tiers (customer, team,
virtual key), what is spent plus what requests in flight hold plus this request's
estimate stays within the limit — so concurrent requests cannot overspend together;
an overspend needs a request to cost more than its estimate. ``settle`` charges what
a request really cost (to its tiers and to each provider it used) and drops its hold.
Holds whose settlement never comes lapse at their ``expires_at``.

Spend also rebuilds from SQL: a budget added while the gateway runs is loaded from the
trail up to a ``cutoff`` and then replays the settlements of the last ``RECENT_S``
seconds dated from the cutoff on, so a settlement is counted once whether or not the
trail had it yet. Times are unix seconds, passed in (the actor injects the clock).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from budgets.budget_refusals import Scope, unpriced_refusal
from budgets.leases import LeaseBook, LeaseNeed
from budgets.periods import Period, parse_period
from budgets.provider_pools import ProviderPools
from budgets.rates import RateEntry, RateWindow, rate_refused, smallest_limit
from budgets.shared_limits import (
    budget_lease_key,
    budget_lease_verdict,
    charge_rate_leases,
    correct_rate_tokens,
    rate_lease_verdict,
)
from budgets.spend import TOLERANCE_USD, SpendWindow
from budgets.tiers import BudgetView, ProviderGate, charges_for, provider_gate, settled_scopes
from messages.budget import (
    REQUEST_LEVELS,
    BudgetId,
    BudgetLevel,
    BudgetRule,
    LoadedSpend,
    Refused,
    Reserved,
    Route,
    Settle,
)

RECENT_S = 10.0
"""How long settlements are kept to replay into budgets loaded while traffic flows
(longer while a load is in flight: from its cutoff on).

Memory holds RECENT_S times the request rate of them (~18,000 at 1,800 req/s), so this is
short: a runtime load reads SQL up to half of it ago, fifty times the trail writer's
lag target (p99 ≤ 100 ms, which ``scripts/bench`` reports)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    """What ``reserve`` needs: the request's scopes, its estimate, when the hold lapses."""

    request_id: str
    virtual_key_id: str
    team: str | None
    customer: str | None
    estimate_usd: float | None
    input_tokens: int
    expires_at: float
    unpriced: tuple[Route, ...] = ()  # routes whose model has no price: refused under USD

    def scopes(self) -> list[Scope]:
        ids = {
            BudgetLevel.CUSTOMER: self.customer,
            BudgetLevel.TEAM: self.team,
            BudgetLevel.VIRTUAL_KEY: self.virtual_key_id,
        }
        return [(str(level), ids[level] or "") for level in REQUEST_LEVELS if ids[level]]


@dataclass(slots=True)
class _Budget:
    rule: BudgetRule
    period: Period
    spend: SpendWindow
    reserved: float = 0.0


@dataclass(slots=True)
class _Hold:
    amount: float
    budgets: tuple[BudgetId, ...]
    rate_entries: list[tuple[Scope, RateEntry]] = field(default_factory=list)
    expires_at: float = 0.0


class Ledger:
    """``leases``: with shared budgets (replicas), what this replica may spend of each
    budget and rate limit (``budgets.leases``); ``reserve`` then also answers
    ``LeaseNeed`` — ask the pool for more, then reserve again. Provider budgets are
    then shared through ``provider_pools``."""

    def __init__(self, leases: LeaseBook | None = None) -> None:
        self.leases = leases
        self.provider_pools = ProviderPools() if leases is not None else None
        self._budgets: dict[BudgetId, _Budget] = {}
        self._by_scope: dict[Scope, list[BudgetId]] = {}
        self._rates: dict[Scope, RateWindow] = {}
        self._holds: dict[str, _Hold] = {}
        self._recent: deque[Settle] = deque()
        self._loading: list[float] = []  # cutoffs of loads in flight

    # -- rules -------------------------------------------------------------------------

    def use_rules(self, rules: Sequence[BudgetRule], now: float) -> list[BudgetRule]:
        """Apply these budgets from now on; returns those whose spend must be loaded."""
        wanted = {rule.identity: rule for rule in rules}
        added: list[BudgetRule] = []
        for identity in list(self._budgets):
            if identity not in wanted:
                del self._budgets[identity]
        for identity, rule in wanted.items():
            current = self._budgets.get(identity)
            if current is not None:
                current.rule = rule
                continue
            period = parse_period(rule.period)
            self._budgets[identity] = _Budget(rule=rule, period=period, spend=SpendWindow(period))
            added.append(rule)
        self._index_scopes()
        return added

    def begin_load(self, cutoff: float) -> None:
        """A load from SQL up to ``cutoff`` has started: keep every settlement dated from
        ``cutoff`` on, however long the load takes, until ``end_load``."""
        self._loading.append(cutoff)

    def end_load(self, cutoff: float) -> None:
        self._loading.remove(cutoff)

    def load(self, loaded: Iterable[LoadedSpend], *, cutoff: float, now: float) -> None:
        """Install spend read from SQL before ``cutoff``, plus recent settlements after it."""
        self._prune_recent(now)
        for spend in loaded:
            budget = self._budgets.get(spend.identity)
            if budget is None:
                continue
            budget.spend.load(spend.buckets, now)
            for settle in self._recent:
                for usd, at in charges_for(budget.rule, settle):
                    if at >= cutoff:
                        budget.spend.charge(usd, at)

    @property
    def scopes(self) -> frozenset[Scope]:
        return frozenset(self._by_scope)

    # -- reserve / settle ----------------------------------------------------------------

    def reserve(self, claim: Claim, now: float) -> Reserved | Refused | LeaseNeed:
        amount = claim.estimate_usd or 0.0
        scopes = claim.scopes()
        refusal = (
            self._budget_refusal(claim, scopes, amount, now)
            or self._provider_unpriced_refusal(claim)
            or self._rate_refusal(claim, scopes, now)
            or self._lease_verdict(claim, scopes, amount, now)
            or self._rate_lease_verdict(claim, scopes, now)
        )
        if refusal is not None:
            return refusal
        hold = _Hold(amount=amount, budgets=(), expires_at=claim.expires_at)
        held: list[BudgetId] = []
        for scope in scopes:
            for identity in self._by_scope.get(scope, ()):
                budget = self._budgets[identity]
                if budget.rule.limit_usd is not None:
                    budget.reserved += amount
                    held.append(identity)
            rate = self._rate_for(scope)
            if rate is not None:
                hold.rate_entries.append((scope, rate.admit(now, claim.input_tokens)))
                if self.leases is not None:
                    charge_rate_leases(self.leases, scope, claim.input_tokens)
        hold.budgets = tuple(held)
        self._holds[claim.request_id] = hold
        return Reserved(request_id=claim.request_id, estimate_usd=claim.estimate_usd)

    def settle(self, settle: Settle, now: float) -> None:
        hold = self._holds.pop(settle.request_id, None)
        if hold is not None:
            self._release(hold)
            for scope, entry in hold.rate_entries:
                if self.leases is not None:
                    correct_rate_tokens(self.leases, scope, settle.tokens - entry.tokens)
                rate = self._rates.get(scope)
                if rate is not None:
                    rate.adjust(entry, settle.tokens)
        for scope in settled_scopes(settle):
            for identity in self._by_scope.get(scope, ()):
                budget = self._budgets[identity]
                budget.spend.charge(settle.cost_usd, settle.at)
                if self.leases is not None:  # a window's spend counts in its current step
                    start, window = budget_lease_key(budget.period, budget.spend, settle.at)
                    self.leases.charge(identity, settle.cost_usd, None if window else start)
        pools = self.provider_pools  # shared with the other replicas, if any
        for charge in settle.provider_charges:
            scope = (str(BudgetLevel.PROVIDER), charge.provider_id)
            for identity in self._by_scope.get(scope, ()):
                budget = self._budgets[identity]
                budget.spend.charge(charge.cost_usd, charge.at)
                if pools is not None and budget.rule.limit_usd is not None:
                    limit = budget.rule.limit_usd
                    pools.charge_budget(identity, budget.period, limit, charge.cost_usd, charge.at)
            rate = self._rate_for(scope)
            if rate is not None:
                rate.admit(charge.at, charge.tokens)
                if pools is not None:
                    pools.charge_rate(charge.provider_id, rate, charge)
        self._recent.append(settle)
        self._prune_recent(now)

    def expire(self, now: float) -> int:
        """Drop holds past their ``expires_at``; returns how many."""
        stale = [rid for rid, hold in self._holds.items() if hold.expires_at <= now]
        for request_id in stale:
            self._release(self._holds.pop(request_id))
        return len(stale)

    # -- views ---------------------------------------------------------------------------

    def views(self, now: float) -> list[BudgetView]:
        views = []
        for budget in self._budgets.values():
            start, end = budget.spend.bounds(now)
            views.append(
                BudgetView(
                    rule=budget.rule,
                    spent_usd=budget.spend.spent(now),
                    reserved_usd=budget.reserved,
                    period_start=start,
                    period_end=end,
                    resets_at=budget.spend.resets_at(
                        now, limit=budget.rule.limit_usd or 0.0, need=0.0
                    ),
                )
            )
        return views

    def provider_gate(self, now: float) -> ProviderGate:
        provider = str(BudgetLevel.PROVIDER)
        views = [v for v in self.views(now) if v.rule.level == provider]
        rates = {scope[1]: rate for scope, rate in self._rates.items() if scope[0] == provider}
        if self.provider_pools is not None:
            return self.provider_pools.gate(views, rates, now)
        return provider_gate(views, rates, now)

    @property
    def holds(self) -> int:
        return len(self._holds)

    def held_by_budget(self) -> list[tuple[BudgetId, float]]:
        """What requests in flight hold of each budget (leases count it at shutdown)."""
        return [(identity, budget.reserved) for identity, budget in self._budgets.items()]

    def budget_limit(self, identity: BudgetId) -> tuple[float, float] | None:
        """(limit, held) of a USD budget, for the lease prefetch."""
        budget = self._budgets.get(identity)
        if budget is None or budget.rule.limit_usd is None:
            return None
        return budget.rule.limit_usd, budget.reserved

    # -- internals -----------------------------------------------------------------------

    def _budget_refusal(
        self, claim: Claim, scopes: list[Scope], amount: float, now: float
    ) -> Refused | None:
        for scope in scopes:
            for identity in self._by_scope.get(scope, ()):
                budget = self._budgets[identity]
                limit = budget.rule.limit_usd
                if limit is None:
                    continue
                if claim.unpriced:
                    return unpriced_refusal(claim.request_id, scope, budget.rule, claim.unpriced[0])
                spent = budget.spend.spent(now)
                # written so that a NaN anywhere refuses rather than admits
                if not spent + budget.reserved + amount <= limit + TOLERANCE_USD:
                    return Refused(
                        request_id=claim.request_id,
                        reason="budget",
                        level=scope[0],
                        scope_id=scope[1],
                        period=budget.rule.period,
                        limit=limit,
                        unit="usd",
                        used=spent,
                        reserved=budget.reserved,
                        estimate=amount,
                        resets_at=budget.spend.resets_at(
                            now, limit=limit - budget.reserved, need=amount
                        ),
                    )
        return None

    def _lease_verdict(
        self, claim: Claim, scopes: list[Scope], amount: float, now: float
    ) -> Refused | LeaseNeed | None:
        """With leases: whether this replica holds enough of each USD budget."""
        if self.leases is None:
            return None
        for scope in scopes:
            for identity in self._by_scope.get(scope, ()):
                verdict = budget_lease_verdict(
                    self.leases,
                    identity,
                    self._budgets[identity],
                    scope,
                    claim.request_id,
                    amount,
                    now,
                )
                if verdict is not None:
                    return verdict
        return None

    def _provider_unpriced_refusal(self, claim: Claim) -> Refused | None:
        """An unpriced route to a provider that has a USD budget of its own."""
        for route in claim.unpriced:
            scope = (str(BudgetLevel.PROVIDER), route.provider_id or "")
            for identity in self._by_scope.get(scope, ()):
                rule = self._budgets[identity].rule
                if rule.limit_usd is not None:
                    return unpriced_refusal(claim.request_id, scope, rule, route)
        return None

    def _rate_refusal(self, claim: Claim, scopes: list[Scope], now: float) -> Refused | None:
        for scope in scopes:
            rate = self._rate_for(scope)
            refusal = None if rate is None else rate.refusal(now, claim.input_tokens)
            if refusal is not None:
                return rate_refused(claim.request_id, scope, refusal, claim.input_tokens, now)
        return None

    def _rate_lease_verdict(
        self, claim: Claim, scopes: list[Scope], now: float
    ) -> Refused | LeaseNeed | None:
        """With leases: whether this replica holds one more request of each rate limit."""
        if self.leases is None:
            return None
        rates = [(scope, rate) for scope in scopes if (rate := self._rate_for(scope))]
        return rate_lease_verdict(
            self.leases, rates, request_id=claim.request_id, tokens=claim.input_tokens, now=now
        )

    def _release(self, hold: _Hold) -> None:
        for identity in hold.budgets:
            budget = self._budgets.get(identity)
            if budget is not None:
                budget.reserved = max(0.0, budget.reserved - hold.amount)

    def _rate_for(self, scope: Scope) -> RateWindow | None:
        return self._rates.get(scope)

    def _index_scopes(self) -> None:
        self._by_scope = {}
        limits: dict[Scope, tuple[int | None, int | None]] = {}
        for identity, budget in self._budgets.items():
            scope = (identity[0], identity[1])
            self._by_scope.setdefault(scope, []).append(identity)
            rule = budget.rule
            rpm, tpm = limits.get(scope, (None, None))
            limits[scope] = (
                smallest_limit(rpm, rule.requests_per_minute),
                smallest_limit(tpm, rule.tokens_per_minute),
            )
        rates: dict[Scope, RateWindow] = {}
        for scope, (rpm, tpm) in limits.items():
            if rpm is None and tpm is None:
                continue
            rate = self._rates.get(scope) or RateWindow(
                requests_per_minute=rpm, tokens_per_minute=tpm
            )
            rate.requests_per_minute, rate.tokens_per_minute = rpm, tpm
            rates[scope] = rate
        self._rates = rates

    def _prune_recent(self, now: float) -> None:
        recent = self._recent
        horizon = now - RECENT_S
        if self._loading:  # a load in flight replays everything from its cutoff on
            horizon = min(horizon, *self._loading)
        while recent and recent[0].at < horizon:
            recent.popleft()


__all__ = ["RECENT_S", "TOLERANCE_USD", "Claim", "Ledger", "Scope"]
