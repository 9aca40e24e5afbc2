"""The SQL recorder: the recorder contract, plus what users query directly."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from storage import Recorder, SqlRecorder
from tests.storage.contract import RecorderContract
from tests.storage.samples import completed_request, sequenced


class TestSqlRecorder(RecorderContract):
    @pytest.fixture
    def recorder(self, engine: Engine) -> Recorder:
        return SqlRecorder(engine)


def _json_field_query(dialect: str) -> str:
    if dialect == "sqlite":
        return "SELECT json_extract(payload, '$.body.model') FROM events WHERE kind = :kind"
    return "SELECT payload->'body'->>'model' FROM events WHERE kind = :kind"


def test_users_can_query_inside_request_bodies(engine: Engine) -> None:
    SqlRecorder(engine).append(sequenced(completed_request("req-a")))
    query = sa.text(_json_field_query(engine.dialect.name))
    with engine.connect() as connection:
        models = connection.execute(query, {"kind": "request.received"}).scalars().all()
    assert models == ["gpt-5-codex"]


def _recent_query(dialect: str) -> str:
    if dialect == "sqlite":
        return "SELECT request_id FROM requests WHERE started_at >= datetime('now', '-7 days')"
    return "SELECT request_id FROM requests WHERE started_at >= now() - interval '7 days'"


def test_timestamps_compare_with_the_databases_own_clock(engine: Engine) -> None:
    now = time.time()
    recorder = SqlRecorder(engine)
    recorder.append(sequenced(completed_request("req-today", at=now - 60)))
    recorder.append(sequenced(completed_request("req-last-week", at=now - 8 * 86400)))
    with engine.connect() as connection:
        recent = connection.execute(sa.text(_recent_query(engine.dialect.name))).scalars().all()
    assert recent == ["req-today"]
