"""Retention: a simulated month of trail, pruned to its windows, costs unchanged."""

from __future__ import annotations

import dataclasses
import time
from datetime import timedelta
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from messages.events import RequestReceived, ResponseCompleted, TrailEvent
from storage import SqlRecorder, decode_event
from storage.blob_store import rebuild_body, rebuild_payload
from storage.blobs import TOUCH_S
from storage.retention import DAY_S, PruneReport, RetentionPolicy, prune
from storage.tables import attempts, blobs, events, requests
from tests.storage.samples import completed_request, sequenced
from tests.storage.test_blobs import TOOLS, item

DAYS = 31  # day 0 is today, day 30 a month ago
PER_DAY = 3
POLICY = RetentionPolicy(bodies_s=7 * DAY_S, events_s=20 * DAY_S)
VIEWS = ("cost_by_model", "cost_by_key", "cost_by_day", "budget_status")


def _request(day: int, n: int) -> list[TrailEvent]:
    """One Codex-like turn: the week's instructions, the shared tools, its session's
    conversation so far (sessions last a day), a key and a cost of its own."""
    request_id = f"d{day:02d}-{n}"
    events_ = completed_request(request_id, at=time.time() - 10)
    body = orjson.dumps(
        {
            "model": "gpt-5.5",
            "instructions": f"week {day // 7} instructions " * 100,
            "input": [item(day * 100 + i) for i in range(n + 4)],
            "tools": TOOLS,
        }
    )
    response = orjson.dumps({"id": f"resp_{request_id}", "tools": TOOLS, "output": []})
    received, *middle, completed = events_
    assert isinstance(received, RequestReceived) and isinstance(completed, ResponseCompleted)
    cost = 0.001 * (day + 1) + 0.0001 * n
    middle[-1] = dataclasses.replace(middle[-1], cost_usd=cost)  # type: ignore[arg-type]
    return [
        dataclasses.replace(received, body=body, virtual_key_id=f"vk-{n % 2}", team="red"),
        *middle,
        dataclasses.replace(completed, response=response, cost_usd=cost),
    ]


def _set_back(connection: Connection, ids: list[str], days: int) -> None:
    """Move what was just written ``days`` into the past: events, requests, attempts and
    the blobs those bodies marked."""
    shift, now = timedelta(days=days), time.time()
    for table, columns in (
        (events, ("recorded_at",)),
        (requests, ("started_at", "finished_at")),
        (attempts, ("started_at", "finished_at")),
    ):
        rows = connection.execute(sa.select(table).where(table.c.request_id.in_(ids))).all()
        for row in rows:
            values = {c: getattr(row, c) - shift for c in columns}
            key = [c == getattr(row, c.name) for c in table.primary_key]
            connection.execute(sa.update(table).where(*key).values(**values))
    connection.execute(
        sa.update(blobs)
        .where(blobs.c.used_at >= int(now) - 120)
        .values(used_at=blobs.c.used_at - days * 86400)
    )


def _simulate_month(engine: Engine) -> dict[str, bytes]:
    bodies: dict[str, bytes] = {}
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO budget_counters (level, scope_id, period, source, limit_usd, "
                "spent_usd, reserved_usd, updated_at) VALUES ('virtual_key', 'vk-0', 'total', "
                "'config', 100, 0, 0, :now)"
            ),
            {"now": "2026-01-01 00:00:00" if engine.dialect.name == "sqlite" else "2026-01-01Z"},
        )
    for day in range(DAYS - 1, -1, -1):  # oldest first, as a month is written
        recorder = SqlRecorder(engine)  # a writer of that day: it marks the blobs it names
        day_events = [event for n in range(PER_DAY) for event in _request(day, n)]
        recorder.append(sequenced(day_events))
        for event in day_events:
            if isinstance(event, RequestReceived):
                bodies[event.request_id] = event.body
        with engine.begin() as connection:
            _set_back(connection, sorted({e.request_id for e in day_events}), day)
    return bodies


def _views(engine: Engine) -> dict[str, list[Any]]:
    with engine.connect() as connection:
        return {
            view: [
                tuple(row)
                for row in connection.execute(sa.text(f"SELECT * FROM {view} ORDER BY 1, 2, 3"))
            ]
            for view in VIEWS
        }


def _referenced_blobs(connection: Connection) -> set[bytes]:
    """Every key a kept payload names, through its chains."""
    named: set[bytes] = set()
    for (payload,) in connection.execute(sa.select(sa.cast(events.c.payload, sa.Text))):
        fields = orjson.loads(payload)
        for name in ("body", "response"):
            for part in fields.get(f"{name}_parts", ()):
                key: bytes | None = bytes.fromhex(part[3])
                while key is not None:
                    named.add(key)
                    row = connection.execute(
                        sa.select(blobs.c.parent).where(blobs.c.key == key)
                    ).one()
                    key = None if row.parent is None else bytes(row.parent)
    return named


