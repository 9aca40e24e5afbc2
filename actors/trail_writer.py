"""The one SQL writer: the trail's batches, and every other write the gateway makes.

All writes go through one ``CapacityLimiter(1)``: one worker thread at a time, so
SQLite's single write lock is never contended by the gateway itself. Two kinds:

- **Trail batches** (``write``, from the audit logger): retried until stored. A failure
  the database may get over (``storage.database.is_unavailable``: locked past the busy
  timeout, disk full, connection refused or dropped) starts an *outage*: logged once
  when it starts, then every ``PROGRESS_EVERY_S`` while it lasts, and once when it
  ends; retries back off exponentially (``BACKOFF_BASE_S`` doubling to ``BACKOFF_MAX_S``)
  and, meanwhile, the caller's ``wait`` keeps taking events into its spool. A retry
  first skips the events the failed attempt may have committed after all (a dropped
  connection after ``COMMIT``): the ``(request_id, seq)`` already stored. Any other
  failure is a bug in one event: the batch is halved until the event is found, which
  is logged with its request id and dropped (the first ``REJECTIONS_LOGGED``, then one
  line per 1000); the rest is stored.
- **Side writes** (``submit(key, job)``, without waiting): the accountant's counters,
  price syncs, and any upkeep (pruning). The latest job per key replaces an unrun one;
  they run between batches, with the same retries.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import structlog
import trio

from storage import Recorder, SequencedEvent
from storage.database import is_unavailable

BACKOFF_BASE_S = 0.1
BACKOFF_MAX_S = 5.0
PROGRESS_EVERY_S = 10.0
REJECTIONS_LOGGED = 10  # then one line per 1000 rejected events

log = structlog.get_logger("switchyard.trail_writer")
T = TypeVar("T")

SideWrite = Callable[[], object]
Wait = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class WriterStatistics:
    """``database_ok``: the last write succeeded. ``outage_s``: how long writes have been
    failing (0 when they succeed). ``failed_writes``: in total since start.
    ``rejected_events``: dropped as unwritable (a bug; each is logged)."""

    database_ok: bool
    outage_s: float
    failed_writes: int
    rejected_events: int
    side_writes_pending: int


class _Outage:
    """When writes started failing, how often, and when that was last said."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.attempts = 0
        self.failed_writes = 0
        self._said_at = 0.0

    def failed(self, exc: BaseException, *, backlog: int) -> float:
        """Log as needed; the delay before the next attempt."""
        now = time.monotonic()
        self.failed_writes += 1
        self.attempts += 1
        error = f"{type(exc).__name__}: {_first_line(exc)}"
        if self.since is None:
            self.since = self._said_at = now
            log.error("database unavailable: the trail is held in memory", error=error)
        elif now - self._said_at >= PROGRESS_EVERY_S:
            self._said_at = now
            log.warning(
                "database still unavailable",
                error=error,
                outage_s=round(now - self.since, 1),
                attempts=self.attempts,
                backlog_events=backlog,
            )
        return float(min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2.0 ** min(self.attempts - 1, 16)))

    def succeeded(self, *, backlog: int) -> None:
        if self.since is None:
            return
        log.warning(
            "database available again: the trail is catching up",
            outage_s=round(time.monotonic() - self.since, 1),
            attempts=self.attempts,
            backlog_events=backlog,
        )
        self.since = None
        self.attempts = 0


