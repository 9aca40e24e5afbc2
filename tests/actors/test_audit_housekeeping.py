"""The audit logger's housekeeping hook: retention runs in the writer's thread, between
batches, never stops the trail, and ends with the logger."""

from __future__ import annotations

import threading
from functools import partial

import trio
from structlog.testing import capture_logs

from actors.audit import AuditLogger
from messages.events import TrailEvent
from storage import InMemoryRecorder
from tests.storage.samples import completed_request

LIMIT_S = 5.0


class Steps:
    def __init__(self, *, more: int = 0, fail_first: bool = False) -> None:
        self.calls = 0
        self.threads: set[int] = set()
        self._more = more
        self._fail_first = fail_first

    def __call__(self) -> bool:
        self.calls += 1
        self.threads.add(threading.get_ident())
        if self._fail_first and self.calls == 1:
            raise RuntimeError("database is locked")
        return self.calls <= self._more


async def test_housekeeping_runs_in_a_worker_thread_until_the_logger_stops() -> None:
    logger = AuditLogger(InMemoryRecorder())
    steps = Steps(more=3, fail_first=True)
    send, receive = trio.open_memory_channel[TrailEvent](100)
    with capture_logs() as logs, trio.fail_after(LIMIT_S):
        async with trio.open_nursery() as nursery:
            await nursery.start(logger.run, receive)
            nursery.start_soon(partial(logger.housekeep, steps, every_s=0.01))
            for event in completed_request("req-a"):
                await send.send(event)
            while steps.calls < 6:
                await trio.sleep(0.005)
            await send.aclose()  # the logger drains and returns; housekeeping ends with it
    assert threading.get_ident() not in steps.threads
    assert logger.statistics().events_written == 6  # the trail went on
    assert [log["event"] for log in logs if log["log_level"] == "error"] == [
        "audit.housekeeping_failed"
    ]


async def test_housekeeping_of_a_stopped_logger_returns_at_once() -> None:
    logger = AuditLogger(InMemoryRecorder())
    send, receive = trio.open_memory_channel[TrailEvent](1)
    await send.aclose()
    await logger.run(receive)
    steps = Steps()
    with trio.fail_after(LIMIT_S):
        await logger.housekeep(steps, every_s=0.01)
    assert steps.calls == 0
