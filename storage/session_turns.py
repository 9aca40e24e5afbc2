"""The Codex turns of a selection, in session order, with their bodies and responses whole
(``blob_store.rebuild_body``), for the models report's tool follow-through."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from replay.traffic import TrafficSelection
from storage.blob_store import rebuild_body
from storage.blobs import BrokenTrail
from storage.logged_traffic import selected_query
from storage.tables import events

_MAX_TURNS = 200_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Turn:
    session_id: str
    request_id: str
    provider: str | None
    provider_type: str | None
    model: str | None
    body: bytes | None  # the request as it arrived
    response: bytes | None  # the response rebuilt from the stream (None: it failed)


def codex_turns(engine: Engine, selection: TrafficSelection) -> Iterator[Turn]:
    """The selection's Responses-API requests that carry a session id, oldest first per
    session (at most 200,000; a larger window is cut, oldest kept)."""
    chosen = selected_query(selection, responses_only=True).subquery()
    query = (
        sa.select(
            chosen.c.session_id,
            chosen.c.request_id,
            chosen.c.provider,
            chosen.c.provider_type,
            chosen.c.model,
        )
        .where(chosen.c.session_id.is_not(None))
        .order_by(chosen.c.session_id, chosen.c.started_at, chosen.c.request_id)
        .limit(_MAX_TURNS)
    )
    with engine.connect() as connection:
        for session, request_id, provider, ptype, model in connection.execute(query).all():
            yield Turn(
                session_id=session,
                request_id=request_id,
                provider=provider,
                provider_type=ptype,
                model=model,
                body=stored_document(connection, request_id, "request.received"),
                response=stored_document(connection, request_id, "response.completed"),
            )


def stored_document(connection: Connection, request_id: str, kind: str) -> bytes | None:
    payload = connection.execute(
        sa.select(sa.cast(events.c.payload, sa.Text)).where(
            events.c.request_id == request_id, events.c.kind == kind
        )
    ).scalar()
    if payload is None:
        return None
    try:
        return rebuild_body(connection, payload.encode("utf-8"))
    except (BrokenTrail, ValueError):  # a broken trail or payload: the turn is not counted
        return None


__all__ = ["Turn", "codex_turns", "stored_document"]
