"""A replay run's SQL: what it selects, its record, what is left to send, its results.

The run is created whole (``create_run``: its ``replay_jobs`` row and every selected
request in ``replay_items``) before anything is sent, so an interrupted run knows what
it was asked; whether an item was replayed is read from the trail (``replay_results``),
never written separately, so the trail and the run cannot disagree. ``pending_refs``
is every item without a counted replay: what ``--resume`` sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from replay.selection import MAX_SELECTED, ItemRef, ReplayItem, Selection, narrowed
from storage.blob_store import rebuild_body
from storage.blobs import BrokenTrail
from storage.replay_tables import replay_items, replay_jobs
from storage.tables import events, requests

_CHUNK = 500  # ids per IN (...): well under every driver's limit on bound parameters


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRecord:
    run_id: str
    status: str
    config_source: str
    route: str | None
    max_cost_usd: float | None
    concurrency: int
    selection: str
    requests: int
    replayed: int
    spent_usd: float


def select_requests(engine: Engine, selection: Selection, *, seed: str) -> list[str]:
    """The live requests matching ``selection`` that reached a provider, oldest first."""
    r = requests
    conditions: list[sa.ColumnElement[bool]] = [r.c.replay_run_id.is_(None), r.c.attempts > 0]
    if selection.sessions:
        wanted = list(selection.sessions)
        conditions.append(
            sa.or_(
                r.c.session_id.in_(wanted), r.c.thread_id.in_(wanted), r.c.request_id.in_(wanted)
            )
        )
    if selection.since is not None:
        conditions.append(r.c.started_at >= selection.since)
    if selection.until is not None:
        conditions.append(r.c.started_at < selection.until)
    if selection.key is not None:
        conditions.append(r.c.virtual_key == selection.key)
    if selection.model is not None:
        conditions.append(
            sa.or_(r.c.model_requested == selection.model, r.c.model == selection.model)
        )
    query = (
        sa.select(r.c.request_id)
        .where(*conditions)
        .order_by(r.c.started_at, r.c.request_id)
        .limit(MAX_SELECTED)
    )
    with engine.connect() as connection:
        ids = list(connection.execute(query).scalars())
    return narrowed(ids, selection, seed=seed)


def create_run(
    engine: Engine,
    *,
    run_id: str,
    config_source: str,
    route: str | None,
    max_cost_usd: float | None,
    concurrency: int,
    selection: str,
    request_ids: Sequence[str],
) -> None:
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(
            sa.insert(replay_jobs).values(
                run_id=run_id,
                created_at=now,
                updated_at=now,
                status="running",
                config_source=config_source,
                route=route,
                max_cost_usd=max_cost_usd,
                concurrency=concurrency,
                selection=selection,
            )
        )
        rows = [
            {"run_id": run_id, "position": n, "original_request_id": rid}
            for n, rid in enumerate(request_ids)
        ]
        if rows:
            connection.execute(sa.insert(replay_items), rows)


def set_status(
    engine: Engine,
    run_id: str,
    status: str,
    *,
    concurrency: int | None = None,
    max_cost_usd: float | None = None,
) -> None:
    """The run's status, and the concurrency and cap a ``--resume`` gave it."""
    values: dict[str, Any] = {"status": status, "updated_at": datetime.now(UTC)}
    if concurrency is not None:
        values["concurrency"] = concurrency
    if max_cost_usd is not None:
        values["max_cost_usd"] = max_cost_usd
    with engine.begin() as connection:
        connection.execute(
            sa.update(replay_jobs).where(replay_jobs.c.run_id == run_id).values(**values)
        )


def load_run(engine: Engine, run_id: str) -> RunRecord | None:
    query = sa.text(
        "SELECT run_id, status, config_source, route, max_cost_usd, concurrency, selection,"
        " requests, replayed, spent_usd FROM replay_runs WHERE run_id = :run_id"
    )
    with engine.connect() as connection:
        row = connection.execute(query, {"run_id": run_id}).mappings().first()
    if row is None:
        return None
    return RunRecord(
        run_id=row["run_id"],
        status=row["status"],
        config_source=row["config_source"],
        route=row["route"],
        max_cost_usd=row["max_cost_usd"],
        concurrency=int(row["concurrency"]),
        selection=row["selection"],
        requests=int(row["requests"] or 0),
        replayed=int(row["replayed"] or 0),
        spent_usd=float(row["spent_usd"] or 0.0),
    )


