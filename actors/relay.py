"""The ingress's side of a reply: the provider worker's messages, relayed to the socket.

The worker queues replies without yielding while the channel has room, so whatever it
produced in one go (a head with its first data, further chunks, the end) is found here
together and leaves in one write: a stream that arrived whole from upstream costs one
system call to the client, not three. A ``ReplyError`` after the head (the worker's job
failed on our bug mid-answer) ends the stream with the format's in-stream failure.
"""

from __future__ import annotations

import math

import trio

from actors.client_headers import render_client_error
from budgets.session_caps import SESSION_CAP_CODE
from http11.server import ReplyWriter
from messages.chat import ClientFormat
from messages.commands import ClientRequest, Reply, ReplyChunk, ReplyEnd, ReplyError, ReplyHead
from messages.errors import ErrorInfo, ErrorKind
from providers.client_formats.stream_failure import stream_failure
from routing.retry import bounded_retry_after

JSON_HEADER = ("content-type", "application/json")
SSE_HEADER = ("content-type", "text/event-stream; charset=utf-8")
CACHE_MISS = ("x-switchyard-cache", "miss")  # a request that opted into the cache, answered live
WORKER_LOST = ErrorInfo(kind=ErrorKind.INTERNAL, status=500, message="the provider worker stopped")


class WorkerLost(Exception):
    """The reply channel closed before a final reply."""


async def relay(
    receive: trio.MemoryReceiveChannel[Reply], writer: ReplyWriter, message: ClientRequest
) -> None:
    """Answer the client from ``receive``; ``WorkerLost`` if it ends before the answer."""
    try:
        first = await receive.receive()
    except trio.EndOfChannel:
        headers = request_id_header(message.request_id)
        await send_error(writer, WORKER_LOST, headers, message.client_format)
        raise WorkerLost from None
    if isinstance(first, ReplyError):
        await send_error(writer, first.error, first.headers, message.client_format)
        return
    if not isinstance(first, ReplyHead):
        raise AssertionError(f"reply began with {type(first).__name__}")
    headers = first.headers if message.cache is None else (*first.headers, CACHE_MISS)
    if not first.streaming:
        await writer.send_response(first.status, headers, first.body)
        return
    data, ended = _take_waiting(receive, first.body, message)
    await writer.start_stream(first.status, headers, data, last=ended)
    if not ended:
        await _relay_stream(receive, writer, message)


async def _relay_stream(
    receive: trio.MemoryReceiveChannel[Reply], writer: ReplyWriter, message: ClientRequest
) -> None:
    while True:
        try:
            reply = await receive.receive()
        except trio.EndOfChannel:
            failure = message_failure(message, WORKER_LOST)
            await writer.send_chunk(failure, last=True)
            raise WorkerLost from None
        if isinstance(reply, ReplyEnd):
            await writer.end_stream()
            return
        if isinstance(reply, ReplyError):
            await writer.send_chunk(_failure(message, reply), last=True)
            return
        if not isinstance(reply, ReplyChunk):
            raise AssertionError(f"unexpected {type(reply).__name__} mid-stream")
        data, ended = _take_waiting(receive, reply.data, message)
        await writer.send_chunk(data, last=ended)
        if ended:
            return


def _take_waiting(
    receive: trio.MemoryReceiveChannel[Reply], data: bytes, message: ClientRequest
) -> tuple[bytes, bool]:
    """``data`` and every chunk already waiting, joined; True if the end was among them."""
    while True:
        try:
            more = receive.receive_nowait()
        except (trio.WouldBlock, trio.EndOfChannel):
            return data, False
        if isinstance(more, ReplyEnd):
            return data, True
        if isinstance(more, ReplyError):
            return data + _failure(message, more), True
        if not isinstance(more, ReplyChunk):
            raise AssertionError(f"unexpected {type(more).__name__} mid-stream")
        data += more.data


def _failure(message: ClientRequest, reply: ReplyError) -> bytes:
    return message_failure(message, reply.error)


def message_failure(message: ClientRequest, error: ErrorInfo) -> bytes:
    """The in-stream failure of ``message`` (its response named after the request)."""
    return stream_failure(
        message.client_format, error, 0, request_id=message.request_id, model=message.model
    )


async def send_error(
    writer: ReplyWriter,
    error: ErrorInfo,
    extra: tuple[tuple[str, str], ...] = (),
    client_format: ClientFormat | None = None,
) -> None:
    """An error response in the client's shape (OpenAI's unless told otherwise)."""
    headers = [JSON_HEADER, *extra]
    if error.status == 429 or error.retry_after is not None:
        retry_after = bounded_retry_after(error.retry_after)  # a provider's may be inf or NaN
        headers.append(("retry-after", str(max(1, round(retry_after or 1.0)))))
    request_id = next((value for name, value in extra if name == "x-request-id"), None)
    body = render_client_error(client_format, error, request_id)
    await writer.send_response(error.status, headers, body)


async def send_stream_refusal(
    writer: ReplyWriter,
    message: ClientRequest,
    error: ErrorInfo,
    extra: tuple[tuple[str, str], ...] = (),
) -> None:
    """A refusal told inside a 200 event stream (``response.failed``), with
    ``Retry-After``: Codex shows its user a failed response's message (and waits the
    "try again in Ns" it names) but of an HTTP 429 only "last status: 429"."""
    headers = [SSE_HEADER, *extra]
    if error.retry_after is not None:
        headers.append(("retry-after", str(max(1, math.ceil(error.retry_after)))))
    await writer.send_response(200, headers, message_failure(message, error))


async def send_refusal(writer: ReplyWriter, message: ClientRequest, problem: ErrorInfo) -> None:
    """A refusal before routing: an HTTP error, except a session cap on a streamed
    Responses request, told in the stream so that Codex shows it (``relay``)."""
    headers = request_id_header(message.request_id)
    in_stream = message.stream and message.client_format is ClientFormat.RESPONSES
    if in_stream and problem.code == SESSION_CAP_CODE:
        await send_stream_refusal(writer, message, problem, headers)
    else:
        await send_error(writer, problem, headers, message.client_format)


def request_id_header(request_id: str) -> tuple[tuple[str, str], ...]:
    return (("x-request-id", request_id),)


__all__ = [
    "JSON_HEADER",
    "WORKER_LOST",
    "WorkerLost",
    "message_failure",
    "relay",
    "request_id_header",
    "send_error",
    "send_refusal",
    "send_stream_refusal",
]
