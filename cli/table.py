"""Tables for the CLI's reports, drawn by ``rich`` (and the same rows as JSON with ``--json``)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from rich import box
from rich.console import Console
from rich.table import Table

_WIDE = 10_000  # never wrap a row: reports are read in terminals and by scripts


def render_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """A ``rich`` table: text left-aligned, numbers right-aligned; an empty report says so."""
    if not rows:
        return "(nothing yet)"
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for column in columns:
        numeric = all(_is_number(row.get(column)) for row in rows)
        table.add_column(column, justify="right" if numeric else "left", no_wrap=True)
    for row in rows:
        table.add_row(*(_cell(row.get(column)) for column in columns))
    out = io.StringIO()
    Console(file=out, width=_WIDE, color_system=None, highlight=False).print(table)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines() if line.strip())


def render_json(rows: Sequence[Mapping[str, Any]]) -> str:
    return orjson.dumps(list(rows), default=_json_default, option=orjson.OPT_INDENT_2).decode()


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6f}" if abs(value) < 1 else f"{value:,.4f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def _is_number(value: object) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


__all__ = ["render_json", "render_table"]
