"""The ``budgets:`` section: spend and rate limits per customer, team, key or provider.

A budget names what it limits by ``level`` and ``id``; the id must exist elsewhere in
the config (a virtual key, a provider, or a team/customer some virtual key belongs
to), so a typo fails at load time instead of never applying.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from config.model import BudgetConfig

if TYPE_CHECKING:
    from collections.abc import Mapping

    import yaml

    from config._nodes import Fields, NodeReader

BUDGET_LEVELS = ("customer", "team", "virtual_key", "provider")
"""What a budget can apply to, from the widest to the narrowest."""

NAMED_PERIODS = ("daily", "weekly", "monthly", "total")
"""Calendar periods (UTC); a duration such as ``"30m"``, ``"12h"`` or ``"7d"`` also works."""

_DURATION = re.compile(r"[1-9][0-9]*[smhd]")
_BUDGET_KEYS = frozenset(
    {"level", "id", "limit", "period", "requests_per_minute", "tokens_per_minute"}
)
_LEVEL_NOUNS = {
    "customer": "no virtual key has customer",
    "team": "no virtual key has team",
    "virtual_key": "no virtual key has id",
    "provider": "no provider has id",
}


def read_budgets(
    reader: NodeReader, node: yaml.Node | None, known_ids: Mapping[str, frozenset[str]]
) -> tuple[BudgetConfig, ...]:
    """Read the list; ``known_ids`` maps each level to the ids a budget may name."""
    if node is None:
        return ()
    budgets: list[BudgetConfig] = []
    first_lines: dict[tuple[str, str, str], int] = {}
    for index, item in enumerate(reader.items(node, "budgets")):
        budget = _read_budget(reader, item, f"budgets[{index}]", known_ids)
        identity = (budget.level, budget.id, budget.period)
        if identity in first_lines:
            problem = (
                f"budgets[{index}]: a second '{budget.period}' budget for "
                f"{budget.level} '{budget.id}' (the first is on line {first_lines[identity]})"
            )
            raise reader.error(item, problem)
        first_lines[identity] = budget.line
        budgets.append(budget)
    return tuple(budgets)


def _read_budget(
    reader: NodeReader, node: yaml.Node, where: str, known_ids: Mapping[str, frozenset[str]]
) -> BudgetConfig:
    fields = reader.fields(node, where, _BUDGET_KEYS)
    level = fields.string("level")
    if level not in BUDGET_LEVELS:
        problem = f"{fields.path('level')}: unknown level '{level}' (expected one of: "
        raise reader.error(fields.require("level"), problem + ", ".join(BUDGET_LEVELS) + ")")
    budget_id = fields.string("id")
    if budget_id not in known_ids.get(level, frozenset()):
        problem = f"{fields.path('id')}: {_LEVEL_NOUNS[level]} '{budget_id}'"
        raise reader.error(fields.require("id"), problem)
    limit = fields.optional_number("limit", positive=False)
    requests = fields.optional_integer("requests_per_minute", minimum=1)
    tokens = fields.optional_integer("tokens_per_minute", minimum=1)
    if limit is None and requests is None and tokens is None:
        problem = (
            f"{where}: give a 'limit' (USD) or a rate limit "
            "('requests_per_minute', 'tokens_per_minute')"
        )
        raise reader.error(node, problem)
    return BudgetConfig(
        level=level,
        id=budget_id,
        limit_usd=limit,
        period=_read_period(fields, needed=limit is not None),
        requests_per_minute=requests,
        tokens_per_minute=tokens,
        line=fields.line,
    )


def _read_period(fields: Fields, *, needed: bool) -> str:
    """The spend window; required with a ``limit``, else ``"total"`` (unused)."""
    if not needed and fields.get("period") is None:
        return "total"
    period = fields.string("period")
    if period not in NAMED_PERIODS and _DURATION.fullmatch(period) is None:
        problem = (
            f"{fields.path('period')}: unknown period '{period}' (expected "
            f"{', '.join(NAMED_PERIODS)} or a duration such as '30m', '12h', '7d')"
        )
        raise fields.reader.error(fields.require("period"), problem)
    return period
