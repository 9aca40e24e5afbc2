"""``switchyard sessions``: one row per session of live traffic.

A session is Codex's ``session-id``, else its ``thread-id``, else the
``x-switchyard-session`` header (stored as the session id), else the request alone.
Replayed requests (``switchyard replay``) are never part of a session here.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from storage.tables import requests

MAX_SESSIONS = 10_000


def session_rows(
    engine: Engine,
    *,
    since: datetime | None = None,
    key: str | None = None,
    model: str | None = None,
    limit: int = MAX_SESSIONS,
) -> list[dict[str, Any]]:
    """The sessions with a request matching the filters, most recent first."""
    r = requests
    session = sa.func.coalesce(r.c.session_id, r.c.thread_id, r.c.request_id).label("session")
    conditions: list[sa.ColumnElement[bool]] = [r.c.replay_run_id.is_(None)]
    if since is not None:
        conditions.append(r.c.started_at >= since)
    if key is not None:
        conditions.append(r.c.virtual_key == key)
    if model is not None:
        conditions.append(sa.or_(r.c.model_requested == model, r.c.model == model))
    failed = sa.case((r.c.status == "failed", 1), else_=0)
    unpriced = sa.case((sa.and_(r.c.cost_usd.is_(None), r.c.status != "in_progress"), 1), else_=0)
    query = (
        sa.select(
            session,
            sa.func.min(r.c.started_at).label("first_at"),
            sa.func.max(sa.func.coalesce(r.c.finished_at, r.c.started_at)).label("last_at"),
            sa.func.count().label("turns"),
            sa.func.sum(r.c.input_tokens).label("input_tokens"),
            sa.func.sum(r.c.cached_input_tokens).label("cached_input_tokens"),
            sa.func.sum(r.c.output_tokens).label("output_tokens"),
            sa.func.sum(r.c.cost_usd).label("cost_usd"),
            sa.func.sum(unpriced).label("unpriced"),
            sa.func.sum(failed).label("errors"),
        )
        .where(*conditions)
        .group_by(session)
        .order_by(sa.desc("last_at"))
        .limit(limit)
    )
    served = sa.select(session, r.c.provider, r.c.model).where(*conditions).distinct()
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(query)]
        used: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for name, provider, served_model in connection.execute(served):
            if provider is not None:
                used[name].add((provider, served_model or "?"))
    for row in rows:
        pairs = sorted(used.get(row["session"], ()))
        row["providers"] = ",".join(sorted({provider for provider, _ in pairs}))
        row["models"] = ",".join(sorted({served for _, served in pairs}))
        row["first_at"] = _iso(row["first_at"])
        row["last_at"] = _iso(row["last_at"])
        row["cost_usd"] = None if row["cost_usd"] is None else float(row["cost_usd"])
        for name in ("turns", "input_tokens", "cached_input_tokens", "output_tokens", "errors"):
            row[name] = int(row[name] or 0)
        row["unpriced"] = int(row["unpriced"] or 0)
    return rows


def _iso(value: object) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime) else str(value)


__all__ = ["MAX_SESSIONS", "session_rows"]
