"""Up to N completed requests of one model in a selection, with their counts and their
body and response whole (``blob_store.rebuild_body``), for re-counting tokens."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from replay.recount import BodySample
from replay.report_model import ModelKey
from replay.traffic import TrafficSelection
from storage.logged_traffic import selected_query
from storage.session_turns import stored_document


def body_samples(
    engine: Engine, selection: TrafficSelection, model: ModelKey, *, limit: int
) -> list[BodySample]:
    chosen = selected_query(selection).subquery()
    c = chosen.c
    query = (
        sa.select(c.request_id, c.input_tokens, c.output_tokens, c.reasoning_tokens)
        .where(
            c.status == "completed",
            c.provider == model.provider,
            c.provider_type == model.provider_type,
            c.model == model.model,
        )
        .limit(limit)
    )
    samples = []
    with engine.connect() as connection:
        for request_id, fresh, output, reasoning in connection.execute(query).all():
            samples.append(
                BodySample(
                    input_tokens=fresh,
                    output_tokens=output,
                    reasoning_tokens=reasoning,
                    body=stored_document(connection, request_id, "request.received"),
                    response=stored_document(connection, request_id, "response.completed"),
                )
            )
    return samples


__all__ = ["body_samples"]
