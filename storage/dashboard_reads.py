"""What the dashboard reads from SQL: spend over time, recent requests, one request's
trail, the last minutes' traffic and the replay runs. Plain rows for JSON.

Every function takes an ``Engine`` made by ``reader_engine``: its own connections,
read-only, so a dashboard never takes the trail writer's lock (SQLite's WAL lets
readers run beside the one writer) and a bug here cannot write.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from storage.blob_store import rebuild_payload
from storage.blobs import BrokenTrail
from storage.cost_report import cost_report
from storage.database import make_engine
from storage.tables import events, requests

T = TypeVar("T")
SPEND_DIMENSIONS = {
    "model": ("cost_by_model", ("provider", "model")),
    "key": ("cost_by_key", ("virtual_key",)),
    "team": ("cost_by_key", ("team",)),
}
TRAIL_FIELD_MAX = 65_536  # a body longer than this is cut for the page (the CLI has it whole)
_RECENT_COLUMNS = (
    "request_id",
    "started_at",
    "finished_at",
    "latency_ms",
    "virtual_key",
    "team",
    "client_format",
    "stream",
    "model_requested",
    "provider",
    "model",
    "status",
    "http_status",
    "error_kind",
    "attempts",
    "input_tokens",
    "output_tokens",
    "cost_usd",
)


class Unreadable(Exception):
    """The database cannot be read now (locked, down, not this schema)."""


def guarded(read: Callable[..., T], engine: Engine, *args: Any, **kwargs: Any) -> T:
    """``read(engine, ...)``, a database's refusal raised as ``Unreadable`` (one line)."""
    try:
        return read(engine, *args, **kwargs)
    except sa.exc.DBAPIError as exc:
        why = str(exc.orig or exc).strip().splitlines()
        raise Unreadable(f"the database cannot be read now: {why[0] if why else exc}") from exc


