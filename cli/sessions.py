"""``switchyard sessions``: one row per session (Codex's ``session-id``, else its
``thread-id``, else ``x-switchyard-session``, else the request alone)."""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime, timedelta

from cli.database import CommandError, add_database_options, loaded_config, open_database
from cli.table import render_json, render_table
from storage.replay_sessions import MAX_SESSIONS, session_rows

_COLUMNS = (
    "session",
    "first_at",
    "last_at",
    "turns",
    "providers",
    "models",
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "cost_usd",
    "unpriced",
    "errors",
)
_SPAN = re.compile(r"(\d{1,6})([mhdw])")
_SPAN_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
MAX_TEXT = 512


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sessions = commands.add_parser("sessions", help="one row per logged session")
    sessions.add_argument("--since", default=None, help="a time (2026-11-01) or a span (7d, 12h)")
    sessions.add_argument("--key", default=None, help="only this virtual key's requests")
    sessions.add_argument("--model", default=None, help="only requests for or served by a model")
    sessions.add_argument("--limit", default=None, help=f"at most this many (<= {MAX_SESSIONS})")
    sessions.add_argument("--json", action="store_true")
    add_database_options(sessions)


def run(args: argparse.Namespace) -> int:
    since = moment("--since", args.since, now=datetime.now(UTC))
    limit = whole("--limit", args.limit, low=1, high=MAX_SESSIONS) or MAX_SESSIONS
    key, model = text("--key", args.key), text("--model", args.model)
    engine = open_database(args, loaded_config(args))
    try:
        rows = session_rows(engine, since=since, key=key, model=model, limit=limit)
    finally:
        engine.dispose()
    print(render_json(rows) if args.json else render_table(rows, _COLUMNS))
    return 0


def moment(flag: str, value: str | None, *, now: datetime) -> datetime | None:
    """A UTC moment: ISO 8601 (a day, or a time; UTC unless it says otherwise), or a span
    back from ``now`` (``30m``, ``12h``, ``7d``, ``4w``)."""
    if value is None:
        return None
    span = _SPAN.fullmatch(value.strip())
    if span is not None:
        amount, unit = int(span.group(1)), _SPAN_UNITS[span.group(2)]
        return now - timedelta(**{unit: amount})
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise CommandError(
            f"{flag} {value[:40]!r}: give a time (2026-11-01, 2026-11-01T12:00) or a span (7d, 12h)"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def whole(flag: str, value: str | None, *, low: int, high: int) -> int | None:
    """A whole number in [low, high], or one clear error."""
    if value is None:
        return None
    try:
        number = int(value.strip())
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise CommandError(f"{flag} {value[:40]!r}: give a whole number from {low} to {high:,}")
    return number


def text(flag: str, value: str | None) -> str | None:
    if value is not None and (not value.strip() or len(value) > MAX_TEXT):
        raise CommandError(f"{flag}: give a non-empty value of at most {MAX_TEXT} characters")
    return value


__all__ = ["add_parser", "moment", "run", "text", "whole"]