def pending_refs(engine: Engine, run_id: str) -> list[ItemRef]:
    """The run's items not replayed yet (no counted replay), in order."""
    query = sa.text(
        "SELECT s.position, s.original_request_id, o.endpoint, o.account_id, o.session_id,"
        " o.thread_id FROM replay_results s JOIN requests o"
        " ON o.request_id = s.original_request_id"
        " WHERE s.run_id = :run_id AND s.replay_request_id IS NULL ORDER BY s.position"
    )
    with engine.connect() as connection:
        rows = connection.execute(query, {"run_id": run_id}).mappings().all()
    return [
        ItemRef(
            position=row["position"],
            original_request_id=row["original_request_id"],
            endpoint=row["endpoint"],
            account_id=row["account_id"],
            session_id=row["session_id"],
            thread_id=row["thread_id"],
        )
        for row in rows
    ]


def load_item(engine: Engine, ref: ItemRef) -> ReplayItem | None:
    """``ref`` with its body as logged, or ``None`` if the trail no longer holds the body
    (retention pruned it)."""
    with engine.connect() as connection:
        received = _received(connection, ref.original_request_id)
    if received is None:
        return None
    body, user_agent = received
    return ReplayItem(
        position=ref.position,
        original_request_id=ref.original_request_id,
        endpoint=ref.endpoint,
        body=body,
        account_id=ref.account_id,
        session_id=ref.session_id,
        thread_id=ref.thread_id,
        user_agent=user_agent,
    )


def _received(connection: Connection, request_id: str) -> tuple[bytes, str | None] | None:
    payload = connection.execute(
        sa.select(sa.cast(events.c.payload, sa.Text)).where(
            events.c.request_id == request_id, events.c.kind == "request.received"
        )
    ).scalar()
    if payload is None:
        return None
    raw = payload.encode("utf-8")
    try:
        body = rebuild_body(connection, raw)
    except BrokenTrail:
        return None
    if not body:
        return None
    agent = orjson.loads(raw).get("user_agent")
    return body, agent if isinstance(agent, str) else None


def run_results(engine: Engine, run_id: str) -> list[dict[str, Any]]:
    """The run's rows of ``replay_results``, in order."""
    query = sa.text("SELECT * FROM replay_results WHERE run_id = :run_id ORDER BY position")
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(query, {"run_id": run_id}).mappings()]


def provider_types(engine: Engine, request_ids: Sequence[str]) -> dict[str, str]:
    """The provider type of each request's last attempt."""
    query = sa.text(
        "SELECT request_id, provider_type FROM attempts WHERE request_id IN :ids"
        " ORDER BY request_id, attempt"
    ).bindparams(sa.bindparam("ids", expanding=True))
    out: dict[str, str] = {}
    with engine.connect() as connection:
        for start in range(0, len(request_ids), _CHUNK):
            chunk = list(request_ids[start : start + _CHUNK])
            out.update({row[0]: row[1] for row in connection.execute(query, {"ids": chunk})})
    return out


def responses(engine: Engine, request_ids: Sequence[str]) -> dict[str, bytes]:
    """Each completed request's response in its client's format, rebuilt whole."""
    out: dict[str, bytes] = {}
    with engine.connect() as connection:
        for request_id in request_ids:
            payload = connection.execute(
                sa.select(sa.cast(events.c.payload, sa.Text)).where(
                    events.c.request_id == request_id, events.c.kind == "response.completed"
                )
            ).scalar()
            if payload is None:
                continue
            try:
                body = rebuild_body(connection, payload.encode("utf-8"))
            except BrokenTrail:
                continue
            if body:
                out[request_id] = body
    return out


__all__ = [
    "RunRecord",
    "create_run",
    "load_item",
    "load_run",
    "pending_refs",
    "provider_types",
    "responses",
    "run_results",
    "select_requests",
    "set_status",
]