class TrailWriter:
    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder
        self.limiter = trio.CapacityLimiter(1)
        self._outage = _Outage()
        self._rejected = 0
        self._side: dict[str, SideWrite] = {}
        self._side_ready = trio.Event()

    @property
    def in_outage(self) -> bool:
        return self._outage.since is not None

    def statistics(self) -> WriterStatistics:
        since = self._outage.since
        return WriterStatistics(
            database_ok=since is None,
            outage_s=0.0 if since is None else round(time.monotonic() - since, 1),
            failed_writes=self._outage.failed_writes,
            rejected_events=self._rejected,
            side_writes_pending=len(self._side),
        )

    async def write(
        self, batch: Sequence[SequencedEvent], *, wait: Wait, backlog: Callable[[], int]
    ) -> bool:
        """Store ``batch``; False only if ``wait`` raised ``GiveUp`` (shutdown's bound)."""
        replay = False
        while True:
            try:
                wrote = await trio.to_thread.run_sync(
                    self._append, batch, replay, limiter=self.limiter
                )
            except Exception as exc:
                if not is_unavailable(exc):
                    await self._isolate(batch, exc, wait=wait, backlog=backlog)
                    return True
                replay = True
                try:
                    await wait(self._outage.failed(exc, backlog=backlog()))
                except GiveUp:
                    return False
                continue
            if wrote:  # (a replay found all of it stored: that says nothing of the outage)
                self._outage.succeeded(backlog=backlog())
            return True

    def _append(self, batch: Sequence[SequencedEvent], replay: bool) -> bool:
        if replay:
            stored = self._recorder.stored_keys([(i.event.request_id, i.seq) for i in batch])
            batch = [i for i in batch if (i.event.request_id, i.seq) not in stored]
        if not batch:
            return False
        self._recorder.append(batch)
        return True

    async def _isolate(
        self,
        batch: Sequence[SequencedEvent],
        exc: Exception,
        *,
        wait: Wait,
        backlog: Callable[[], int],
    ) -> None:
        """A write failed for a reason retrying will not cure: find the event(s) at fault."""
        if len(batch) == 1:
            item = batch[0]
            self._rejected += 1
            if self._rejected > REJECTIONS_LOGGED and self._rejected % 1000:
                return  # a systematic fault (a table dropped): a line per 1000, not per event
            log.error(
                "trail event rejected by the database: dropped",
                request_id=item.event.request_id,
                seq=item.seq,
                kind=item.event.kind,
                error=f"{type(exc).__name__}: {_first_line(exc)}",
                rejected_so_far=self._rejected,
                exc_info=exc,
            )
            return
        middle = len(batch) // 2
        for half in (batch[:middle], batch[middle:]):
            await self.write(half, wait=wait, backlog=backlog)

    async def run(self, job: Callable[[], T]) -> T:
        """Run a blocking SQL job whose answer is awaited (a budget lease) on the writer."""
        return await trio.to_thread.run_sync(job, limiter=self.limiter)

    def submit(self, key: str, job: SideWrite) -> None:
        """Run ``job`` (blocking SQL) on the writer soon; replaces an unrun job of ``key``."""
        self._side[key] = job
        self._side_ready.set()

    async def run_side_writes(self) -> None:
        """Run submitted jobs as they come (until cancelled)."""
        while True:
            await self._side_ready.wait()
            self._side_ready = trio.Event()
            await self.flush_side_writes()

    async def flush_side_writes(self, *, give_up_after_s: float | None = None) -> None:
        """Run every submitted job; with ``give_up_after_s``, stop retrying after that."""
        deadline = None if give_up_after_s is None else trio.current_time() + give_up_after_s
        while self._side:
            key, job = next(iter(self._side.items()))
            try:
                await trio.to_thread.run_sync(job, limiter=self.limiter)
            except Exception as exc:
                if is_unavailable(exc):
                    delay = self._outage.failed(exc, backlog=0)
                    if deadline is not None and trio.current_time() + delay > deadline:
                        return
                    await trio.sleep(delay)
                    continue
                log.exception("side write failed: dropped", write=key)
            else:
                self._outage.succeeded(backlog=0)
            if self._side.get(key) is job:
                del self._side[key]


class GiveUp(Exception):
    """Raised by a ``wait`` to stop retrying (shutdown's bound has passed)."""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else ""


__all__ = ["BACKOFF_MAX_S", "GiveUp", "TrailWriter", "WriterStatistics"]
