"""The SQL recorder: the recorder contract, plus what users query directly."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Engine

from storage import (
    Recorder,
    SqlRecorder,
    TrailIntegrityError,
    encode_payload,
    make_engine,
    migrate,
)
from storage.sql import _timestamp_for
from storage.tables import UtcDateTime
from tests.storage.contract import RecorderContract
from tests.storage.samples import completed_request, received, sequenced


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


@pytest.mark.parametrize("at", [0.0, 1_767_225_599.999_999, 1_767_225_600.25, 4_102_444_800.5])
def test_sqlite_timestamps_are_written_as_sqlalchemy_writes_them(at: float) -> None:
    """The write path bypasses Core's bind processing; its text must be Core's text."""
    dialect = sqlite.dialect()
    core = UtcDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert core is not None
    assert _timestamp_for(dialect)(at) == core(datetime.fromtimestamp(at, UTC))


@pytest.mark.parametrize(
    "body",
    [
        b'{"text": "nul \\u0000 escaped"}',
        b'{"n": 123456789012345678901234567890, "n": 2}',
        b'{"truncated": ',
        b"\xef\xbb\xbf{}",
        b"\xff not utf-8",
    ],
    ids=["nul-escape", "big-int-duplicate-key", "truncated", "bom", "not-utf8"],
)
def test_awkward_bodies_are_stored_as_the_codec_wrote_them(engine: Engine, body: bytes) -> None:
    recorder = SqlRecorder(engine)
    event = received("req-a", body=body)
    recorder.append(sequenced([event]))
    [stored] = recorder.read("req-a")
    assert stored.payload == encode_payload(event)


def test_a_large_batch_is_stored_whole_and_in_order(engine: Engine) -> None:
    """SQLite takes a big batch as multi-row inserts of 64, 32, … rows: every event,
    request and attempt lands, ids follow the batch's order, and one bad row anywhere
    fails the whole batch as before."""
    recorder = SqlRecorder(engine)
    batch = [item for n in range(23) for item in sequenced(completed_request(f"req-{n:02d}"))]
    assert len(batch) % 64 and len(batch) > 64  # several chunk sizes
    recorder.append(batch)
    stored = recorder.read_since(0, limit=10_000)
    assert [(e.request_id, e.seq) for e in stored] == [(i.event.request_id, i.seq) for i in batch]
    assert [e.id for e in stored] == sorted(e.id for e in stored)
    with engine.connect() as connection:
        done = connection.execute(
            sa.text("SELECT request_id FROM requests WHERE status = 'completed' ORDER BY 1")
        )
        assert done.scalars().all() == [f"req-{n:02d}" for n in range(23)]
        attempts = connection.execute(sa.text("SELECT count(*) FROM attempts")).scalar()
        assert attempts == 23
    again = [item for n in range(23, 40) for item in sequenced(completed_request(f"req-{n}"))]
    with pytest.raises(TrailIntegrityError):
        recorder.append([*again[:50], batch[3], *again[50:]])  # an event already stored
    assert len(recorder.read_since(0, limit=10_000)) == len(batch)


def test_a_large_batch_fits_a_connection_allowing_few_parameters(tmp_path: Path) -> None:
    """SQLite before 3.32 allows 999 parameters per statement (a build may allow fewer):
    the multi-row inserts hold to the connection's own limit."""
    url = f"sqlite:///{tmp_path / 'trail.db'}"
    migrate(url)
    engine = make_engine(url)

    def few_parameters(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 100)  # 3 rows of 30

    sa.event.listen(engine, "connect", few_parameters)
    try:
        recorder = SqlRecorder(engine)
        batch = [item for n in range(9) for item in sequenced(completed_request(f"req-{n}"))]
        recorder.append(batch)
        assert len(recorder.read_since(0, limit=10_000)) == len(batch)
        with engine.connect() as connection:
            count = connection.execute(sa.text("SELECT count(*) FROM requests")).scalar()
        assert count == 9
    finally:
        engine.dispose()
