"""Retention in the running gateway: the audit writer prunes what the config says, and
the costs stay."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import trio

from actors import audit
from fakes import FakeProviderServer
from tests.gateway_rig import (
    Trail,
    auth,
    config_yaml,
    make_config,
    openai_provider,
    running_gateway,
)

RETENTION = "retention: {bodies: 1h, events: 2h}\n"


def _set_back(db: Path, request_id: str, minutes: int) -> None:
    """Move a request's events ``minutes`` into the past, in SQL."""
    connection = sqlite3.connect(db, isolation_level=None)
    try:
        rows = connection.execute(
            "SELECT id, recorded_at FROM events WHERE request_id = ?", (request_id,)
        ).fetchall()
        for event_id, stamp in rows:
            moment = datetime.fromisoformat(stamp).replace(tzinfo=UTC) - timedelta(minutes=minutes)
            text = moment.replace(tzinfo=None).isoformat(" ", "microseconds")
            connection.execute("UPDATE events SET recorded_at = ? WHERE id = ?", (text, event_id))
    finally:
        connection.close()


async def test_the_gateway_prunes_old_bodies_and_events_and_keeps_costs(
    fake: FakeProviderServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit, "HOUSEKEEPING_FIRST_S", 0.05)
    monkeypatch.setattr(audit, "HOUSEKEEPING_S", 0.05)
    db = tmp_path / "trail.db"
    text = config_yaml([openai_provider(fake.base_url)], db_path=db) + RETENTION
    async with running_gateway(make_config(text)) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as client:
            for n in range(3):
                body = {"model": "gpt-5.5", "input": f"hello {n} " + "x" * 2000}
                response = await client.post("/v1/responses", json=body, headers=auth())
                assert response.status_code == 200
                await trio.sleep(0.01)
        trail = Trail(db, gateway.audit)
        await trail.wait_rows("SELECT 1 FROM requests WHERE status = 'completed'", at_least=3)
        # oldest first, as written (retention walks events in id order)
        expired, stale, fresh = (
            row["request_id"]
            for row in trail.rows("SELECT request_id FROM requests ORDER BY started_at")
        )
        costs = [tuple(row) for row in trail.rows("SELECT * FROM cost_by_key")]
        _set_back(db, stale, 90)  # past the bodies' hour, inside the events' two
        _set_back(db, expired, 180)  # past both
        # pruning is housekeeping's (on its timer), not an audit flush: look again on a timer
        await Trail(db).wait_until(
            lambda: (
                not trail.rows("SELECT 1 FROM events WHERE request_id = ?", expired)
                and trail.body(stale) == b""
            ),
            within_s=5,
        )
    assert len(trail.body(fresh) or b"") > 2000
    assert trail.kinds(stale)[0] == "request.received"  # the event stays, without its body
    assert [tuple(row) for row in trail.rows("SELECT * FROM cost_by_key")] == costs
    assert len(costs) == 1 and costs[0][4] == 3  # one key, one day, three requests
    assert len(trail.rows("SELECT 1 FROM requests")) == 3
