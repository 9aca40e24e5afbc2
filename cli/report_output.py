"""What the report commands share: the selection flags, and printing or writing a report.

``--since/--until`` take an ISO day or time (UTC) or a span back from now (``30m``,
``12h``, ``7d``, ``4w``); ``--key``, ``--model`` and ``--session`` may repeat; ``--sample N``
draws N of them at random. ``--out DIR`` writes ``report.json``, ``report.csv``,
``requests.csv`` and ``report.html`` there.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from sqlalchemy.engine import Engine

from cli.database import CommandError
from replay.render_csv import render_requests_csv, render_rows_csv
from replay.render_html import render_html
from replay.render_json import render_json
from replay.render_table import print_report
from replay.report_model import ComparisonReport
from replay.traffic import LoggedRequest, TrafficSelection
from storage.report_database import ReportDatabaseError, open_report_database

_SPAN = re.compile(r"^(\d{1,6})([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
MAX_LIMIT = 10_000_000
SAMPLE_SEED = 14


def add_selection_options(parser: argparse.ArgumentParser, *, limit: bool = True) -> None:
    parser.add_argument("--since", default=None, help="a day, a time (UTC) or a span (7d)")
    parser.add_argument("--until", default=None, help="a day, a time (UTC) or a span back")
    parser.add_argument("--key", action="append", default=[], help="a virtual key id")
    parser.add_argument("--model", action="append", default=[], help="asked for or served")
    parser.add_argument("--session", action="append", default=[], help="a Codex session id")
    if limit:
        parser.add_argument("--limit", default=None, help="at most this many, oldest first")
        parser.add_argument("--sample", default=None, help="this many, drawn at random")


def add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="the report as JSON on stdout")
    parser.add_argument("--out", default=None, help="write JSON, CSV and HTML into this folder")


def selection_from(args: argparse.Namespace, *, now: datetime) -> TrafficSelection:
    return TrafficSelection(
        since=point_in_time("--since", args.since, now=now),
        until=point_in_time("--until", args.until, now=now),
        keys=tuple(args.key),
        models=tuple(args.model),
        sessions=tuple(args.session),
        limit=_limit(getattr(args, "limit", None)),
    )


def point_in_time(flag: str, text: str | None, *, now: datetime) -> datetime | None:
    """An ISO day or time (UTC unless it says otherwise), or ``now`` minus a span."""
    if text is None:
        return None
    span = _SPAN.match(text.strip())
    if span:
        try:
            return now - timedelta(**{_UNITS[span[2]]: int(span[1])})
        except OverflowError:  # 999999w: before the year 1
            raise CommandError(f"{flag} {text!r}: that is before the year 1") from None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        problem = f"{flag} {text!r}: give a day (2026-11-01), a time or a span (7d)"
        raise CommandError(problem) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _limit(text: str | None, flag: str = "--limit") -> int | None:
    if text is None:
        return None
    if not text.isdigit() or not 0 < int(text) <= MAX_LIMIT:
        raise CommandError(f"{flag} {text!r}: give a whole number from 1 to {MAX_LIMIT:,}")
    return int(text)


def sampled(args: argparse.Namespace, logged: list[LoggedRequest]) -> list[LoggedRequest]:
    """``--sample N``: N of the selected requests drawn at random (seeded, so the same
    selection gives the same sample), oldest first."""
    size = _limit(getattr(args, "sample", None), "--sample")
    if size is None or size >= len(logged):
        return logged
    chosen = sorted(random.Random(SAMPLE_SEED).sample(range(len(logged)), size))
    return [logged[index] for index in chosen]


def open_report(url: str) -> Engine:
    """The report's database, or one clear line about why it cannot be read."""
    try:
        return open_report_database(url)
    except ReportDatabaseError as exc:
        raise CommandError(str(exc)) from None


def show_report(report: ComparisonReport, args: argparse.Namespace) -> None:
    """Print the report (a table, or JSON with ``--json``); write files with ``--out``."""
    if args.out is not None:
        for path in write_report(report, Path(args.out)):
            print(f"wrote {path}", file=sys.stderr)  # stdout stays the report (--json)
    if args.json:
        print(render_json(report))
    else:
        # a pipe or a file gets the whole table, not 80 columns of it
        width = None if sys.stdout.isatty() else 220
        print_report(report, Console(highlight=False, width=width))


def write_report(report: ComparisonReport, folder: Path) -> list[Path]:
    """``report.json``, ``report.csv``, ``requests.csv`` (if any) and ``report.html``."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        files = {
            "report.json": render_json(report),
            "report.csv": render_rows_csv(report),
            "report.html": render_html(report),
        }
        if report.requests:
            files["requests.csv"] = render_requests_csv(report)
        written = []
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
            written.append(folder / name)
    except OSError as exc:
        raise CommandError(f"--out {str(folder)!r}: {exc.strerror or exc}") from None
    return written


__all__ = [
    "add_output_options",
    "add_selection_options",
    "open_report",
    "point_in_time",
    "sampled",
    "selection_from",
    "show_report",
    "write_report",
]
