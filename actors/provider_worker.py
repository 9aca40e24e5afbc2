"""The provider-worker actor: the only place that talks to providers.

It owns the pooled upstream client. Each job (a request and its ordered candidates)
runs as a task in the worker's nursery: attempts go to the candidates in order, retried
and failed over as ``routing.retry`` decides, until one answers or the request's
deadline passes. The job's reply channel is closed when the task ends, however it ends,
so a crash never leaves the ingress waiting.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections import defaultdict

import structlog
import trio

from actors.attempt import Attempt, AttemptContext
from actors.http_client import UpstreamPool
from config.model import ProviderKey
from messages.commands import Candidate, ProviderJob, ReplyError
from messages.errors import ErrorInfo, ErrorKind
from messages.events import ResponseFailed, TrailEvent
from providers.choose import UnsupportedRoute, open_exchange
from providers.request_fields import RequestInvalid
from routing.retry import Next, decide, most_informative

log = structlog.get_logger("switchyard.provider_worker")


class ProviderWorker:
    def __init__(
        self,
        *,
        pool: UpstreamPool,
        audit: trio.MemorySendChannel[TrailEvent],
        rng: random.Random | None = None,
    ) -> None:
        self._pool = pool
        self._audit = audit
        self._rng = rng or random.Random()
        self._key_turn: defaultdict[str, int] = defaultdict(int)

    async def run(
        self,
        inbox: trio.MemoryReceiveChannel[ProviderJob],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        async with trio.open_nursery() as jobs:
            task_status.started()
            async for job in inbox:
                jobs.start_soon(self._serve, job)

    async def _serve(self, job: ProviderJob) -> None:
        try:
            errors = await self._attempts(job)
            if errors:
                await self._give_up(job, errors)
        finally:
            job.reply_to.close()

    async def _attempts(self, job: ProviderJob) -> list[ErrorInfo]:
        """Runs attempts until one answers; returns the errors if none did."""
        errors: list[ErrorInfo] = []
        number = 0
        reason = "primary"
        for candidate in job.candidates:
            retries = 0
            while True:
                if trio.current_time() >= job.deadline:
                    errors.append(_deadline_error())
                    return errors
                number += 1
                error = await self._attempt(job, candidate, number, reason)
                if error is None:
                    return []
                errors.append(error)
                decision = decide(
                    error, retries_done=retries, policy=candidate.provider.retry, rng=self._rng
                )
                if decision.next is Next.GIVE_UP:
                    return errors
                if decision.next is Next.FAILOVER:
                    reason = f"failover after {candidate.provider.id}: {decision.reason}"
                    break
                if trio.current_time() + decision.delay_s >= job.deadline:
                    reason = f"failover after {candidate.provider.id}: deadline"
                    break
                await trio.sleep(decision.delay_s)
                retries += 1
                reason = f"retry {retries}: {decision.reason}"
        return errors

    async def _attempt(
        self, job: ProviderJob, candidate: Candidate, number: int, reason: str
    ) -> ErrorInfo | None:
        key = self._next_key(candidate)
        request = job.request
        try:
            exchange = open_exchange(
                request.client_format,
                request.body,
                provider_type=candidate.provider.type,
                model=candidate.model,
                api_key=key.secret,
                request_id=request.request_id,
            )
        except UnsupportedRoute as exc:
            return ErrorInfo(kind=ErrorKind.BAD_REQUEST, status=400, message=str(exc))
        except RequestInvalid as exc:
            return ErrorInfo(
                kind=ErrorKind.BAD_REQUEST, status=400, message=exc.message, param=exc.param
            )
        context = AttemptContext(
            job=job, candidate=candidate, key=key, number=number, reason=reason
        )
        result = await Attempt(context, exchange, pool=self._pool, audit=self._audit).run()
        if result.error is not None:
            return _attributed(result.error, candidate.provider.id)
        return None

    def _next_key(self, candidate: Candidate) -> ProviderKey:
        keys = candidate.provider.keys
        turn = self._key_turn[candidate.provider.id]
        self._key_turn[candidate.provider.id] = turn + 1
        return keys[turn % len(keys)]

    async def _give_up(self, job: ProviderJob, errors: list[ErrorInfo]) -> None:
        error = most_informative(errors)
        request = job.request
        self._audit.send_nowait(
            ResponseFailed(
                request_id=request.request_id,
                at=time.time(),
                status=error.status,
                latency_ms=(trio.current_time() - request.started) * 1000,
                provider_id=error.provider_id,
                model=None,
                attempts=len(errors),
                error=error,
            )
        )
        headers = (
            ("x-request-id", request.request_id),
            ("x-switchyard-attempts", str(len(errors))),
        )
        with contextlib.suppress(trio.BrokenResourceError):
            await job.reply_to.send(ReplyError(error=error, headers=headers))


def _deadline_error() -> ErrorInfo:
    return ErrorInfo(
        kind=ErrorKind.TIMEOUT, status=504, message="the request's total deadline passed"
    )


def _attributed(error: ErrorInfo, provider_id: str) -> ErrorInfo:
    return ErrorInfo(
        kind=error.kind,
        status=error.status,
        message=error.message,
        code=error.code,
        param=error.param,
        retry_after=error.retry_after,
        provider_id=provider_id,
    )


__all__ = ["ProviderWorker"]
