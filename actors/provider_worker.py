"""The provider-worker actor: the only place that talks to providers.

It owns the pooled upstream client and the rotation of each provider's API keys. Each
job (a request and its ordered candidates) runs as a task in the worker's nursery:
attempts go to the candidates in order — retried, moved to the provider's next key, or
failed over as ``routing.retry`` decides — until one answers, the request's own fault
ends it, or the request's deadline passes. Once a byte has reached the client the job
never moves to another provider: a later failure is reported in the stream.

After every attempt the router gets an ``AttemptReport`` (for its circuit breakers),
sent without waiting: a full router inbox drops the report, never stalls the request.

Each job is its own error boundary (``_job``): an exception while serving it — a bug in
a decoder, say — fails that request alone (a logged traceback with its request id, a
500 naming the request id, ``response.failed``) and never reaches the nursery the jobs
share, so it cancels no other request and never counts against the supervisor's restart
budget. The job's reply channel is closed when the task ends, however it ends, so the
ingress is never left waiting.
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass, field, replace

import structlog
import trio

from actors.attempt import Attempt, AttemptContext, AttemptResult
from actors.request_faults import emit, internal_error
from actors.trail_events import response_failed
from config.model import ProviderConfig, ProviderKey
from http11.client import UpstreamPool
from messages.commands import ReplyError
from messages.errors import ErrorInfo, ErrorKind
from messages.events import TrailEvent
from providers.client_formats.request_fields import RequestInvalid
from providers.exchanges.open_exchange import UnsupportedRoute, open_exchange
from routing.commands import AttemptReport, Candidate, ProviderJob, RouterInbox
from routing.keys import BenchedKey, KeyRotation
from routing.retry import Decision, Next, bounded_retry_after, decide, most_informative

log = structlog.get_logger("switchyard.provider_worker")


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerStatistics:
    """A snapshot for the health endpoint."""

    jobs_in_flight: int
    reports_dropped: int  # attempt reports the full router inbox could not take
    internal_errors: int  # jobs failed by a bug (each logged with its traceback)
    benched_keys: tuple[BenchedKey, ...]


@dataclass(slots=True, kw_only=True)
class _Progress:
    """One job's attempts so far (mutable; lives in the job's task only)."""

    attempts: int = 0
    errors: list[ErrorInfo] = field(default_factory=list)
    reason: str = "primary"  # why the next attempt happens, for ``attempt.started``
    done: bool = False  # no further candidate: served, given up, or out of time
    served: bool = False  # the client got an answer (maybe one failing in-stream)
    attempt: Attempt | None = None  # the latest attempt: did its answer reach the client?
    ended: bool = False  # the worker recorded the request's terminal event

    @property
    def request_ended(self) -> bool:
        """Whether the request's terminal event is recorded (by the worker or an attempt)."""
        return self.ended or (self.attempt is not None and self.attempt.ended)


