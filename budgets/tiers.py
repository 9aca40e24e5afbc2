"""Which tiers a settlement charges, what a budget looks like from outside, and the
provider gate: the pure check the router runs to skip a provider whose budget is spent.

The accountant publishes a ``ProviderGate`` (an immutable snapshot) whenever a provider
budget or rate limit changes state; ``provider_refusal(gate, provider_id, now=…)`` is
all the router needs to call, for each candidate provider, before planning a route.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from budgets.rates import RateWindow
from messages.budget import BudgetLevel, BudgetRule, Settle, usd


@dataclass(frozen=True, slots=True, kw_only=True)
class BudgetView:
    """One budget as the ledger sees it now."""

    rule: BudgetRule
    spent_usd: float
    reserved_usd: float
    period_start: float | None
    period_end: float | None
    resets_at: float | None

    @property
    def exhausted(self) -> bool:
        limit = self.rule.limit_usd
        return limit is not None and self.spent_usd >= limit


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderBlock:
    why: str
    until: float | None  # unix seconds; None: until the budget is raised


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderGate:
    """The providers that may not serve now, and why (an immutable snapshot)."""

    blocked: Mapping[str, ProviderBlock] = field(default_factory=lambda: MappingProxyType({}))


OPEN_GATE = ProviderGate()


def provider_refusal(gate: ProviderGate, provider_id: str, *, now: float) -> str | None:
    """Why ``provider_id`` must be skipped at ``now`` (unix seconds), or ``None``.

    A block lapses by itself at its ``until`` (a new period, or the rate window moving
    on), even before the accountant publishes the next gate."""
    block = gate.blocked.get(provider_id)
    if block is None or (block.until is not None and now >= block.until):
        return None
    return block.why


def provider_gate(
    views: Sequence[BudgetView], rates: Mapping[str, RateWindow], now: float
) -> ProviderGate:
    """The gate for these provider budgets and provider rate windows."""
    blocked: dict[str, ProviderBlock] = {}
    for view in views:
        if view.exhausted:
            limit = view.rule.limit_usd or 0.0
            blocked[view.rule.scope_id] = ProviderBlock(
                why=f"{view.rule.period} budget spent ({usd(view.spent_usd)} of {usd(limit)})",
                until=view.resets_at,
            )
    for provider_id, rate in rates.items():
        refusal = rate.refusal(now, 0)
        if refusal is not None and provider_id not in blocked:
            blocked[provider_id] = ProviderBlock(
                why=f"rate limit of {refusal.limit} {refusal.unit} per minute reached",
                until=now + refusal.retry_after_s,
            )
    return ProviderGate(blocked=MappingProxyType(blocked)) if blocked else OPEN_GATE


def settled_scopes(settle: Settle) -> set[tuple[str, str]]:
    """The request tiers a settlement charges: its key, team and customer."""
    scopes = set()
    if settle.virtual_key_id:
        scopes.add((str(BudgetLevel.VIRTUAL_KEY), settle.virtual_key_id))
    if settle.team:
        scopes.add((str(BudgetLevel.TEAM), settle.team))
    if settle.customer:
        scopes.add((str(BudgetLevel.CUSTOMER), settle.customer))
    return scopes


def charges_for(rule: BudgetRule, settle: Settle) -> list[tuple[float, float]]:
    """``(usd, at)`` that ``settle`` charges to ``rule``'s scope."""
    if rule.level == BudgetLevel.PROVIDER:
        return [
            (c.cost_usd, c.at) for c in settle.provider_charges if c.provider_id == rule.scope_id
        ]
    if (rule.level, rule.scope_id) in settled_scopes(settle):
        return [(settle.cost_usd, settle.at)]
    return []


__all__ = [
    "OPEN_GATE",
    "BudgetView",
    "ProviderBlock",
    "ProviderGate",
    "charges_for",
    "provider_gate",
    "provider_refusal",
    "settled_scopes",
]
