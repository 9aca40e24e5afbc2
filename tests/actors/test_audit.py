"""The audit logger driven through its inbox, on the real clock (its writes run in a
thread, which a virtual clock would race past); every wait is bounded."""

from __future__ import annotations

import dataclasses
import hashlib
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
import sqlalchemy as sa
import trio
from structlog.testing import capture_logs

from actors import audit
from actors.audit import REQUEST_LOGGER, AuditLogger
from messages.events import TrailEvent
from storage import InMemoryRecorder, SequencedEvent, SqlRecorder, make_engine, migrate
from tests.storage.samples import completed_request, failed_request, received

LIMIT_S = 5.0


class BatchLog(InMemoryRecorder):
    """Keeps the events, the size of each batch, and the trio time each was written.

    With ``gate``, the first write waits (in its worker thread) until the gate opens.
    """

    def __init__(self, *, gate: threading.Event | None = None) -> None:
        super().__init__()
        self.sizes: list[int] = []
        self.written_at: list[float] = []
        self.entered = threading.Event()
        self._gate = gate

    def append(self, batch: Sequence[SequencedEvent]) -> None:
        self.entered.set()
        if self._gate is not None:
            assert self._gate.wait(LIMIT_S), "the test never opened the gate"
            self._gate = None
        super().append(batch)
        self.sizes.append(len(batch))
        self.written_at.append(trio.from_thread.run_sync(trio.current_time))


def _now(events: list[TrailEvent]) -> list[TrailEvent]:
    """The sample events, moved to the present (for the writer-lag figure)."""
    shift = time.time() - events[0].at
    return [dataclasses.replace(event, at=event.at + shift) for event in events]


async def _run_to_end(logger: AuditLogger, events: list[TrailEvent]) -> None:
    """Queue ``events``, close the inbox, and run the logger until it returns."""
    send, receive = trio.open_memory_channel[TrailEvent](len(events))
    async with send:
        for event in events:
            send.send_nowait(event)
    with trio.fail_after(LIMIT_S):
        await logger.run(receive)


async def _wait_for(condition: object) -> None:
    with trio.fail_after(LIMIT_S):
        while not condition():  # type: ignore[operator]
            await trio.sleep(0.001)


async def test_seq_follows_arrival_order_within_each_request() -> None:
    a, b = completed_request("req-a"), failed_request("req-b")
    interleaved = [event for pair in zip(a, b, strict=False) for event in pair] + b[len(a) :]
    recorder = BatchLog()
    await _run_to_end(AuditLogger(recorder), interleaved)
    for request_id, events in (("req-a", a), ("req-b", b)):
        stored = recorder.read(request_id)
        assert [event.seq for event in stored] == list(range(1, len(events) + 1))
        assert [event.kind for event in stored] == [event.kind for event in events]


async def test_a_straggler_after_the_terminal_event_gets_the_next_seq() -> None:
    events = completed_request("req-a")
    late = events[4]  # attempt.finished, arriving after response.completed
    recorder = BatchLog()
    await _run_to_end(AuditLogger(recorder), [*events, late])
    assert [event.seq for event in recorder.read("req-a")] == [1, 2, 3, 4, 5, 6, 7]


async def test_batches_hold_at_most_batch_max_events() -> None:
    recorder = BatchLog()
    await _run_to_end(AuditLogger(recorder, batch_max=4), completed_request("req-a")[:5] * 2)
    assert recorder.sizes == [4, 4, 2]


async def test_a_partial_batch_is_written_after_the_flush_interval() -> None:
    recorder = BatchLog()
    logger = AuditLogger(recorder, flush_interval_s=0.05)
    send, receive = trio.open_memory_channel[TrailEvent](8)
    async with trio.open_nursery() as nursery:
        await nursery.start(logger.run, receive)
        sent_at = trio.current_time()
        await send.send(_now([received("req-a")])[0])
        await _wait_for(lambda: recorder.sizes)
        await send.aclose()
    assert recorder.sizes == [1]
    assert 0.05 <= recorder.written_at[0] - sent_at < 1.0


async def test_an_event_that_already_waited_out_the_interval_waits_no_longer() -> None:
    """Say a slow write kept it in the inbox: its batch goes as soon as it is taken."""
    recorder = BatchLog()
    logger = AuditLogger(recorder, flush_interval_s=30.0)
    send, receive = trio.open_memory_channel[TrailEvent](8)
    stale = received("req-a", at=time.time() - 31.0)
    with trio.fail_after(LIMIT_S):
        async with trio.open_nursery() as nursery:
            await nursery.start(logger.run, receive)
            await send.send(stale)
            await _wait_for(lambda: recorder.sizes)
            await send.aclose()
    assert recorder.sizes == [1]


