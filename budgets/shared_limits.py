"""What a replica may admit of what it leased: shared budgets and rate limits.

With several gateway processes on one database (``server.shared_budgets``), the ledger
admits a request only if, besides its own checks, this replica's leases
(``budgets.leases``) cover it: for each USD budget of its tiers, the estimate; for each
rate limit, one request and its estimated input tokens. A calendar or ``total`` budget
is leased per period; a rolling budget and a rate limit per step of their window.
Rate limits lease from two pools per scope, ``requests/minute`` and ``tokens/minute``
(the ``period`` column of ``budget_pools``); a request counts in them when admitted,
and its tokens are corrected to what it really used when it settles.
"""

from __future__ import annotations

from typing import Protocol

from budgets.budget_refusals import Scope, exhausted_refusal
from budgets.leases import WINDOW_STEPS, LeaseBook, LeaseNeed, period_key, window_step_start
from budgets.periods import Period
from budgets.rates import WINDOW_S, RateRefusal, RateWindow, rate_refused
from budgets.spend import SpendWindow
from messages.budget import BudgetId, BudgetRule, Refused

REQUESTS_POOL = "requests/minute"
TOKENS_POOL = "tokens/minute"


class LeasedBudget(Protocol):
    """A USD budget as the ledger keeps it."""

    @property
    def rule(self) -> BudgetRule: ...
    @property
    def period(self) -> Period: ...
    @property
    def spend(self) -> SpendWindow: ...
    @property
    def reserved(self) -> float: ...


def rate_pools(scope: Scope) -> tuple[BudgetId, BudgetId]:
    """The pools of a scope's requests and tokens per minute."""
    return (scope[0], scope[1], REQUESTS_POOL), (scope[0], scope[1], TOKENS_POOL)


def budget_lease_key(period: Period, spend: SpendWindow, now: float) -> tuple[float, float | None]:
    """``(period_start, window_s)`` of a USD budget's lease at ``now``."""
    if period.rolling_s is not None:
        return window_step_start(now, period.rolling_s), period.rolling_s
    return period_key(spend.bounds(now)[0]), None


def budget_lease_verdict(
    book: LeaseBook,
    identity: BudgetId,
    budget: LeasedBudget,
    scope: Scope,
    request_id: str,
    amount: float,
    now: float,
) -> Refused | LeaseNeed | None:
    """Whether this replica's lease of a USD budget holds ``amount`` more (``None``), the
    pool is spent (a refusal), or it must ask the pool first."""
    limit = budget.rule.limit_usd
    if limit is None:
        return None
    start, window = budget_lease_key(budget.period, budget.spend, now)
    spent = budget.spend.spent(now)
    verdict = book.check(
        identity,
        start,
        held=budget.reserved,
        amount=amount,
        limit=limit,
        known_spend=spent,
        window_s=window,
    )
    if verdict is True:
        return None
    if verdict is not False:
        return verdict
    # the other replicas hold or spent the rest
    resets_at = start + window / WINDOW_STEPS if window else budget.spend.bounds(now)[1]
    used = max(spent, limit - budget.reserved)
    return exhausted_refusal(
        request_id, scope, budget.rule, used, budget.reserved, amount, resets_at=resets_at
    )


def rate_lease_verdict(
    book: LeaseBook,
    rates: list[tuple[Scope, RateWindow]],
    *,
    request_id: str,
    tokens: int,
    now: float,
) -> Refused | LeaseNeed | None:
    """Whether this replica's rate leases hold one more request of ``tokens`` for each
    scope: ``None`` (they do), a refusal (a pool is spent for this step), or what to ask
    a pool for first."""
    start = window_step_start(now, WINDOW_S)
    for scope, rate in rates:
        requests, tokens_pool = rate_pools(scope)
        for identity, limit, amount, unit in (
            (requests, rate.requests_per_minute, 1, "requests"),
            (tokens_pool, rate.tokens_per_minute, tokens, "tokens"),
        ):
            if limit is None:
                continue
            verdict = book.check(
                identity,
                start,
                held=0.0,
                amount=amount,
                limit=limit,
                known_spend=0.0,
                window_s=WINDOW_S,
            )
            if verdict is False:
                return _rate_pool_refusal(request_id, scope, unit, limit, tokens, start, now)
            if verdict is not True:
                return verdict
    return None


def _rate_pool_refusal(
    request_id: str, scope: Scope, unit: str, limit: int, tokens: int, start: float, now: float
) -> Refused:
    retry_after = start + WINDOW_S / WINDOW_STEPS - now  # the pool's next step
    # ``used``: the replicas together hold or used the rest
    refusal = RateRefusal(unit=unit, limit=limit, used=limit, retry_after_s=retry_after)
    return rate_refused(request_id, scope, refusal, tokens, now)


def charge_rate_leases(book: LeaseBook, scope: Scope, tokens: int) -> None:
    """An admitted request: one request and its estimated tokens consumed."""
    requests, tokens_pool = rate_pools(scope)
    book.charge(requests, 1.0, None)
    book.charge(tokens_pool, float(tokens), None)


def correct_rate_tokens(book: LeaseBook, scope: Scope, delta: int) -> None:
    """A settled request used ``delta`` tokens more (or fewer) than its estimate."""
    if delta:
        book.charge(rate_pools(scope)[1], float(delta), None)


__all__ = [
    "REQUESTS_POOL",
    "TOKENS_POOL",
    "LeasedBudget",
    "budget_lease_key",
    "budget_lease_verdict",
    "charge_rate_leases",
    "correct_rate_tokens",
    "rate_lease_verdict",
    "rate_pools",
]
