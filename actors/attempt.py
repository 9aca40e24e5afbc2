"""One attempt: send a request to one provider and carry its answer to the client.

The attempt owns one cancel scope whose deadline moves as the answer progresses: time to
first byte, then the idle gap between chunks, never past the request's total deadline.
Before anything reached the client a failure is returned for the retry policy to judge;
after that it is reported in-stream, because a client that has seen bytes cannot be
switched to another provider.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import structlog
import trio

from actors.request_faults import emit, internal_error
from actors.trail_events import response_failed
from actors.upstream_bodies import read_error_body, read_whole_body
from config.model import ProviderKey
from http11.client import (
    UpstreamConnectError,
    UpstreamPool,
    UpstreamResponse,
    UpstreamTransportError,
)
from messages.commands import Reply, ReplyChunk, ReplyEnd, ReplyHead
from messages.errors import ErrorInfo, ErrorKind, without_secret
from messages.events import (
    AttemptAnomaly,
    AttemptFinished,
    AttemptFirstByte,
    AttemptStarted,
    ResponseCompleted,
    TrailEvent,
)
from messages.usage import UsageAnomaly
from providers.exchanges.protocol import Exchange
from providers.garbage import ProviderGarbage
from routing.commands import Candidate, ProviderJob

log = structlog.get_logger("switchyard.attempt")


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptResult:
    """How an attempt ended.

    ``error``: it failed before the client saw anything, so the retry policy may try
    again elsewhere. ``unanswered``: that failure came after the whole request was
    written (a timeout, a dropped connection, a garbled 2xx): the provider may have
    acted on it and may bill it, so a resend may be billed twice. ``failure``: it failed
    after the first byte and the client was told in the stream (never retried).
    ``client_gone``: the client left first.
    """

    error: ErrorInfo | None
    failure: ErrorInfo | None = None
    client_gone: bool = False
    unanswered: bool = False  # the whole request reached the provider, no answer came back

    @property
    def provider_error(self) -> ErrorInfo | None:
        """What went wrong with the provider, before or after the first byte."""
        return self.error or self.failure


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptContext:
    job: ProviderJob
    candidate: Candidate
    key: ProviderKey
    number: int
    reason: str


class Attempt:
    def __init__(
        self,
        context: AttemptContext,
        exchange: Exchange,
        *,
        pool: UpstreamPool,
        audit: trio.MemorySendChannel[TrailEvent],
    ) -> None:
        self._context = context
        self._exchange = exchange
        self._pool = pool
        self._audit = audit
        self._head_sent = False
        self._failure: ErrorInfo | None = None
        self._client_left = False
        self._finished = False  # attempt.finished emitted
        self.ended = False  # this attempt recorded the request's terminal event (read-only)
        self._started = 0.0
        self._status: int | None = None
        self._sent = False  # the whole request was written to the provider
        self._answered = False  # the provider answered with an error status
        self._anomalies_noted = 0
        provider = context.candidate.provider
        self._scope = trio.CancelScope()
        self._headers = (
            ("cache-control", "no-cache"),
            ("x-request-id", context.job.request.request_id),
            ("x-switchyard-provider", provider.id),
            ("x-switchyard-model", context.candidate.model),
            ("x-switchyard-attempts", str(context.number)),
        )

    @property
    def head_sent(self) -> bool:
        """Whether the answer has begun reaching the client (no retry after that)."""
        return self._head_sent

    async def run(self) -> AttemptResult:
        error = await self._run()
        return AttemptResult(
            error=error,
            failure=self._failure,
            client_gone=self._client_left,
            unanswered=error is not None and self._sent and not self._answered,
        )

    async def _run(self) -> ErrorInfo | None:
        context = self._context
        provider = context.candidate.provider
        call = self._exchange.call()
        url = provider.base_url.rstrip("/") + call.path
        self._started = trio.current_time()
        self._emit_started()
        self._scope.deadline = min(
            self._started + provider.timeouts.first_byte_s, context.job.deadline
        )
        upstream = self._pool.stream(call.method, url, call.headers, call.body)
        try:
            try:
                with self._scope:
                    async with upstream as response:
                        return await self._answer(response)
            finally:
                self._sent = upstream.request_sent
            return await self._failed(self._timeout_error())
        except ProviderGarbage as exc:
            error = replace(exc.error, message=f"provider {provider.id}: {exc.error.message}")
            return await self._failed(error, status=self._status)
        except UpstreamTransportError as exc:
            if isinstance(exc, UpstreamConnectError):
                message = f"could not connect to provider {provider.id}"
            else:
                message = f"provider {provider.id} connection failed: {type(exc).__name__}"
            error = ErrorInfo(kind=ErrorKind.UPSTREAM_ERROR, status=502, message=message)
            return await self._failed(error)
        except trio.BrokenResourceError:
            self._client_gone()
            return None
        except trio.Cancelled:
            self._cut_short()
            raise
        except Exception:
            # our bug (say, a decoder meeting bytes it did not expect): this attempt ends
            # as an internal error, never retried; the job's other requests are untouched
            request_id = context.job.request.request_id
            log.exception("attempt failed: internal error", request_id=request_id)
            return await self._failed(internal_error(request_id))

    def _cut_short(self) -> None:
        """Cancelled from outside (shutdown's drain ran out): the trail still gets the
        attempt's end and the request's, with the usage seen so far, so it is metered."""
        error = ErrorInfo(
            kind=ErrorKind.SHED, status=503, message="the gateway stopped before the request ended"
        )
        if not self._finished:
            self._emit_finished(None, error)
        if not self.ended:
            self._emit_terminal(error, after_first_byte=self._head_sent)

    async def _answer(self, response: UpstreamResponse) -> ErrorInfo | None:
        status = self._status = response.status
        self._emit(
            AttemptFirstByte(
                request_id=self._context.job.request.request_id,
                at=time.time(),
                attempt=self._context.number,
                status=status,
                ttfb_ms=self._elapsed_ms(),
            )
        )
        if not 200 <= status < 300:
            self._answered = True
            body = await read_error_body(response)
            error = self._exchange.map_error(status, response.headers, body)
            key = self._context.key  # some providers echo the key back: never store it
            error = without_secret(error, key.secret, key.key_id)
            return await self._failed(error, status=status)
        if self._context.job.request.stream:
            return await self._stream(response)
        self._scope.deadline = self._context.job.deadline
        body = self._exchange.complete(await read_whole_body(response))
        outcome = self._exchange.outcome()
        if outcome.failure is not None:
            return await self._failed(outcome.failure, status=status)
        self._complete(status)
        head = ReplyHead(
            status=200,
            headers=(("content-type", "application/json"), *self._headers),
            streaming=False,
            body=body,
        )
        self._head_sent = True
        await self._put(head)
        return None

    async def _stream(self, response: UpstreamResponse) -> ErrorInfo | None:
        idle_s = self._context.candidate.provider.timeouts.idle_s
        deadline = self._context.job.deadline
        pending = self._exchange.start()
        async for chunk in response.iter_bytes():
            self._scope.deadline = min(trio.current_time() + idle_s, deadline)
            data = self._exchange.feed(chunk)
            if not data:
                continue
            if response.body_done:  # nothing more to come: it goes with the end, below
                pending += data
                continue
            await self._send_data(pending + data)
            pending = b""
        tail = self._exchange.finish()
        outcome = self._exchange.outcome()
        if not self._head_sent and outcome.failure is not None:
            return await self._failed(outcome.failure, status=response.status)
        self._complete(response.status)
        await self._send_data(pending + tail)
        await self._put(ReplyEnd())
        return None

    async def _send_data(self, data: bytes) -> None:
        """Stream ``data`` to the client; the first time, with the head (one message)."""
        if self._head_sent:
            if data:
                await self._put(ReplyChunk(data=data))
            return
        head = ReplyHead(
            status=200,
            headers=(("content-type", "text/event-stream"), *self._headers),
            streaming=True,
            body=data,
        )
        self._head_sent = True
        await self._put(head)

    async def _put(self, reply: Reply) -> None:
        """Queue ``reply`` for the ingress without yielding while its channel has room:
        the ingress then finds consecutive replies together and writes them at once."""
        try:
            self._context.job.reply_to.send_nowait(reply)
        except trio.WouldBlock:
            await self._context.job.reply_to.send(reply)

    async def _failed(self, error: ErrorInfo, *, status: int | None = None) -> ErrorInfo | None:
        """Record the failure; before the first byte, return it for the retry policy;
        after, end the client's stream with it (a client that saw bytes stays here)."""
        self._emit_finished(status, error)
        if not self._head_sent:
            return error
        self._failure = error
        tail = self._exchange.fail(error)
        self._emit_terminal(error, after_first_byte=True)
        reply_to = self._context.job.reply_to
        with trio.move_on_after(5.0, shield=True):
            try:
                await reply_to.send(ReplyChunk(data=tail))
                await reply_to.send(ReplyEnd())
            except trio.BrokenResourceError:
                self._client_left = True
        return None

    def _timeout_error(self) -> ErrorInfo:
        provider = self._context.candidate.provider
        if trio.current_time() >= self._context.job.deadline:
            what = "the request's total deadline passed"
        elif self._head_sent:
            what = f"no data for {provider.timeouts.idle_s:g}s"
        else:
            what = f"no first byte within {provider.timeouts.first_byte_s:g}s"
        return ErrorInfo(
            kind=ErrorKind.TIMEOUT, status=504, message=f"provider {provider.id}: {what}"
        )

    def _client_gone(self) -> None:
        error = ErrorInfo(
            kind=ErrorKind.CLIENT_CLOSED, status=499, message="the client closed the connection"
        )
        self._client_left = True
        self._emit_finished(None, error)
        self._emit_terminal(error, after_first_byte=self._head_sent)

    def _complete(self, status: int) -> None:
        outcome = self._exchange.outcome()
        self._emit_finished(status, outcome.failure)
        if outcome.failure is not None:
            self._failure = outcome.failure
            self._emit_terminal(outcome.failure, after_first_byte=True)
            return
        request = self._context.job.request
        self.ended = True
        self._emit(
            ResponseCompleted(
                request_id=request.request_id,
                at=time.time(),
                status=200,
                latency_ms=(trio.current_time() - request.started) * 1000,
                provider_id=self._context.candidate.provider.id,
                model=self._context.candidate.model,
                attempts=self._context.number,
                usage=outcome.usage,
                response=outcome.response,
            )
        )

    def _emit_terminal(self, error: ErrorInfo, *, after_first_byte: bool) -> None:
        request = self._context.job.request
        self.ended = True
        outcome = self._exchange.outcome()
        self._emit(
            response_failed(
                request.request_id,
                request.started,
                error,
                provider_id=self._context.candidate.provider.id,
                model=self._context.candidate.model,
                attempts=self._context.number,
                usage=outcome.usage,
                after_first_byte=after_first_byte,
            )
        )

    def _emit_started(self) -> None:
        context = self._context
        self._emit(
            AttemptStarted(
                request_id=context.job.request.request_id,
                at=time.time(),
                attempt=context.number,
                provider_id=context.candidate.provider.id,
                provider_type=context.candidate.provider.type,
                model=context.candidate.model,
                key_id=context.key.key_id,
                reason=context.reason,
            )
        )

    def _emit_finished(self, status: int | None, error: ErrorInfo | None) -> None:
        context = self._context
        self._finished = True
        outcome = self._exchange.outcome()
        if len(outcome.anomalies) > self._anomalies_noted:
            self._emit_anomalies(outcome.anomalies[self._anomalies_noted :])
            self._anomalies_noted = len(outcome.anomalies)
        self._emit(
            AttemptFinished(
                request_id=context.job.request.request_id,
                at=time.time(),
                attempt=context.number,
                provider_id=context.candidate.provider.id,
                model=context.candidate.model,
                status=status,
                latency_ms=self._elapsed_ms(),
                usage=outcome.usage,
                error=error,
            )
        )

    def _emit_anomalies(self, anomalies: tuple[UsageAnomaly, ...]) -> None:
        context = self._context
        for anomaly in anomalies:
            self._emit(
                AttemptAnomaly(
                    request_id=context.job.request.request_id,
                    at=time.time(),
                    attempt=context.number,
                    provider_id=context.candidate.provider.id,
                    field=anomaly.field,
                    value=anomaly.value,
                )
            )

    def _elapsed_ms(self) -> float:
        return (trio.current_time() - self._started) * 1000

    def _emit(self, event: TrailEvent) -> None:
        emit(self._audit, event)


__all__ = ["Attempt", "AttemptContext", "AttemptResult"]
