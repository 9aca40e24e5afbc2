"""The audit logger through a database outage: the trail is held, retried, caught up,
never duplicated; the logs say it once, then progress, then recovery. Real clock,
bounded waits (the writes run in a thread)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence

import pytest
import sqlalchemy as sa
import trio
from structlog.testing import capture_logs

from actors import audit, trail_writer
from actors.audit import AuditLogger
from actors.trail_writer import TrailWriter
from budgets.metering import Meter
from budgets.pricing import Pricer, PriceTable
from messages.budget import Settle
from messages.events import TrailEvent
from storage import InMemoryRecorder, SequencedEvent
from tests.storage.samples import completed_request, failed_request

LIMIT_S = 10.0


def _locked() -> sa.exc.OperationalError:
    return sa.exc.OperationalError("INSERT INTO events", {}, sqlite3.OperationalError("locked"))


class Flaky(InMemoryRecorder):
    """Fails every write with ``database is locked`` while ``down`` is set; with
    ``commit_then_fail``, the first failing write stores its batch and still raises
    (a connection dropped after ``COMMIT``)."""

    def __init__(self, *, commit_then_fail: bool = False) -> None:
        super().__init__()
        self.down = threading.Event()
        self.failures = 0
        self.batches: list[int] = []
        self._commit_then_fail = commit_then_fail

    def append(self, batch: Sequence[SequencedEvent]) -> None:
        if self.down.is_set():
            self.failures += 1
            if self._commit_then_fail and self.failures == 1:
                super().append(batch)
            raise _locked()
        super().append(batch)
        self.batches.append(len(batch))


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trail_writer, "BACKOFF_BASE_S", 0.005)
    monkeypatch.setattr(trail_writer, "BACKOFF_MAX_S", 0.02)


def _events(count: int) -> list[TrailEvent]:
    events: list[TrailEvent] = []
    for n in range(count):
        events += completed_request(f"req-{n}")
    return events


async def _until(condition: object) -> None:
    with trio.fail_after(LIMIT_S):
        while not condition():  # type: ignore[operator]
            await trio.sleep(0.005)


async def test_an_outage_holds_the_trail_then_catches_up_without_duplicates() -> None:
    recorder = Flaky(commit_then_fail=True)
    logger = AuditLogger(recorder, batch_max=8, flush_interval_s=0.0)
    events = _events(20)  # 120 events
    send, receive = trio.open_memory_channel[TrailEvent](len(events))
    with capture_logs() as logs:
        async with trio.open_nursery() as nursery:
            await nursery.start(logger.run, receive)
            recorder.down.set()
            for event in events[:60]:
                send.send_nowait(event)
            await _until(lambda: recorder.failures >= 5)
            for event in events[60:]:
                send.send_nowait(event)
            # the logger keeps taking events while the write waits: the inbox empties
            await _until(lambda: receive.statistics().current_buffer_used == 0)
            stats = logger.statistics()
            assert not stats.database_ok
            assert stats.spooled == 120 - 8  # one committed batch was not seen to commit
            recorder.down.clear()
            await _until(lambda: logger.statistics().pending == 0)
            assert logger.statistics().database_ok
            send.close()
    for n in range(20):
        assert [e.seq for e in recorder.read(f"req-{n}")] == list(range(1, 7))
    assert len(recorder.read_since(0, limit=1000)) == 120
    assert max(recorder.batches) <= 8
    kinds = [entry["event"] for entry in logs]
    assert kinds.count("database unavailable: the trail is held in memory") == 1
    assert kinds.count("database available again: the trail is catching up") == 1
    [back] = [e for e in logs if e["event"].startswith("database available again")]
    assert back["attempts"] >= 5


async def test_progress_is_logged_periodically_not_per_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(trail_writer, "PROGRESS_EVERY_S", 0.1)
    recorder = Flaky()
    recorder.down.set()
    logger = AuditLogger(recorder, flush_interval_s=0.0)
    send, receive = trio.open_memory_channel[TrailEvent](64)
    with capture_logs() as logs:
        async with trio.open_nursery() as nursery:
            await nursery.start(logger.run, receive)
            for event in completed_request("req-a"):
                send.send_nowait(event)
            await trio.sleep(0.5)
            recorder.down.clear()
            await _until(lambda: logger.statistics().pending == 0)
            send.close()
    still = [e for e in logs if e["event"] == "database still unavailable"]
    assert 2 <= len(still) <= 8, len(still)
    assert recorder.failures > len(still) * 2  # not one line per failed write
    assert all(e["backlog_events"] == 6 for e in still)


async def test_a_full_spool_stops_taking_so_the_inbox_fills() -> None:
    recorder = Flaky()
    recorder.down.set()
    logger = AuditLogger(recorder, batch_max=4, flush_interval_s=0.0, spool_max=30)
    events = _events(10)  # 60 events
    send, receive = trio.open_memory_channel[TrailEvent](64)
    with capture_logs() as logs:
        async with trio.open_nursery() as nursery:
            await nursery.start(logger.run, receive)
            for event in events:
                send.send_nowait(event)
            await _until(lambda: logger.statistics().spooled == 30)
            await trio.sleep(0.1)
            assert logger.statistics().spooled == 30
            assert receive.statistics().current_buffer_used == 30
            recorder.down.clear()
            await _until(lambda: logger.statistics().pending == 0)
            send.close()
    assert len(recorder.read_since(0, limit=1000)) == 60
    assert any(e["event"].startswith("trail spool full") for e in logs)


async def test_shutdown_waits_for_the_database_only_so_long(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(audit, "SHUTDOWN_WRITE_S", 0.2)
    recorder = Flaky()
    recorder.down.set()
    logger = AuditLogger(recorder, flush_interval_s=0.0)
    events = completed_request("req-a") + failed_request("req-b")
    send, receive = trio.open_memory_channel[TrailEvent](64)
    async with send:
        for event in events:
            send.send_nowait(event)
    with capture_logs() as logs, trio.fail_after(LIMIT_S):
        await logger.run(receive)
    [lost] = [e for e in logs if e["event"] == "audit.unwritten"]
    assert lost["events"] == len(events)
    assert lost["log_level"] == "error"


async def test_side_writes_keep_the_latest_per_key_and_are_retried() -> None:
    recorder = Flaky()
    writer = TrailWriter(recorder)
    done: list[str] = []
    failing = threading.Event()
    failing.set()

    def job(name: str) -> None:
        if failing.is_set():
            raise _locked()
        done.append(name)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(writer.run_side_writes)
        writer.submit("counters", lambda: job("counters-1"))
        await trio.sleep(0.05)
        writer.submit("counters", lambda: job("counters-2"))
        writer.submit("prices", lambda: job("prices"))
        assert writer.statistics().side_writes_pending == 2
        failing.clear()
        await _until(lambda: writer.statistics().side_writes_pending == 0)
        nursery.cancel_scope.cancel()
    assert sorted(done) == ["counters-2", "prices"]
    assert writer.statistics().failed_writes >= 1


async def test_a_pricing_bug_leaves_one_event_unpriced_and_the_trail_goes_on() -> None:
    class Buggy(Meter):
        def observe(self, event: TrailEvent) -> tuple[TrailEvent, Settle | None]:
            if event.request_id == "req-a" and event.kind == "attempt.finished":
                raise OverflowError("usage out of range")
            return super().observe(event)

    recorder = InMemoryRecorder()
    logger = AuditLogger(recorder, meter=Buggy(Pricer(PriceTable.shipped())))
    events = completed_request("req-a") + failed_request("req-b")
    send, receive = trio.open_memory_channel[TrailEvent](len(events))
    async with send:
        for event in events:
            send.send_nowait(event)
    with capture_logs() as logs, trio.fail_after(LIMIT_S):
        await logger.run(receive)
    assert len(recorder.read("req-a")) == 6 and len(recorder.read("req-b")) == 7
    [unpriced] = [e for e in logs if e["event"] == "audit.unpriced"]
    assert (unpriced["request_id"], unpriced["kind"]) == ("req-a", "attempt.finished")
