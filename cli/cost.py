"""``switchyard cost``: what was spent, by model, key, team, customer or day."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, timedelta

from budgets.periods import parse_period
from cli.database import CommandError, add_database_options, loaded_config, open_database
from cli.table import render_json, render_table
from storage.cost_report import REPORTS, cost_report

_COLUMNS = {
    "model": ("provider", "provider_type", "model"),
    "key": ("customer", "team", "virtual_key"),
    "team": ("customer", "team"),
    "customer": ("customer",),
    "day": ("day",),
}
_SUMS = ("requests", "input_tokens", "cached_input_tokens", "output_tokens", "cost_usd", "unpriced")
_SAVED = ("cost_saved_usd",)  # by key, team, customer or day: what cache hits saved


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cost = commands.add_parser("cost", help="what was spent, from the cost views")
    cost.add_argument("--by", choices=REPORTS, default="model")
    cost.add_argument("--since", default=None, help="a day (2026-11-01) or a span (7d, 4w)")
    cost.add_argument("--json", action="store_true")
    add_database_options(cost)


def run(args: argparse.Namespace) -> int:
    engine = open_database(args, loaded_config(args))
    try:
        rows = cost_report(engine, args.by, since=since_day(args.since, today=_today()))
    finally:
        engine.dispose()
    sums = _SUMS if args.by == "model" else (*_SUMS, *_SAVED)
    print(render_json(rows) if args.json else render_table(rows, (*_COLUMNS[args.by], *sums)))
    return 0


def since_day(text: str | None, *, today: date) -> date | None:
    """``--since``: an ISO day, or a span back from today (``7d`` includes today)."""
    if text is None:
        return None
    if text.endswith("w") and text[:-1].isdigit():
        return today - timedelta(weeks=int(text[:-1])) + timedelta(days=1)
    try:
        span = parse_period(text).rolling_s
    except ValueError:
        span = None
    if span is not None:
        return today - timedelta(seconds=span) + timedelta(days=1)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--since {text!r}: give a day (2026-11-01) or a span (7d)") from None


def _today() -> date:
    return datetime.now(UTC).date()


__all__ = ["add_parser", "run", "since_day"]
