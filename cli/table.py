"""Plain-text tables for the CLI's reports (and the same rows as JSON with ``--json``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson


def render_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Left-aligned text columns, numbers right-aligned; an empty report says so."""
    if not rows:
        return "(nothing yet)"
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    widths = [
        max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)
    ]
    numeric = [all(_is_number(row.get(column)) for row in rows) for column in columns]
    header = "  ".join(column.ljust(w) for column, w in zip(columns, widths, strict=True))
    body = [
        "  ".join(
            text.rjust(w) if right else text.ljust(w)
            for text, w, right in zip(line, widths, numeric, strict=True)
        )
        for line in cells
    ]
    lines = [line.rstrip() for line in (header, *body)]
    return "\n".join(lines)


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
