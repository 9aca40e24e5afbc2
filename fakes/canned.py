"""The fast fake: one fixed reply, precomputed as bytes, for benchmarks.

Every Responses or Chat Completions request (any path ending in ``/responses`` or
``/chat/completions``) gets the same text reply of about ``reply_bytes`` bytes,
streamed as exactly ``events`` text deltas when the body says ``"stream": true``,
else as one JSON body. Per request the fake only scans the raw body for ``stream``,
``include_usage`` and ``model`` (no JSON parsing) and splices the requested model
name into the precomputed events. Usage is fixed: the formula of ``fakes.script``
applied to a nominal 400-byte request.
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass

import trio

from fakes._http import CONNECTION_ERRORS, open_listeners
from fakes.openai_chat_wire import chat_answer, chat_stream
from fakes.openai_responses_wire import responses_answer, responses_stream
from fakes.script import Reply, Text, usage_of
from fakes.wire import WireContext

MODEL_MARK = "__switchyard_fake_model__"
NOMINAL_REQUEST_BYTES = 400
STREAM_TRUE = re.compile(rb'"stream"\s*:\s*true')
USAGE_TRUE = re.compile(rb'"include_usage"\s*:\s*true')
MODEL_FIELD = re.compile(rb'"model"\s*:\s*"((?:[^"\\]|\\.)*)"')
CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)")
CHUNKED_BODY = re.compile(rb"\r\ntransfer-encoding:[^\r]*chunked")
CONNECTION_CLOSE = re.compile(rb"\r\nconnection:[^\r]*close")
RECEIVE_SIZE = 65536
RENDER_CACHE_SIZE = 256
SERVER = b"server: switchyard-fake\r\n"
STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\n" + SERVER + b"content-type: text/event-stream; charset=utf-8\r\n"
    b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n"
)
JSON_HEAD = (
    b"HTTP/1.1 %s\r\n" + SERVER + b"content-type: application/json\r\ncontent-length: %d\r\n\r\n"
)
UNSUPPORTED = (
    b"HTTP/1.1 411 Length Required\r\n" + SERVER + b"connection: close\r\ncontent-length: 0\r\n\r\n"
)
NOT_FOUND_BODY = (
    b'{"error":{"message":"Invalid URL","type":"invalid_request_error","param":null,"code":null}}'
)
MODELS_BODY = (
    b'{"object":"list","data":[{"id":"canned","object":"model","created":1700000000,'
    b'"owned_by":"switchyard-fake"}]}'
)
Template = tuple[bytes, ...]


def canned_text(events: int, reply_bytes: int) -> str:
    """About ``reply_bytes`` of text made of exactly ``events`` words (one delta each)."""
    count = max(1, events)
    size = max(2, reply_bytes // count)
    alphabet = "switchyard"
    words = [(alphabet * (size // len(alphabet) + 1))[: size - 1] for _ in range(count)]
    return words[0] + "".join(" " + word for word in words[1:])


def _template(encoded: bytes) -> Template:
    """Bytes split around the model placeholder, to be joined with the real model."""
    return tuple(encoded.split(MODEL_MARK.encode()))


@dataclass(frozen=True, slots=True, kw_only=True)
class CannedAnswers:
    """Every answer the fast fake can give, as templates."""

    responses_stream: tuple[Template, ...]
    responses_json: Template
    chat_stream: tuple[Template, ...]
    chat_stream_with_usage: tuple[Template, ...]
    chat_json: Template

    @classmethod
    def build(cls, *, events: int, reply_bytes: int) -> CannedAnswers:
        reply = Reply(items=(Text(text=canned_text(events, reply_bytes)),))
        usage = usage_of(reply, request_bytes=NOMINAL_REQUEST_BYTES)

        def context(request: dict[str, object]) -> WireContext:
            return WireContext(
                model=MODEL_MARK, token="0" * 24, created=1700000000, usage=usage, request=request
            )

        plain, with_usage = context({}), context({"stream_options": {"include_usage": True}})
        return cls(
            responses_stream=tuple(_template(e) for e in responses_stream(reply, plain)),
            responses_json=_template(responses_answer(reply, plain).body),
            chat_stream=tuple(_template(e) for e in chat_stream(reply, plain)),
            chat_stream_with_usage=tuple(_template(e) for e in chat_stream(reply, with_usage)),
            chat_json=_template(chat_answer(reply, plain).body),
        )


class CannedProviderServer:
    """Serves ``CannedAnswers`` over HTTP/1.1 (optionally TLS), keep-alive.

    It has its own minimal HTTP/1.1 reader (``Content-Length`` bodies only; a chunked
    request body gets 411 and the connection closes) and writes each answer in one
    socket write: h11 plus one write per event cost over 1 ms of CPU per streamed
    request on the 2-core dev machine, against a target of 0.15 ms.
    ``write_per_event=True`` writes each SSE event separately instead (realistic
    pacing, about 4x the CPU).
    """

    def __init__(self, answers: CannedAnswers, *, write_per_event: bool = False) -> None:
        self.answers = answers
        self.write_per_event = write_per_event
        self.port: int | None = None
        self._rendered: dict[tuple[str, bool, bool, bytes], tuple[bytes, ...]] = {}

    async def serve(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ssl_context: ssl.SSLContext | None = None,
        task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Listen and answer until cancelled; ``task_status.started(port)`` once bound."""
        listeners, self.port = await open_listeners(host, port, ssl_context)
        task_status.started(self.port)
        await trio.serve_listeners(self._serve_stream, listeners)

    async def _serve_stream(self, stream: trio.abc.Stream) -> None:
        try:
            async with stream:
                await self._serve_requests(stream)
        except CONNECTION_ERRORS:
            return

    async def _serve_requests(self, stream: trio.abc.Stream) -> None:
        buffer = b""
        while (request := await _read_request(stream, buffer)) is not None:
            head, body, buffer = request
            request_line = head.partition(b"\r\n")[0].split(b" ")
            if (
                len(request_line) != 3
                or request_line[2] != b"http/1.1"
                or CHUNKED_BODY.search(head)
            ):
                await stream.send_all(UNSUPPORTED)
                return
            pieces = self._answer(request_line[1].partition(b"?")[0], body)
            if self.write_per_event:
                for piece in pieces:
                    await stream.send_all(piece)
            else:
                await stream.send_all(b"".join(pieces))
            if CONNECTION_CLOSE.search(head):
                return

    def _answer(self, target: bytes, body: bytes) -> tuple[bytes, ...]:
        """The answer's bytes (status line included), in per-event pieces."""
        if target.endswith(b"/responses"):
            kind = "responses"
        elif target.endswith(b"/chat/completions"):
            kind = "chat"
        elif target.endswith(b"/models"):
            return (_complete(MODELS_BODY),)
        else:
            return (_complete(NOT_FOUND_BODY, b"404 Not Found"),)
        streaming = STREAM_TRUE.search(body) is not None
        with_usage = streaming and kind == "chat" and USAGE_TRUE.search(body) is not None
        found = MODEL_FIELD.search(body)
        key = (kind, streaming, with_usage, found.group(1) if found else b"unknown")
        rendered = self._rendered.get(key)
        if rendered is None:
            rendered = self._render(*key)
            if len(self._rendered) < RENDER_CACHE_SIZE:
                self._rendered[key] = rendered
        return rendered

    def _render(
        self, kind: str, streaming: bool, with_usage: bool, model: bytes
    ) -> tuple[bytes, ...]:
        answers = self.answers
        if not streaming:
            whole = answers.responses_json if kind == "responses" else answers.chat_json
            return (_complete(model.join(whole)),)
        if kind == "responses":
            events = answers.responses_stream
        else:
            events = answers.chat_stream_with_usage if with_usage else answers.chat_stream
        chunks = (b"%x\r\n%s\r\n" % (len(e), e) for e in (model.join(t) for t in events))
        return (STREAM_HEAD, *chunks, b"0\r\n\r\n")


def _complete(body: bytes, status: bytes = b"200 OK") -> bytes:
    return JSON_HEAD % (status, len(body)) + body


async def _read_request(
    stream: trio.abc.Stream, buffer: bytes
) -> tuple[bytes, bytes, bytes] | None:
    """The next request's lowercased head, its body and the bytes after it; None at EOF."""
    end = buffer.find(b"\r\n\r\n")
    while end < 0:
        if not (data := await stream.receive_some(RECEIVE_SIZE)):
            return None
        buffer += data
        end = buffer.find(b"\r\n\r\n")
    head = buffer[:end].lower()
    length = CONTENT_LENGTH.search(head)
    total = end + 4 + (int(length.group(1)) if length else 0)
    while len(buffer) < total:
        if not (data := await stream.receive_some(RECEIVE_SIZE)):
            return None
        buffer += data
    return head, buffer[end + 4 : total], buffer[total:]
