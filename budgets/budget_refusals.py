"""The ``Refused`` answers the ledger builds for a budget that cannot take a request."""

from __future__ import annotations

from messages.budget import BudgetRule, Refused, Route

Scope = tuple[str, str]  # (level, scope_id)


def unpriced_refusal(request_id: str, scope: Scope, rule: BudgetRule, route: Route) -> Refused:
    return Refused(
        request_id=request_id,
        reason="unpriced",
        level=scope[0],
        scope_id=scope[1],
        period=rule.period,
        limit=rule.limit_usd or 0.0,
        unit="usd",
        used=0.0,
        unpriced_route=route,
    )


def exhausted_refusal(
    request_id: str,
    scope: Scope,
    rule: BudgetRule,
    spent: float,
    reserved: float,
    amount: float,
    *,
    resets_at: float | None,
) -> Refused:
    """Shared budgets: the pool has granted the whole limit to the replicas."""
    return Refused(
        request_id=request_id,
        reason="budget",
        level=scope[0],
        scope_id=scope[1],
        period=rule.period,
        limit=rule.limit_usd or 0.0,
        unit="usd",
        used=spent,
        reserved=reserved,
        estimate=amount,
        resets_at=resets_at,
    )


__all__ = ["exhausted_refusal", "unpriced_refusal"]
