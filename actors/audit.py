"""The audit logger: the trail's only writer.

Every actor sends its ``TrailEvent``s to one inbox. The logger gives each event its
``seq`` within its request (arrival order at this single inbox is causal order),
gathers batches (up to ``batch_max`` events, or whatever arrived within
``flush_interval_s`` of the first), and hands each batch to the recorder in one
worker thread (``CapacityLimiter(1)``: the sync SQLAlchemy engine, one writer).
While a write runs the inbox keeps filling; when it is full, senders see
``WouldBlock`` and shed load rather than lose a trail.

With a ``Meter`` (``budgets.metering``) every event is priced on arrival, before it is
sequenced: attempts and requests get their ``cost_usd``, and each terminal event's
settlement goes to the budget accountant without waiting (a full accountant inbox
keeps it, in order, for the next batch rather than drop it). So the trail's costs and the
accountant's counters come from the same numbers.

At each terminal event it logs one canonical line per request on the
``switchyard.request`` logger (ids, status, latency, provider, tokens, cost; never
bodies or secrets).

Writes go through ``actors.trail_writer.TrailWriter``, the gateway's one SQL writer,
which retries a batch until the database takes it. While it cannot (locked, full,
unreachable), the logger keeps taking events into its spool — the forming batch, up to
``spool_max`` events — so requests go on being served, metered and logged; when the
spool is full it stops taking, the inbox fills, and the ingress sheds new requests with
a 503 at 80 % of the inbox. The requests already admitted still have the inbox's last
20 % for their events. When the database is back, the spool is written in ``batch_max``
slices. When the inbox closes, the rest is written (retrying at most
``SHUTDOWN_WRITE_S`` if the database is down); when cancelled, what was received (and
what is still buffered) is written under a shielded ``CLEANUP_TIMEOUT_S``. What could
not be written is logged as ``audit.unwritten`` with its count.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import structlog
import trio

from actors.audit_sequence import Sequencer
from actors.audit_statistics import AuditStatistics, percentile
from actors.request_log import REQUEST_LOGGER, log_request
from actors.trail_writer import GiveUp, TrailWriter
from budgets.metering import Meter
from budgets.pricing import PriceTable
from messages.budget import AccountantInbox, Settle
from messages.events import ResponseCompleted, ResponseFailed, TrailEvent
from storage import Recorder, SequencedEvent

CLEANUP_TIMEOUT_S = 5.0
SHUTDOWN_WRITE_S = 30.0
"""After the inbox closes, how long a database outage may hold the shutdown."""
SPOOL_MAX = 65_536
"""Events held in memory while the database is unavailable (beside the inbox's 65 536)."""
WAIT_STEP_S = 0.05
"""While a write waits to be retried, how often the logger takes from the inbox."""
BACKLOG_CHECK_S = 0.005
"""While a batch forms, how often the logger looks whether a full batch is waiting."""
ACCEPT_SLICE = 32
"""Events taken from the inbox between checkpoints: a backlog of hundreds is taken in
slices, so requests in flight are not held up for the whole of it."""
HOUSEKEEPING_S = 60.0
"""How often retention runs a batch (sooner while a backlog is being pruned)."""
HOUSEKEEPING_BUSY_S = 0.25
HOUSEKEEPING_FIRST_S = 5.0
_SAMPLE_WINDOW = 8192  # recent events / batches kept for the percentiles

_TERMINAL = (ResponseCompleted, ResponseFailed)  # a tuple: ``A | B`` is built on every use

# A lazy proxy: it picks up the configuration the entry point sets after import.
_log = structlog.get_logger(__name__)


class AuditLogger:
    def __init__(
        self,
        recorder: Recorder,
        *,
        batch_max: int = 2048,
        flush_interval_s: float = 0.02,
        meter: Meter | None = None,
        settle: trio.MemorySendChannel[AccountantInbox] | None = None,
        writer: TrailWriter | None = None,
        spool_max: int | None = None,
        observe: Callable[[TrailEvent], None] | None = None,  # /metrics (actors.metrics)
    ) -> None:
        if batch_max < 1:
            raise ValueError(f"batch_max must be at least 1, not {batch_max}")
        if flush_interval_s < 0:
            raise ValueError(f"flush_interval_s must not be negative, not {flush_interval_s}")
        self._writer = writer or TrailWriter(recorder)
        self._spool_max = max(SPOOL_MAX if spool_max is None else spool_max, batch_max)
        self._ended = False  # the inbox has ended
        self._give_up_at: float | None = None
        self._spool_full_said = False
        self._batch_max = batch_max
        self._flush_interval_s = flush_interval_s
        self._sequencer = Sequencer()
        self._forming: list[SequencedEvent] = []
        self._received = 0  # taken from the inbox
        self._inbox: trio.MemoryReceiveChannel[TrailEvent] | None = None
        self._written = 0
        self._batches = 0
        self._last_batch_size = 0
        self._lags_ms: deque[float] = deque(maxlen=_SAMPLE_WINDOW)
        self._writes_ms: deque[float] = deque(maxlen=_SAMPLE_WINDOW)
        self._meter = meter
        self._observe = observe
        self._settle = settle
        self._unsent: deque[Settle] = deque()
        self._stopped = trio.Event()
        self._wrote = trio.Event()  # set (and replaced) after each committed batch

    async def run(
        self,
        inbox: trio.MemoryReceiveChannel[TrailEvent],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Write the trail until ``inbox`` is closed and drained."""
        async with inbox, trio.open_nursery() as side_writes:
            self._inbox = inbox
            side_writes.start_soon(self._writer.run_side_writes)
            task_status.started()
            try:
                await self._consume(inbox)
                await self._writer.flush_side_writes(give_up_after_s=CLEANUP_TIMEOUT_S)
            except trio.Cancelled:
                await self._final_flush(inbox)
                raise
            finally:
                self._stopped.set()
                side_writes.cancel_scope.cancel()
                if self._settle is not None:
                    self._settle.close()

    @property
    def writer(self) -> TrailWriter:
        """The gateway's one SQL writer (``submit`` for writes other than the trail)."""
        return self._writer

    # -- housekeeping (retention) ---------------------------------------------------

    async def housekeep(self, step: Callable[[], bool], *, every_s: float | None = None) -> None:
        """Run ``step`` (``storage.retention.Pruner``: one bounded batch) in the writer
        thread, between batches of the trail, every ``every_s`` — every
        ``HOUSEKEEPING_BUSY_S`` while it says more is waiting — until the logger stops.
        A step that fails is logged and tried again later; the trail goes on."""
        every_s = HOUSEKEEPING_S if every_s is None else every_s
        delay = min(every_s, HOUSEKEEPING_FIRST_S)
        while not self._stopped.is_set():
            with trio.move_on_after(delay):
                await self._stopped.wait()
                return
            try:
                more = await trio.to_thread.run_sync(step, limiter=self._writer.limiter)
            except Exception:
                _log.exception("audit.housekeeping_failed")
                more = False
            delay = HOUSEKEEPING_BUSY_S if more else every_s

    async def flushed(self) -> None:
        """Return once every event received so far is committed to SQL (what a test or
        an operator waits on instead of polling the database)."""
        target = self._backlog() + self._written
        while self._written < target:
            await self.next_write()

    async def next_write(self) -> None:
        """Return after the next batch is committed."""
        await self._wrote.wait()

    def use_prices(self, prices: PriceTable) -> None:
        """Price with ``prices`` from now on (a config reload)."""
        if self._meter is not None:
            self._meter.pricer.use(prices, since=time.time())

    def statistics(self) -> AuditStatistics:
        queued = 0 if self._inbox is None else self._inbox.statistics().current_buffer_used
        received = self._received + queued
        writer = self._writer.statistics()
        return AuditStatistics(
            events_received=received,
            events_written=self._written,
            batches=self._batches,
            pending=received - self._written,
            last_batch_size=self._last_batch_size,
            writer_lag_p99_ms=percentile(self._lags_ms, 0.99),
            write_ms_p50=percentile(self._writes_ms, 0.50),
            open_requests=self._sequencer.open_requests,
            spooled=len(self._forming),
            database_ok=writer.database_ok,
            outage_s=writer.outage_s,
            failed_writes=writer.failed_writes,
            rejected_events=writer.rejected_events,
        )

    async def _consume(self, inbox: trio.MemoryReceiveChannel[TrailEvent]) -> None:
        while True:
            try:
                self._accept(await inbox.receive())
            except trio.EndOfChannel:
                return
            if await self._gather(inbox):
                self._end()
            await self._send_unsent()
            await self._flush()
            if self._ended:
                return

    async def _gather(self, inbox: trio.MemoryReceiveChannel[TrailEvent]) -> bool:
        """Fill the forming batch; True when the inbox has ended.

        Events queue in the inbox until the flush interval is up for the oldest of them
        (one that waited out a slow write does not wait again), or a full batch is
        waiting, or every sender has gone (looked at every ``BACKLOG_CHECK_S``), then
        are taken at once, up to ``batch_max``: this task wakes a few times per batch,
        not once per event, and yields every ``ACCEPT_SLICE`` events while it takes them.
        """
        deadline = trio.current_time() + self._flush_interval_s
        if self._forming:  # the interval counts from when the oldest event was made
            deadline -= max(0.0, time.time() - self._forming[0].event.at)
        room = self._batch_max - len(self._forming)
        while True:
            backlog = inbox.statistics()
            now = trio.current_time()
            if backlog.current_buffer_used >= room or not backlog.open_send_channels:
                break
            if now >= deadline:
                break
            await trio.sleep_until(min(deadline, now + BACKLOG_CHECK_S))
        taken = 0
        while len(self._forming) < self._batch_max:
            if taken == ACCEPT_SLICE:
                await trio.lowlevel.checkpoint()
                taken = 0
            try:
                self._accept(inbox.receive_nowait())
            except trio.WouldBlock:
                return False
            except trio.EndOfChannel:
                return True
            taken += 1
        return False

    async def _final_flush(self, inbox: trio.MemoryReceiveChannel[TrailEvent]) -> None:
        """Cancelled: write what was received and what is still buffered, within bounds."""
        while True:
            try:
                self._accept(inbox.receive_nowait())
            except (trio.WouldBlock, trio.EndOfChannel):
                break
        with trio.move_on_after(CLEANUP_TIMEOUT_S, shield=True):
            await self._flush()
        if self._forming:
            _log.error(
                "audit.unwritten",
                events=len(self._forming),
                cleanup_timeout_s=CLEANUP_TIMEOUT_S,
            )

    def _accept(self, event: TrailEvent) -> None:
        if self._meter is not None:
            event = self._metered(self._meter, event)
        sequenced, request = self._sequencer.assign(event)
        self._forming.append(sequenced)
        self._received += 1
        if self._observe is not None:
            self._observe(event)
        if isinstance(event, _TERMINAL):
            log_request(event, request.session_id)

    def _metered(self, meter: Meter, event: TrailEvent) -> TrailEvent:
        """The event priced, its settlement sent; a pricing bug leaves it unpriced
        (logged with its request id) rather than stop the trail."""
        try:
            event, settle = meter.observe(event)
        except Exception:
            _log.exception("audit.unpriced", request_id=event.request_id, kind=event.kind)
            return event
        if settle is not None:
            self._send_settle(settle)
        return event

    def _send_settle(self, settle: Settle) -> None:
        if self._settle is None:
            return
        if self._unsent:
            self._unsent.append(settle)
            return
        try:
            self._settle.send_nowait(settle)
        except trio.WouldBlock:
            self._unsent.append(settle)
            _log.warning("budget accountant inbox full: settlements wait for the next flush")
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass  # the accountant has stopped (shutdown): its counters are rebuilt from SQL

    async def _send_unsent(self) -> None:
        """Hand over settlements a full accountant inbox could not take (in order)."""
        while self._unsent and self._settle is not None:
            try:
                await self._settle.send(self._unsent[0])
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                self._unsent.clear()
                return
            self._unsent.popleft()

    async def _flush(self) -> None:
        """Write everything formed so far, ``batch_max`` events at a time."""
        while self._forming:
            batch = self._forming[: self._batch_max]
            started = time.perf_counter()
            stored = await self._writer.write(
                batch, wait=self._take_while_waiting, backlog=self._backlog
            )
            committed = time.time()
            if not stored:
                _log.error("audit.unwritten", events=len(self._forming), database_unavailable=True)
                self._forming.clear()
                return
            # Only now: a write cancelled before its thread started stays formed.
            del self._forming[: len(batch)]
            self._record_write(batch, started, committed)

    async def _take_while_waiting(self, delay: float) -> None:
        """A write waits ``delay`` s to be retried: meanwhile take events into the spool."""
        until = trio.current_time() + delay
        while True:
            if self._give_up_at is not None and trio.current_time() >= self._give_up_at:
                raise GiveUp
            self._take_into_spool()
            now = trio.current_time()
            if now >= until:
                return
            await trio.sleep(min(WAIT_STEP_S, until - now))

    def _take_into_spool(self) -> None:
        inbox = self._inbox
        if inbox is None or self._ended:
            return
        while len(self._forming) < self._spool_max:
            try:
                self._accept(inbox.receive_nowait())
            except trio.WouldBlock:
                return
            except trio.EndOfChannel:
                self._end()
                return
        if not self._spool_full_said:
            self._spool_full_said = True
            _log.error(
                "trail spool full: new requests are refused (503) until the database is back",
                spooled=len(self._forming),
            )

    def _end(self) -> None:
        """The inbox has ended: a database outage may hold the rest only so long."""
        self._ended = True
        self._give_up_at = trio.current_time() + SHUTDOWN_WRITE_S

    def _backlog(self) -> int:
        """Received, not written (what ``statistics().pending`` says, without its
        percentiles: this is asked after every write)."""
        queued = 0 if self._inbox is None else self._inbox.statistics().current_buffer_used
        return self._received + queued - self._written

    def _record_write(self, batch: list[SequencedEvent], started: float, committed: float) -> None:
        if len(self._forming) < self._spool_max // 2:
            self._spool_full_said = False
        self._writes_ms.append((time.perf_counter() - started) * 1000.0)
        self._lags_ms.extend((committed - item.event.at) * 1000.0 for item in batch)
        self._written += len(batch)
        self._batches += 1
        self._last_batch_size = len(batch)
        self._wrote.set()
        self._wrote = trio.Event()


__all__ = ["CLEANUP_TIMEOUT_S", "REQUEST_LOGGER", "AuditLogger", "AuditStatistics"]