async def test_a_full_batch_is_written_without_waiting_for_the_interval() -> None:
    recorder = BatchLog()
    logger = AuditLogger(recorder, batch_max=3, flush_interval_s=60.0)
    send, receive = trio.open_memory_channel[TrailEvent](8)
    async with trio.open_nursery() as nursery:
        await nursery.start(logger.run, receive)
        for event in _now(completed_request("req-a")[:3]):
            await send.send(event)
        await _wait_for(lambda: recorder.sizes)
        await send.aclose()
    assert recorder.sizes == [3]


async def test_a_backlog_is_taken_in_slices_that_let_other_tasks_run() -> None:
    events = (completed_request("req-a") * audit.ACCEPT_SLICE)[: 3 * audit.ACCEPT_SLICE + 5]
    recorder = BatchLog()
    logger = AuditLogger(recorder, batch_max=len(events), flush_interval_s=60.0)
    send, receive = trio.open_memory_channel[TrailEvent](len(events))
    queued_seen: set[int] = set()
    for event in events:
        send.send_nowait(event)
    with trio.fail_after(LIMIT_S):
        async with trio.open_nursery() as nursery:
            await nursery.start(logger.run, receive)
            while not recorder.sizes:  # this task runs between the logger's slices
                queued_seen.add(receive.statistics().current_buffer_used)
                await trio.lowlevel.checkpoint()
            await send.aclose()
    assert recorder.sizes == [len(events)]
    assert any(0 < queued < len(events) - 1 for queued in queued_seen), sorted(queued_seen)


async def test_closing_the_inbox_writes_the_rest_and_returns() -> None:
    recorder = BatchLog()
    logger = AuditLogger(recorder, flush_interval_s=60.0)
    send, receive = trio.open_memory_channel[TrailEvent](8)
    with trio.fail_after(LIMIT_S):
        async with trio.open_nursery() as nursery:
            await nursery.start(logger.run, receive)
            for event in _now(completed_request("req-a")[:3]):
                await send.send(event)
            await send.aclose()
    assert recorder.sizes == [3]
    assert len(recorder.read("req-a")) == 3


async def test_cancellation_writes_what_was_received() -> None:
    recorder = BatchLog()
    logger = AuditLogger(recorder, flush_interval_s=60.0)
    send, receive = trio.open_memory_channel[TrailEvent](8)
    async with send, trio.open_nursery() as nursery:
        await nursery.start(logger.run, receive)
        for event in _now(completed_request("req-a")[:3]):
            await send.send(event)
        await trio.testing.wait_all_tasks_blocked()  # the logger waits out its interval
        assert recorder.sizes == []
        nursery.cancel_scope.cancel()
    assert recorder.sizes == [3]


async def test_cancellation_during_a_write_also_writes_what_is_still_buffered() -> None:
    gate = threading.Event()
    recorder = BatchLog(gate=gate)
    logger = AuditLogger(recorder, batch_max=2, flush_interval_s=0.0)
    send, receive = trio.open_memory_channel[TrailEvent](16)
    events = completed_request("req-a") + failed_request("req-b")
    async with send, trio.open_nursery() as nursery:
        await nursery.start(logger.run, receive)
        send.send_nowait(events[0])
        send.send_nowait(events[1])
        with trio.fail_after(LIMIT_S):
            await trio.to_thread.run_sync(recorder.entered.wait)
        for event in events[2:]:
            send.send_nowait(event)  # buffered: the logger is waiting on its write
        assert logger.statistics().pending == len(events)  # 2 being written, the rest queued
        nursery.cancel_scope.cancel()
        gate.set()
    assert sum(recorder.sizes) == len(events)
    assert max(recorder.sizes) == 2
    assert [event.seq for event in recorder.read("req-b")] == list(range(1, 8))
    assert logger.statistics().pending == 0


async def test_an_event_the_database_rejects_is_dropped_alone_and_logged() -> None:
    class Picky(InMemoryRecorder):
        def append(self, batch: Sequence[SequencedEvent]) -> None:
            if any(item.event.request_id == "req-b" and item.seq == 3 for item in batch):
                raise RuntimeError("cannot encode this one")
            super().append(batch)

    recorder = Picky()
    events = completed_request("req-a") + failed_request("req-b")
    with capture_logs() as logs:
        await _run_to_end(AuditLogger(recorder, batch_max=64), events)
    assert [e.seq for e in recorder.read("req-b")] == [s for s in range(1, 8) if s != 3]
    assert len(recorder.read("req-a")) == 6
    [rejected] = [e for e in logs if e["event"].startswith("trail event rejected")]
    assert (rejected["request_id"], rejected["seq"]) == ("req-b", 3)


