"""``switchyard models``: which model serves you best, from live traffic."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from cli.database import DEFAULT_URL, add_database_options, loaded_config
from cli.report_output import (
    add_output_options,
    add_selection_options,
    open_report,
    selection_from,
    show_report,
)
from replay.models_report import models_report
from replay.report_model import ModelKey
from replay.tool_follow import SessionTurn, tool_follow_counts
from storage.logged_traffic import logged_requests
from storage.session_turns import codex_turns


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    models = commands.add_parser(
        "models", help="per provider and model: errors, latency, tokens, cost, tool follow-through"
    )
    add_selection_options(models, limit=False)
    models.add_argument(
        "--no-tools", action="store_true", help="skip the tool follow-through (reads bodies)"
    )
    add_output_options(models)
    add_database_options(models)


def run(args: argparse.Namespace) -> int:
    selection = selection_from(args, now=datetime.now(UTC))
    config = loaded_config(args)
    engine = open_report(args.db or (config.database_url if config else DEFAULT_URL))
    try:
        logged = logged_requests(engine, selection)
        turns = () if args.no_tools else codex_turns(engine, selection)
        tools = tool_follow_counts(
            SessionTurn(
                session_id=turn.session_id,
                model=ModelKey(
                    provider=turn.provider, provider_type=turn.provider_type, model=turn.model
                ),
                body=turn.body,
                response=turn.response,
            )
            for turn in turns
        )
    finally:
        engine.dispose()
    described = f"{selection.describe()}: {len(logged):,} requests"
    show_report(models_report(logged, tools, selection=described), args)
    return 0


__all__ = ["add_parser", "run"]
