"""The Responses API over WebSocket (``GET /v1/responses`` with ``Upgrade: websocket``),
the transport Codex's built-in ``openai`` provider tries first.

Codex sends one ``{"type": "response.create", …}`` text message per model turn — the
fields of a ``POST /v1/responses`` body — and reads back the Responses stream events,
one JSON text message each, up to ``response.completed`` (or ``response.failed``), on
the same connection turn after turn. Each ``response.create`` is served by the very
same path as an HTTP request (``handle``: the ingress's parse, key, budgets, routing,
trail), with ``stream: true``; ``SocketReplyWriter`` turns its answer into messages:
the SSE events' ``data`` as they are, an HTTP error as Codex's wrapped error event
(``{"type": "error", "status": 429, "error": {…}, "headers": {"retry-after": …}}``,
which Codex treats as that HTTP status).

Incremental input: once a response has completed on the connection, Codex may send only
the new items with ``previous_response_id``; the session keeps the last request's
input and output items so the request handed on is whole again. An id it does not hold
is answered ``previous_response_not_found`` (Codex then resends the full request).
``response.processed`` acknowledgements are read and dropped.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence

import orjson
import structlog

from config.model import ServerConfig
from http11.sansio.websocket import is_upgrade_request
from http11.server import HttpRequest, ReplyWriter, ResponseWriter
from http11.websocket import CLOSE_GOING_AWAY, WebSocket, accept_websocket

log = structlog.get_logger("switchyard.responses_socket")

Handle = Callable[[HttpRequest, ReplyWriter], Awaitable[None]]
"""Serves one Responses request (the ingress's own HTTP path)."""

CLOSE_UNSUPPORTED_DATA = 1003
_ECHOED_HEADERS = frozenset({"retry-after", "x-request-id"})
_ITEM_DONE = b'"response.output_item.done"'
_COMPLETED = b'"response.completed"'
_NO_USAGE = {
    "input_tokens": 0,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens": 0,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 0,
}


class SocketReplyWriter:
    """A ``ReplyWriter`` whose answer goes out as WebSocket messages (see the module)."""

    __slots__ = ("_buffer", "_socket", "completed_id", "output_items", "started")

    def __init__(self, socket: WebSocket) -> None:
        self._socket = socket
        self._buffer = b""
        self.started = False
        self.completed_id: str | None = None
        self.output_items: list[object] = []

    async def send_response(
        self, status: int, headers: Sequence[tuple[str, str]], body: bytes
    ) -> None:
        self.started = True
        if status >= 300:
            await self._socket.send_text(error_event(status, headers, body))
        elif any(k == "content-type" and "event-stream" in v for k, v in headers):
            await self._send_events(body, last=True)
        else:  # a whole Response object (the request asked for no stream)
            await self._socket.send_text(b'{"type":"response.completed","response":' + body + b"}")

    async def start_stream(
        self,
        status: int,
        headers: Sequence[tuple[str, str]],
        first: bytes = b"",
        *,
        last: bool = False,
    ) -> None:
        self.started = True
        await self._send_events(first, last=last)

    async def send_chunk(self, data: bytes, *, last: bool = False) -> None:
        await self._send_events(data, last=last)

    async def end_stream(self) -> None:
        await self._send_events(b"", last=True)

    async def _send_events(self, data: bytes, *, last: bool) -> None:
        buffer = self._buffer + data
        if b"\r" in buffer:
            buffer = buffer.replace(b"\r\n", b"\n")
        blocks = buffer.split(b"\n\n")
        self._buffer = b"" if last else blocks.pop()
        messages = [payload for block in blocks if (payload := self._payload(block))]
        await self._socket.send_texts(messages)

    def _payload(self, block: bytes) -> bytes | None:
        """The ``data`` of one SSE event (None for a comment, ``[DONE]`` or nothing)."""
        lines = [line[5:].lstrip(b" ") for line in block.split(b"\n") if line[:5] == b"data:"]
        if not lines or lines == [b"[DONE]"]:
            return None
        payload = b"\n".join(lines)
        if _ITEM_DONE in payload or _COMPLETED in payload:
            self._note(payload)
        return payload

    def _note(self, payload: bytes) -> None:
        try:
            event = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return
        if not isinstance(event, dict):
            return
        if event.get("type") == "response.output_item.done" and "item" in event:
            self.output_items.append(event["item"])
        elif event.get("type") == "response.completed":
            response = event.get("response")
            rid = response.get("id") if isinstance(response, dict) else None
            self.completed_id = rid if isinstance(rid, str) else None


def error_event(status: int, headers: Sequence[tuple[str, str]], body: bytes) -> bytes:
    """An HTTP error as Codex's wrapped WebSocket error event."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        parsed = None
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if not isinstance(error, dict):
        error = {"type": "server_error", "message": body.decode("utf-8", "replace")}
    echoed = {name: value for name, value in headers if name in _ECHOED_HEADERS}
    event = {"type": "error", "status": status, "error": error, "headers": echoed}
    return orjson.dumps(event)


def _client_error(message: str, code: str, status: int = 400) -> bytes:
    error = {"type": "invalid_request_error", "code": code, "message": message, "param": None}
    return orjson.dumps({"type": "error", "status": status, "error": error, "headers": {}})


class ResponsesSocketSession:
    """The messages of one connection, served one after the other."""

    def __init__(
        self, socket: WebSocket, request: HttpRequest, handle: Handle, *, max_body_bytes: int
    ) -> None:
        self._socket = socket
        self._request = request
        self._handle = handle
        self._max_body_bytes = max_body_bytes
        self._previous: tuple[str, bytes] | None = None
        """The last completed response's id and its whole input and output, as JSON
        (bytes: a tenth of the memory of the parsed items)."""

    async def run(self) -> None:
        socket = self._socket
        while socket.accepting:
            message = await socket.receive()
            if message is None:
                return
            if not message.text:
                await socket.close(CLOSE_UNSUPPORTED_DATA, "send JSON text messages")
                return
            await self._serve(message.data)
        await socket.close(CLOSE_GOING_AWAY, "the gateway is shutting down")

    async def _serve(self, data: bytes) -> None:
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict):
            kind = parsed.pop("type", None)
            if kind == "response.processed":
                return
            if kind == "response.create" and parsed.get("generate") is False:
                await self._warm_up(parsed)
                return
            if kind != "response.create":
                problem = f"unsupported message type {str(kind)[:64]!r}: send response.create"
                await self._socket.send_text(_client_error(problem, "unsupported_message_type"))
                return
            body = await self._whole_body(parsed)
            if body is None:
                return
        else:
            body = data  # not a JSON object: the request path rejects it (and records it)
        writer = SocketReplyWriter(self._socket)
        await self._handle(dataclasses.replace(self._request, body=body), writer)
        if writer.completed_id is not None and isinstance(parsed, dict):
            items = parsed.get("input")
            whole = [*items, *writer.output_items] if isinstance(items, list) else None
            self._previous = None if whole is None else (writer.completed_id, orjson.dumps(whole))

    async def _warm_up(self, create: dict[str, object]) -> None:
        """``generate: false``: Codex opens a connection with its prompt so far and no
        wish for an answer. No model is asked (nothing is spent or recorded); the reply
        is an empty completed response whose id the next request may continue from."""
        response_id = "resp_" + secrets.token_hex(12)
        response = {
            "id": response_id,
            "object": "response",
            "created_at": int(time.time()),
            "status": "completed",
            "model": create.get("model"),
            "output": [],
            "usage": _NO_USAGE,
        }
        created = {"type": "response.created", "sequence_number": 0, "response": response}
        completed = {"type": "response.completed", "sequence_number": 1, "response": response}
        created["response"] = {**response, "status": "in_progress"}
        await self._socket.send_texts([orjson.dumps(created), orjson.dumps(completed)])
        items = create.get("input")
        self._previous = (response_id, orjson.dumps(items)) if isinstance(items, list) else None

    async def _whole_body(self, create: dict[str, object]) -> bytes | None:
        """The request body for ``create``: its previous response's items put back in
        front of an incremental input; None (answered) if that cannot be done."""
        create.pop("generate", None)
        create["stream"] = True
        previous_id = create.pop("previous_response_id", None)
        if previous_id is not None:
            held = self._previous
            new_items = create.get("input")
            if held is None or held[0] != previous_id or not isinstance(new_items, list):
                problem = f"Previous response with id '{str(previous_id)[:64]}' not found."
                await self._socket.send_text(_client_error(problem, "previous_response_not_found"))
                return None
            create["input"] = [*orjson.loads(held[1]), *new_items]
        body = orjson.dumps(create)
        if len(body) > self._max_body_bytes:
            problem = f"request body too large: over {self._max_body_bytes} bytes"
            await self._socket.send_text(_client_error(problem, "request_too_large", 413))
            return None
        return body


async def serve_responses_socket(
    request: HttpRequest, writer: ResponseWriter, handle: Handle, server: ServerConfig
) -> None:
    """Accept the upgrade on ``writer``'s connection and serve it until it closes; each
    message is handed on as a POST to the upgrade's path (its query dropped)."""
    limit = server.max_body_bytes
    socket = await accept_websocket(request, writer, max_message_bytes=limit)
    if socket is None:
        return
    turn = dataclasses.replace(request, method="POST", target=request.target.partition("?")[0])
    await ResponsesSocketSession(socket, turn, handle, max_body_bytes=limit).run()


__all__ = [
    "ResponsesSocketSession",
    "SocketReplyWriter",
    "error_event",
    "is_upgrade_request",
    "serve_responses_socket",
]
