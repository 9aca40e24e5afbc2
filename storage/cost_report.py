"""``switchyard cost``: the cost views, summed over a period, as rows.

Each report is one SELECT over a view (``cost_by_model``, ``cost_by_key``,
``cost_by_day``), filtered by ``day >= since`` and grouped by what was asked for. The
key and day reports also sum ``cost_saved_usd``: what the response cache saved.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

_SUMS = """SUM(requests) AS requests,
       SUM(input_tokens) AS input_tokens, SUM(cached_input_tokens) AS cached_input_tokens,
       SUM(output_tokens) AS output_tokens, SUM(cost_usd) AS cost_usd,
       SUM(unpriced) AS unpriced"""
_SAVED = ",\n       SUM(cost_saved_usd) AS cost_saved_usd"  # served from the response cache
_REPORTS = {
    "model": ("cost_by_model", "provider, provider_type, model"),
    "key": ("cost_by_key", "customer, team, virtual_key"),
    "team": ("cost_by_key", "customer, team"),
    "customer": ("cost_by_key", "customer"),
    "day": ("cost_by_day", "day"),
}
REPORTS = tuple(_REPORTS)
_MONEY = frozenset({"cost_usd", "cost_saved_usd"})


def cost_report(engine: Engine, by: str, *, since: date | None = None) -> list[dict[str, Any]]:
    """Rows of ``by`` (``model``, ``key``, ``team``, ``customer`` or ``day``) since a day."""
    view, columns = _REPORTS[by]
    where = "" if since is None else "WHERE day >= :since"
    order = "day" if by == "day" else "COALESCE(SUM(cost_usd), 0) DESC, " + columns
    sums = _SUMS if view == "cost_by_model" else _SUMS + _SAVED  # hits have no attempt
    sql = f"SELECT {columns}, {sums} FROM {view} {where} GROUP BY {columns} ORDER BY {order}"
    params: dict[str, Any] = {}
    if since is not None:  # SQLite's days are ISO text, PostgreSQL's are dates
        params["since"] = since.isoformat() if engine.dialect.name == "sqlite" else since
    with engine.connect() as connection:
        return [_plain(dict(row._mapping)) for row in connection.execute(sa.text(sql), params)]


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """Days as ISO text and sums as plain numbers, whatever the dialect returned."""
    out: dict[str, Any] = {}
    for name, value in row.items():
        if isinstance(value, date):
            value = value.isoformat()
        elif name in _MONEY and value is not None:
            value = float(value)
        elif name not in _MONEY and value is not None and not isinstance(value, str):
            value = int(value)
        out[name] = value
    return out


__all__ = ["REPORTS", "cost_report"]