def test_a_simulated_month_is_pruned_to_its_windows_and_costs_are_unchanged(
    engine: Engine,
) -> None:
    bodies = _simulate_month(engine)
    before = _views(engine)
    assert sum(row[-4] for row in before["cost_by_key"]) > 0  # there is spend to keep
    with engine.connect() as connection:
        counts = [
            connection.execute(sa.select(sa.func.count()).select_from(t)).scalar()
            for t in (requests, attempts)
        ]
        blobs_before = connection.execute(sa.select(sa.func.count()).select_from(blobs)).scalar()

    reports: list[PruneReport] = []
    while not reports or reports[-1].more:
        reports.append(prune(engine, POLICY, now=time.time(), limit=7))  # small batches
        assert len(reports) < 200
    assert len(reports) > 3  # it took several bounded steps
    assert all(r.bodies <= 7 and r.events <= 7 and r.blobs <= 7 for r in reports)

    assert _views(engine) == before
    cutoff_events = time.time() - POLICY.events_s  # type: ignore[operator]
    cutoff_bodies = time.time() - POLICY.bodies_s  # type: ignore[operator]
    with engine.connect() as connection:
        assert [
            connection.execute(sa.select(sa.func.count()).select_from(t)).scalar()
            for t in (requests, attempts)
        ] == counts
        kept = connection.execute(
            sa.select(
                events.c.request_id,
                events.c.kind,
                events.c.recorded_at,
                sa.cast(events.c.payload, sa.Text).label("payload"),
            )
        ).all()
        assert {r.request_id[:3] for r in kept} == {f"d{d:02d}" for d in range(20)}
        for row in kept:
            assert row.recorded_at.timestamp() >= cutoff_events
            if row.kind != "request.received":
                continue
            whole = rebuild_payload(connection, row.payload.encode())
            event = decode_event(row.request_id, row.kind, whole)
            assert isinstance(event, RequestReceived)
            assert rebuild_body(connection, row.payload.encode()) == event.body
            if row.recorded_at.timestamp() < cutoff_bodies:
                assert event.body == b"" and orjson.loads(row.payload)["body_pruned"] is True
            else:
                assert event.body == bodies[row.request_id]  # byte for byte
        remaining = {bytes(key) for key in connection.execute(sa.select(blobs.c.key)).scalars()}
        named = _referenced_blobs(connection)
        assert named <= remaining  # nothing a kept body names is lost...
        grace = cutoff_bodies - TOUCH_S - 60  # ...blobs last named just before are kept a while
        unnamed = (
            connection.execute(sa.select(blobs.c.used_at).where(blobs.c.key.notin_(named)))
            .scalars()
            .all()
        )
        assert unnamed and min(unnamed) >= grace
        assert len(remaining) < blobs_before / 2  # ...and the rest is gone
    assert sum(r.events for r in reports) == (DAYS - 20) * PER_DAY * 6


def test_nothing_is_pruned_inside_the_windows(engine: Engine) -> None:
    recorder = SqlRecorder(engine)
    recorder.append(sequenced(_request(0, 0)))
    report = prune(engine, POLICY, now=time.time())
    assert (report.bodies, report.events, report.blobs, report.more) == (0, 0, 0, False)
    (received, *_) = recorder.read("d00-0")
    event = decode_event(received.request_id, received.kind, received.payload)
    assert isinstance(event, RequestReceived) and len(event.body) > 1000


def test_sqlite_files_give_pruned_pages_back(tmp_path: Any) -> None:
    from storage import make_engine, migrate

    url = f"sqlite:///{tmp_path / 'trail.db'}"
    migrate(url)
    engine = make_engine(url)
    try:
        recorder = SqlRecorder(engine)
        for n in range(40):
            big = dataclasses.replace(
                completed_request(f"r{n}", at=time.time())[0],
                body=orjson.dumps({"instructions": f"{n} " + "x" * 60_000}),
            )
            recorder.append(sequenced([big]))
        path = tmp_path / "trail.db"
        with engine.begin() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        grown = path.stat().st_size
        report = prune(
            engine, RetentionPolicy(bodies_s=3600, events_s=3600), now=time.time() + 3 * 3600
        )
        while report.more:
            report = prune(
                engine, RetentionPolicy(bodies_s=3600, events_s=3600), now=time.time() + 3 * 3600
            )
        with engine.begin() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        assert path.stat().st_size < grown / 4
    finally:
        engine.dispose()


def test_events_are_pruned_in_id_order_up_to_the_first_one_not_due(engine: Engine) -> None:
    """Retention walks events by id, with no index on ``recorded_at``: an old event written
    after a newer one (held in the spool through an outage) waits for that one."""
    recorder = SqlRecorder(engine)
    for name, day in (("old", 30), ("new", 0), ("late", 25)):  # in the order written
        renamed = [dataclasses.replace(e, request_id=name) for e in _request(0, 0)]
        recorder.append(sequenced(renamed))
        with engine.begin() as connection:
            _set_back(connection, [name], day)
    report = prune(engine, RetentionPolicy(bodies_s=None, events_s=20 * DAY_S), now=time.time())
    with engine.connect() as connection:
        kept = connection.execute(sa.select(events.c.request_id).distinct()).scalars().all()
    assert (report.events, sorted(kept)) == (6, ["late", "new"])