def reader_engine(url: str) -> Engine:
    """An engine on ``url`` whose connections refuse to write."""
    engine = make_engine(url, pool_size=2) if not url.startswith("sqlite") else make_engine(url)
    statement = (
        "PRAGMA query_only = ON"
        if engine.dialect.name == "sqlite"
        else "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"
    )

    def read_only(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(statement)
        cursor.close()
        if engine.dialect.name != "sqlite":
            dbapi_connection.commit()  # PostgreSQL's SET is undone by a rollback otherwise

    sa.event.listen(engine, "connect", read_only)
    return engine


def spend_over_time(engine: Engine, by: str, *, days: int, today: date) -> dict[str, Any]:
    """Per day and per ``by`` value (model, key, team): cost and requests, and the
    totals over the span exactly as ``switchyard cost --by <by> --since <days>d``."""
    view, columns = SPEND_DIMENSIONS[by]
    since = today - timedelta(days=days - 1)
    label = " || '/' || ".join(f"COALESCE({c}, '-')" for c in columns)
    sql = (
        f"SELECT day, {label} AS name, SUM(cost_usd) AS cost_usd, SUM(requests) AS requests "
        f"FROM {view} WHERE day >= :since GROUP BY day, {label} ORDER BY day"
    )
    since_param: Any = since.isoformat() if engine.dialect.name == "sqlite" else since
    with engine.connect() as connection:
        rows = connection.execute(sa.text(sql), {"since": since_param}).all()
    series = [
        {
            "day": _day(row.day),
            "name": row.name,
            "cost_usd": float(row.cost_usd or 0.0),
            "requests": int(row.requests or 0),
        }
        for row in rows
    ]
    totals = cost_report(engine, by, since=since)
    return {"by": by, "since": since.isoformat(), "series": series, "totals": totals}


def recent_requests(engine: Engine, *, limit: int) -> list[dict[str, Any]]:
    columns = [requests.c[name] for name in _RECENT_COLUMNS]
    query = (
        sa.select(*columns)
        .order_by(requests.c.started_at.desc(), requests.c.request_id.desc())
        .limit(limit)
    )
    with engine.connect() as connection:
        return [_plain(row._asdict()) for row in connection.execute(query)]


def request_trail(engine: Engine, request_id: str) -> list[dict[str, Any]] | None:
    """``request_id``'s events in order, each payload whole (bodies cut for display);
    ``None`` when the trail has no such request."""
    query = (
        sa.select(events.c.seq, events.c.kind, sa.cast(events.c.payload, sa.Text))
        .where(events.c.request_id == request_id)
        .order_by(events.c.seq)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
        trail = [
            {"seq": seq, "kind": kind, "payload": _payload(connection, payload)}
            for seq, kind, payload in rows
        ]
    return trail or None


def traffic(engine: Engine, *, minutes: int, now: datetime) -> list[dict[str, Any]]:
    """The last ``minutes`` minutes, one row a minute: requests, errors (status 400 and
    over), mean and worst latency. Minutes without traffic are rows of zeros."""
    start = (now - timedelta(minutes=minutes - 1)).replace(second=0, microsecond=0)
    query = sa.select(requests.c.started_at, requests.c.http_status, requests.c.latency_ms).where(
        requests.c.started_at >= start
    )
    counts = [[0, 0, 0] for _ in range(minutes)]  # requests, errors, finished
    latency = [[0.0, 0.0] for _ in range(minutes)]  # sum, max
    with engine.connect() as connection:
        for started_at, status, latency_ms in connection.execute(query):
            index = int((_aware(started_at) - start).total_seconds() // 60)
            if not 0 <= index < minutes:
                continue
            counts[index][0] += 1
            counts[index][1] += 1 if status is not None and status >= 400 else 0
            if latency_ms is not None:
                counts[index][2] += 1
                latency[index][0] += latency_ms
                latency[index][1] = max(latency[index][1], latency_ms)
    return [
        {
            "minute": (start + timedelta(minutes=i)).isoformat(),
            "requests": n,
            "errors": errors,
            "latency_ms_mean": latency[i][0] / finished if finished else None,
            "latency_ms_max": latency[i][1] if finished else None,
        }
        for i, (n, errors, finished) in enumerate(counts)
    ]


def replay_runs(engine: Engine, *, limit: int) -> list[dict[str, Any]]:
    """The replay runs, newest first; none when this database has no replay tables."""
    with engine.connect() as connection:
        if "replay_runs" not in sa.inspect(connection).get_view_names():
            return []
        sql = "SELECT * FROM replay_runs ORDER BY created_at DESC LIMIT :limit"
        return [
            _plain(dict(r._mapping)) for r in connection.execute(sa.text(sql), {"limit": limit})
        ]


def _payload(connection: Connection, payload: str) -> Any:
    raw = payload.encode("utf-8")
    with contextlib.suppress(BrokenTrail):  # else shown as stored: its parts are gone
        raw = rebuild_payload(connection, raw)
    fields = orjson.loads(raw)
    if isinstance(fields, dict):
        for name, value in fields.items():
            text = value if isinstance(value, str) else None
            if text is None and isinstance(value, dict | list):
                text = orjson.dumps(value).decode()
                if len(text) <= TRAIL_FIELD_MAX:
                    continue
            if text is not None and len(text) > TRAIL_FIELD_MAX:
                fields[name] = text[:TRAIL_FIELD_MAX] + f"… ({len(text)} characters)"
    return fields


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {str(name): _value(value) for name, value in row.items()}  # not quoted_name


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return _aware(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if value is not None and not isinstance(value, str | int | float | bool):
        return float(value)  # Decimal from PostgreSQL
    return value


def _day(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


__all__ = [
    "SPEND_DIMENSIONS",
    "Unreadable",
    "guarded",
    "reader_engine",
    "recent_requests",
    "replay_runs",
    "request_trail",
    "spend_over_time",
    "traffic",
]
