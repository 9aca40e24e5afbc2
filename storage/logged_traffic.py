"""The logged live requests a report covers, one ``LoggedRequest`` each, in one SELECT.

A request's provider type and time to first byte come from its last attempt; replayed
requests, requests still in progress and requests refused before any provider was tried
(a bad key, a budget, a session cap: no model's doing) are left out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from replay.traffic import LoggedRequest, TrafficSelection
from storage.tables import attempts, requests

_COLUMNS = (
    requests.c.request_id,
    sa.func.coalesce(requests.c.session_id, requests.c.thread_id).label("session_id"),
    # as the driver gives it (SQLite: text), not parsed per row: reports only show it
    sa.type_coerce(requests.c.started_at, sa.String).label("started_at"),
    requests.c.virtual_key,
    requests.c.account_id,
    requests.c.model_requested,
    requests.c.provider,
    attempts.c.provider_type,
    requests.c.model,
    requests.c.status,
    requests.c.error_kind,
    requests.c.input_tokens,
    requests.c.cached_input_tokens,
    requests.c.cache_write_tokens,
    requests.c.output_tokens,
    requests.c.reasoning_tokens,
    requests.c.cost_usd,
    requests.c.latency_ms,
    attempts.c.first_byte_ms.label("ttfb_ms"),
)
_LAST_ATTEMPT = sa.and_(
    attempts.c.request_id == requests.c.request_id, attempts.c.attempt == requests.c.attempts
)


def selected_query(selection: TrafficSelection, *, responses_only: bool = False) -> sa.Select[Any]:
    """The SELECT of ``selection``'s requests, oldest first (``responses_only``: those
    sent to the Responses API, as Codex does)."""
    r = requests.c
    query = sa.select(*_COLUMNS).select_from(requests.outerjoin(attempts, _LAST_ATTEMPT))
    query = query.where(r.replay_run_id.is_(None), r.status != "in_progress", r.attempts > 0)
    if responses_only:
        query = query.where(r.client_format == "responses")
    if selection.since is not None:
        query = query.where(r.started_at >= selection.since)
    if selection.until is not None:
        query = query.where(r.started_at < selection.until)
    if selection.keys:
        query = query.where(r.virtual_key.in_(selection.keys))
    if selection.models:
        query = query.where(
            sa.or_(r.model_requested.in_(selection.models), r.model.in_(selection.models))
        )
    if selection.sessions:
        query = query.where(
            sa.or_(r.session_id.in_(selection.sessions), r.thread_id.in_(selection.sessions))
        )
    query = query.order_by(r.started_at, r.request_id)
    if selection.limit is not None:
        query = query.limit(selection.limit)
    return query


def logged_requests(engine: Engine, selection: TrafficSelection) -> list[LoggedRequest]:
    """``selection``'s requests, oldest first."""
    with engine.connect() as connection:
        rows = connection.execute(selected_query(selection)).all()
    return list(_logged(rows))


def _logged(rows: Sequence[sa.Row[Any]]) -> Iterator[LoggedRequest]:
    for found in rows:
        row: tuple[Any, ...] = tuple(found)
        (rid, session, started, key, account, asked, provider, ptype, model, status) = row[:10]
        (error, fresh, cached, written, output, reasoning, cost, latency, ttfb) = row[10:]
        yield LoggedRequest(
            request_id=rid,
            session_id=session,
            started_at=started if isinstance(started, str) else _utc(started).isoformat(),
            virtual_key=key,
            account_id=account,
            model_requested=asked,
            provider=provider,
            provider_type=ptype,
            model=model,
            status=status,
            error_kind=error,
            input_tokens=fresh,
            cached_input_tokens=cached,
            cache_write_tokens=written,
            output_tokens=output,
            reasoning_tokens=reasoning,
            cost_usd=None if cost is None else float(cost),
            latency_ms=latency,
            ttfb_ms=ttfb,
        )


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


__all__ = ["logged_requests", "selected_query"]
