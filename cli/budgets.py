"""``switchyard budgets set|show|delete``: budgets kept in the database.

A budget set here replaces the config's budget of the same level, id and period; a
running gateway applies it within about two seconds, its spend counted from the trail.
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

from budgets.periods import parse_period
from cli.database import CommandError, add_database_options, loaded_config, open_database
from cli.table import render_json, render_table
from messages.budget import BudgetRule
from storage.budget_store import (
    delete_budget,
    load_budget_rules,
    read_budget_status,
    set_budget,
)
from storage.budget_tables import BUDGET_LEVELS

_SHOW_COLUMNS = (
    "level",
    "scope_id",
    "period",
    "source",
    "limit_usd",
    "spent_usd",
    "reserved_usd",
    "remaining_usd",
    "requests_per_minute",
    "tokens_per_minute",
    "period_start",
    "period_end",
)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    budgets = commands.add_parser("budgets", help="budgets kept in the database")
    actions = budgets.add_subparsers(dest="budgets_command", required=True)
    put = actions.add_parser("set", help="create or replace a budget")
    remove = actions.add_parser("delete", help="remove a budget set here")
    for parser in (put, remove):
        parser.add_argument("--level", required=True, choices=BUDGET_LEVELS)
        parser.add_argument("--id", required=True, dest="scope_id", help="which one of the level")
        parser.add_argument("--period", default="monthly", help="daily|weekly|monthly|total|12h…")
    put.add_argument("--limit", type=float, default=None, help="USD per period")
    put.add_argument("--rpm", type=int, default=None, help="requests per minute")
    put.add_argument("--tpm", type=int, default=None, help="tokens per minute")
    show = actions.add_parser("show", help="every budget: limit, spent, reserved, window")
    show.add_argument("--json", action="store_true")
    for parser in (put, remove, show):
        add_database_options(parser)


def run(args: argparse.Namespace) -> int:
    engine = open_database(args, loaded_config(args))
    try:
        if args.budgets_command == "set":
            return _set(args, engine)
        if args.budgets_command == "delete":
            return _delete(args, engine)
        return _show(args, engine)
    finally:
        engine.dispose()


def _rule(args: argparse.Namespace) -> BudgetRule:
    try:
        parse_period(args.period)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    limit, rpm, tpm = (getattr(args, name, None) for name in ("limit", "rpm", "tpm"))
    if limit is not None and not (math.isfinite(limit) and limit >= 0):
        raise CommandError(f"--limit must be a finite number of USD, 0 or more (got {limit})")
    if any(n is not None and n < 1 for n in (rpm, tpm)):
        raise CommandError("--rpm and --tpm must be at least 1")
    return BudgetRule(
        level=args.level,
        scope_id=args.scope_id,
        period=args.period,
        limit_usd=limit,
        requests_per_minute=rpm,
        tokens_per_minute=tpm,
        source="cli",
    )


def _set(args: argparse.Namespace, engine: Any) -> int:
    rule = _rule(args)
    if (
        rule.limit_usd is None
        and rule.requests_per_minute is None
        and rule.tokens_per_minute is None
    ):
        raise CommandError("give --limit (USD), --rpm or --tpm")
    set_budget(engine, rule, at=time.time())
    print(f"budget set for {rule.level} '{rule.scope_id}' ({rule.period}); a running gateway")
    print("applies it within about 2 seconds, counting what the trail says was spent")
    return 0


def _delete(args: argparse.Namespace, engine: Any) -> int:
    rule = _rule(args)
    if not delete_budget(engine, rule):
        raise CommandError(f"no {rule.period} budget set for {rule.level} '{rule.scope_id}'")
    print(f"deleted the {rule.period} budget of {rule.level} '{rule.scope_id}'")
    return 0


def _show(args: argparse.Namespace, engine: Any) -> int:
    """Budgets in force (as the gateway last counted them), then CLI budgets it has not
    counted yet (the gateway is not running, or has not polled since)."""
    rows = read_budget_status(engine)
    counted = {(r["level"], r["scope_id"], r["period"]) for r in rows}
    for rule in load_budget_rules(engine):
        if rule.identity not in counted:
            rows.append(
                {
                    "level": rule.level,
                    "scope_id": rule.scope_id,
                    "period": rule.period,
                    "source": "cli (not counted yet)",
                    "limit_usd": rule.limit_usd,
                    "requests_per_minute": rule.requests_per_minute,
                    "tokens_per_minute": rule.tokens_per_minute,
                }
            )
    print(render_json(rows) if args.json else render_table(rows, _SHOW_COLUMNS))
    return 0


__all__ = ["add_parser", "run"]
