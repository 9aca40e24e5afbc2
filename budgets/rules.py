"""Budget rules from the config and from SQL, merged into the set in force."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from config.model import BudgetConfig
from messages.budget import BudgetId, BudgetRule

SOURCES = ("config", "cli")
"""Later sources win: a budget set with the CLI replaces the config's for the same
level, id and period."""


def rules_from_config(budgets: Iterable[BudgetConfig]) -> tuple[BudgetRule, ...]:
    return tuple(
        BudgetRule(
            level=budget.level,
            scope_id=budget.id,
            period=budget.period,
            limit_usd=budget.limit_usd,
            requests_per_minute=budget.requests_per_minute,
            tokens_per_minute=budget.tokens_per_minute,
            source="config",
        )
        for budget in budgets
    )


def merged_rules(by_source: Mapping[str, Iterable[BudgetRule]]) -> tuple[BudgetRule, ...]:
    merged: dict[BudgetId, BudgetRule] = {}
    for source in SOURCES:
        for rule in by_source.get(source, ()):
            merged[rule.identity] = rule
    return tuple(merged.values())


__all__ = ["SOURCES", "merged_rules", "rules_from_config"]
