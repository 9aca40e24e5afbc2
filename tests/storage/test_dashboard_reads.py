"""The dashboard's reads (``storage.dashboard_reads``) on SQLite and PostgreSQL: its
engine cannot write, and each read answers plain JSON-able rows on an empty trail."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
import sqlalchemy as sa

from storage import dashboard_reads as reads


def test_the_reader_engine_refuses_to_write(database_url: str) -> None:
    engine = reads.reader_engine(database_url)
    try:
        with pytest.raises(sa.exc.DBAPIError), engine.begin() as connection:
            connection.exec_driver_sql("DELETE FROM requests")
        with pytest.raises(sa.exc.DBAPIError), engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE intruder (x INTEGER)")
    finally:
        engine.dispose()


def test_every_read_answers_json_on_an_empty_trail(database_url: str) -> None:
    engine = reads.reader_engine(database_url)
    now = datetime.now(UTC)
    try:
        answers = [
            reads.recent_requests(engine, limit=5),
            reads.traffic(engine, minutes=3, now=now),
            *(
                reads.spend_over_time(engine, by, days=3, today=now.date())
                for by in reads.SPEND_DIMENSIONS
            ),
            reads.replay_runs(engine, limit=3),
            reads.request_trail(engine, "req_missing"),
        ]
    finally:
        engine.dispose()
    orjson.dumps(answers)
    recent, minutes, *spend, replays, trail = answers
    assert recent == [] and replays == [] and trail is None
    assert [m["requests"] for m in minutes] == [0, 0, 0]
    assert all(s["series"] == [] and s["totals"] == [] for s in spend)