class ProviderWorker:
    def __init__(
        self,
        *,
        pool: UpstreamPool,
        audit: trio.MemorySendChannel[TrailEvent],
        router: trio.MemorySendChannel[RouterInbox] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._pool = pool
        self._audit = audit
        self._router = router
        self._rng = rng or random.Random()
        self._keys = KeyRotation()
        self._jobs = 0
        self._reports_dropped = 0
        self._internal_errors = 0

    async def run(
        self,
        inbox: trio.MemoryReceiveChannel[ProviderJob],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        async with trio.open_nursery() as jobs:
            task_status.started()
            async for job in inbox:
                jobs.start_soon(self._job, job)

    def statistics(self) -> WorkerStatistics:
        return WorkerStatistics(
            jobs_in_flight=self._jobs,
            reports_dropped=self._reports_dropped,
            internal_errors=self._internal_errors,
            benched_keys=self._keys.benched(now=trio.current_time()),
        )

    async def _job(self, job: ProviderJob) -> None:
        """One request's error boundary (see the module docstring)."""
        self._jobs += 1
        progress = _Progress()
        try:
            await self._serve(job, progress)
        except trio.Cancelled:
            self._cut_short(job, progress)
            raise
        except Exception:
            self._fail_internal(job, progress)
        finally:
            self._jobs -= 1
            job.reply_to.close()

    async def _serve(self, job: ProviderJob, progress: _Progress) -> None:
        for candidate in job.candidates:
            await self._try_provider(job, candidate, progress)
            if progress.done:
                break
        if not progress.served and progress.errors:
            await self._give_up(job, progress)

    def _fail_internal(self, job: ProviderJob, progress: _Progress) -> None:
        """Our bug ended this job: log it, record ``response.failed``, tell the client
        (the ingress renders the error in the stream if the answer had begun)."""
        request = job.request
        self._internal_errors += 1
        log.exception("request failed: internal error", request_id=request.request_id)
        error = internal_error(request.request_id)
        began = progress.attempt is not None and progress.attempt.head_sent
        self._end_request(job, progress, error, began=began)
        reply = ReplyError(error=error, headers=(("x-request-id", request.request_id),))
        # a full or closed reply channel: the ingress sees it end and answers the same way
        with contextlib.suppress(trio.WouldBlock, trio.BrokenResourceError):
            job.reply_to.send_nowait(reply)

    def _cut_short(self, job: ProviderJob, progress: _Progress) -> None:
        """Cancelled from outside (shutdown's drain ran out) between attempts or before
        the first: the request still ends in the trail, so the meter settles what its
        earlier attempts cost. (Cancelled inside an attempt, the attempt records it.)"""
        if progress.request_ended:
            return
        error = ErrorInfo(
            kind=ErrorKind.SHED, status=503, message="the gateway stopped before the request ended"
        )
        began = progress.attempt is not None and progress.attempt.head_sent
        self._end_request(job, progress, error, began=began)

    def _end_request(
        self,
        job: ProviderJob,
        progress: _Progress,
        error: ErrorInfo,
        *,
        began: bool = False,
        provider_id: str | None = None,
    ) -> None:
        """Record the request's ``response.failed`` (once)."""
        request = job.request
        progress.ended = True
        emit(
            self._audit,
            response_failed(
                request.request_id,
                request.started,
                error,
                provider_id=provider_id,
                attempts=progress.attempts,
                after_first_byte=began,
            ),
        )

    async def _try_provider(
        self, job: ProviderJob, candidate: Candidate, progress: _Progress
    ) -> None:
        """Attempts at one provider until it serves, the job ends (``progress.done``), or
        it is time to fail over to the next candidate."""
        provider = candidate.provider
        retries = 0
        rejected: set[str] = set()  # keys this provider rejected during this job
        while True:
            if trio.current_time() >= job.deadline:
                progress.errors.append(_deadline_error())
                progress.done = True
                return
            key = self._keys.pick(provider, now=trio.current_time(), exclude=frozenset(rejected))
            if key is None:
                error = _no_key_error(provider)
                progress.errors.append(error)
                progress.reason = f"failover from {provider.id}: every key is benched"
                # neutral for the breaker, and frees a half-open probe this job was given
                self._report(job.request.request_id, provider, AttemptResult(error=error))
                return
            progress.attempts += 1
            result = await self._attempt(job, candidate, key, progress)
            if result.error is None:
                progress.served = progress.done = True
                return
            progress.errors.append(result.error)
            decision = self._decide(
                provider, key, result.error, retries, rejected, unanswered=result.unanswered
            )
            if decision.next is Next.GIVE_UP:
                progress.done = True
                return
            if decision.next is Next.FAILOVER:
                progress.reason = f"failover from {provider.id}: {decision.reason}"
                return
            if decision.next is Next.NEXT_KEY:
                progress.reason = f"next key of {provider.id}: {decision.reason}"
                continue
            if trio.current_time() + decision.delay_s >= job.deadline:
                progress.reason = f"failover from {provider.id}: {decision.reason}; no time left"
                return
            await trio.sleep(decision.delay_s)
            retries += 1
            progress.reason = f"retry {retries} of {provider.id}: {decision.reason}"

    def _decide(
        self,
        provider: ProviderConfig,
        key: ProviderKey,
        error: ErrorInfo,
        retries: int,
        rejected: set[str],
        *,
        unanswered: bool,
    ) -> Decision:
        """The retry policy's decision; benches ``key`` (adding it to ``rejected``) when
        the provider refused the key itself."""
        now = trio.current_time()
        spare = self._keys.has_spare(provider, now=now, exclude=frozenset({*rejected, key.key_id}))
        decision = decide(
            error,
            retries_done=retries,
            policy=provider.retry,
            rng=self._rng,
            spare_key=spare,
            unanswered=unanswered,
        )
        if decision.bench_key:
            rejected.add(key.key_id)
            rest_s = provider.retry.key_bench_s
            self._keys.bench(key.key_id, until=now + rest_s, why=str(error.kind))
            log.warning(
                "provider key benched",
                provider=provider.id,
                key_id=key.key_id,
                why=str(error.kind),
                for_s=rest_s,
                detail=error.message,  # the provider's words; never given to the client
            )
        return decision

    async def _attempt(
        self, job: ProviderJob, candidate: Candidate, key: ProviderKey, progress: _Progress
    ) -> AttemptResult:
        request = job.request
        try:
            exchange = open_exchange(
                request.client_format,
                request.body,
                provider_type=candidate.provider.type,
                model=candidate.model,
                api_key=key.secret,
                request_id=request.request_id,
                client_headers=request.forward_headers,
            )
        except UnsupportedRoute as exc:
            error = ErrorInfo(kind=ErrorKind.BAD_REQUEST, status=400, message=str(exc))
            return AttemptResult(error=error)
        except RequestInvalid as exc:
            error = ErrorInfo(
                kind=ErrorKind.BAD_REQUEST, status=400, message=exc.message, param=exc.param
            )
            return AttemptResult(error=error)
        context = AttemptContext(
            job=job, candidate=candidate, key=key, number=progress.attempts, reason=progress.reason
        )
        attempt = progress.attempt = Attempt(context, exchange, pool=self._pool, audit=self._audit)
        result = await attempt.run()
        self._report(request.request_id, candidate.provider, result)
        if result.error is not None:
            return replace(result, error=_attributed(result.error, candidate.provider.id))
        return result

    def _report(self, request_id: str, provider: ProviderConfig, result: AttemptResult) -> None:
        if self._router is None:
            return
        error = result.provider_error
        if error is None and result.client_gone:
            error = ErrorInfo(kind=ErrorKind.CLIENT_CLOSED, status=499, message="client left")
        report = AttemptReport(request_id=request_id, provider=provider, error=error)
        try:
            self._router.send_nowait(report)
        except trio.WouldBlock:
            self._reports_dropped += 1
            if self._reports_dropped & (self._reports_dropped - 1) == 0:  # 1, 2, 4, 8…
                log.warning("router inbox full: reports dropped", dropped=self._reports_dropped)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass  # the router has stopped (shutdown): nobody needs the report

    async def _give_up(self, job: ProviderJob, progress: _Progress) -> None:
        error = most_informative(progress.errors)
        request = job.request
        self._end_request(job, progress, error, provider_id=error.provider_id)
        headers = (
            ("x-request-id", request.request_id),
            ("x-switchyard-attempts", str(progress.attempts)),
        )
        with contextlib.suppress(trio.BrokenResourceError):
            await job.reply_to.send(ReplyError(error=error, headers=headers))


def _deadline_error() -> ErrorInfo:
    return ErrorInfo(
        kind=ErrorKind.TIMEOUT, status=504, message="the request's total deadline passed"
    )


def _no_key_error(provider: ProviderConfig) -> ErrorInfo:
    return ErrorInfo(
        kind=ErrorKind.PROVIDER_AUTH,
        status=502,
        message=f"provider {provider.id}: every API key is benched after the provider rejected it",
        provider_id=provider.id,
    )


def _attributed(error: ErrorInfo, provider_id: str) -> ErrorInfo:
    # a provider's retry_after may be inf or NaN
    return replace(
        error, retry_after=bounded_retry_after(error.retry_after), provider_id=provider_id
    )


__all__ = ["ProviderWorker", "WorkerStatistics"]