async def test_statistics_count_events_batches_and_timings() -> None:
    recorder = BatchLog()
    logger = AuditLogger(recorder, batch_max=4)
    before = logger.statistics()
    assert (before.events_received, before.batches, before.pending) == (0, 0, 0)
    assert (before.writer_lag_p99_ms, before.write_ms_p50) == (None, None)
    unfinished = _now(completed_request("req-c")[:2])
    await _run_to_end(
        logger, _now(completed_request("req-a")) + _now(failed_request("req-b")) + unfinished
    )
    stats = logger.statistics()
    assert stats.open_requests == 1
    assert (stats.events_received, stats.events_written, stats.pending) == (15, 15, 0)
    assert (stats.batches, stats.last_batch_size) == (4, 3)
    assert stats.write_ms_p50 is not None
    assert 0 <= stats.write_ms_p50 < 1000
    # the samples' ``at`` run up to 1.5 s ahead of now
    assert stats.writer_lag_p99_ms is not None
    assert -2000 < stats.writer_lag_p99_ms < 1000


async def test_one_summary_line_per_finished_request() -> None:
    events = completed_request("req-a") + failed_request("req-b")
    with capture_logs() as logs:
        await _run_to_end(AuditLogger(BatchLog()), events)
    assert logs == [
        {
            "event": "request.finished",
            "log_level": "info",
            "logger": REQUEST_LOGGER,
            "request_id": "req-a",
            "status": "completed",
            "http_status": 200,
            "error_kind": None,
            "latency_ms": 1501.0,
            "provider": "openai-main",
            "model": "gpt-5-codex",
            "attempts": 1,
            "input_tokens": 1200,
            "cached_input_tokens": 1000,
            "output_tokens": 300,
            "reasoning_tokens": 64,
            "cost_usd": 0.0042,
            "session_id": "session-req-a",
        },
        {
            "event": "request.finished",
            "log_level": "info",
            "logger": REQUEST_LOGGER,
            "request_id": "req-b",
            "status": "failed",
            "http_status": 502,
            "error_kind": "upstream_error",
            "latency_ms": 90.0,
            "provider": "azure-backup",
            "model": "gpt-5-codex",
            "attempts": 2,
            "input_tokens": 0,
            "cached_input_tokens": 0,
            "output_tokens": 0,
            "reasoning_tokens": 0,
            "cost_usd": None,
            "session_id": "session-req-b",
        },
    ]


PLANTED_SECRET = "sk-planted-0123456789abcdef-never-store"


async def test_no_secret_reaches_the_database_file(tmp_path: Path) -> None:
    """A request's Authorization header never reaches the trail: only key ids do."""
    headers = {"authorization": f"Bearer {PLANTED_SECRET}", "user-agent": "codex"}
    # what the ingress resolves the header to: the key's id, never the secret
    key_id = "vk-" + hashlib.sha256(headers["authorization"].encode()).hexdigest()[:8]
    body = b'{"model": "gpt-5-codex", "input": "marker-in-body"}'
    events = [
        dataclasses.replace(received("req-a", body=body), virtual_key_id=key_id),
        *completed_request("req-a")[1:],
    ]
    url = f"sqlite:///{tmp_path / 'trail.db'}"
    migrate(url)
    engine = make_engine(url)
    try:
        with capture_logs() as logs:
            await _run_to_end(AuditLogger(SqlRecorder(engine)), events)
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM events")).scalar() == 6
        stored = b"".join(path.read_bytes() for path in tmp_path.glob("trail.db*"))
    finally:
        engine.dispose()
    assert b"marker-in-body" in stored
    assert key_id.encode() in stored
    assert PLANTED_SECRET.encode() not in stored
    assert PLANTED_SECRET not in repr(logs)
    assert "marker-in-body" not in repr(logs)


async def test_a_final_flush_that_runs_out_of_time_says_how_much_it_lost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Slow(InMemoryRecorder):
        def append(self, batch: Sequence[SequencedEvent]) -> None:
            time.sleep(0.02)
            super().append(batch)

    monkeypatch.setattr(audit, "CLEANUP_TIMEOUT_S", 0.05)
    recorder = Slow()
    logger = AuditLogger(recorder, batch_max=1, flush_interval_s=60.0)
    send, receive = trio.open_memory_channel[TrailEvent](64)
    events = completed_request("req-a") * 5  # 30 events, one per batch: 0.6 s of writing
    with capture_logs() as logs:
        async with send, trio.open_nursery() as nursery:
            for event in events:
                send.send_nowait(event)
            nursery.cancel_scope.cancel()  # before the logger has written anything
            nursery.start_soon(logger.run, receive)
    written = len(recorder.read_since(0, limit=100))
    assert 0 < written < len(events)
    [lost] = [entry for entry in logs if entry["event"] == "audit.unwritten"]
    assert lost["events"] == len(events) - written
    assert lost["log_level"] == "error"
