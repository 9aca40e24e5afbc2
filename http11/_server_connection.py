"""One HTTP/1.1 connection of ``http11.server``: read, dispatch, respond, repeat.

``http11.sansio.head`` parses each request head out of the connection's receive
buffer and ``http11.sansio.body`` its body; whatever the client pipelined stays
in the buffer for the next cycle. ``_server_exchange`` encodes the responses.

Timeouts are plain deadlines on the connection that the server's reaper task
checks (``cancel_if_expired``), not a cancel scope per read: entering and leaving
a trio cancel scope costs more than parsing a request line. A request's head and its
body each get one deadline, set once (a client trickling bytes does not extend it);
each write gets ``write_timeout_s`` (two attribute stores per write). A read that
expires cancels the connection; a write that expires while the handler runs closes
the socket instead, so the handler's write raises ``ClientGone`` and the handler ends
its request as for any client that left.
"""

from __future__ import annotations

import math

import trio

from http11._direct_socket import DirectSocket, describe_peer
from http11._server_exchange import (
    STAGE_DONE,
    STAGE_UNSTARTED,
    ClientGone,
    EarlyResponse,
    HttpRequest,
    ResponseWriter,
)
from http11._server_state import ServerState
from http11.sansio.body import BodyReader, BodyTooLarge
from http11.sansio.head import ProtocolError, RequestHead, find_head_end, parse_request_head

RECEIVE_SIZE = 64 * 1024
"""Bytes asked of the socket per receive."""

LINGER_S = 1.0
LINGER_MAX_BYTES = 1024 * 1024
"""After an error response to a client that may still be sending, read and drop its
input for at most this long / this much, so that the kernel does not reset the
connection before the client has read the answer."""

_IDLE, _READING, _HANDLING = 0, 1, 2
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_SOCKET_FAILURES = (trio.BrokenResourceError, trio.ClosedResourceError)
_RETRY_AFTER = ("retry-after", "1")


class BodiesOverCap(Exception):
    """The request bodies being read on all connections hold more bytes than allowed."""


class HttpConnection:
    """Serves the requests of one client connection, one after the other."""

    __slots__ = (
        "_body_late",
        "_buffer",
        "_client",
        "_held",
        "_io",
        "_linger",
        "_scope",
        "_stream",
        "_target",
        "broken",
        "deadline",
        "phase",
        "state",
        "upgraded_idle",
        "upgraded_reading",
    )

    def __init__(self, state: ServerState[HttpConnection], stream: trio.SocketStream) -> None:
        self.state = state
        self._stream = stream
        # plain TCP: bytes straight through the socket (see http11._direct_socket)
        self._io: DirectSocket | trio.SocketStream = (
            DirectSocket(stream) if type(stream) is trio.SocketStream else stream
        )
        self._scope = trio.CancelScope()
        self._buffer = bytearray()
        self.phase = _IDLE
        self.deadline = math.inf
        self.broken = False
        self.upgraded_idle = False
        self.upgraded_reading = False
        self._linger = False
        self._body_late = False
        self._held = 0
        self._target: str | None = None  # the request's, once its head is read
        self._client = describe_peer(stream)

    def cancel_if_idle(self) -> None:
        """Close the connection if it waits for a request's (or a WebSocket message's) start."""
        if self.phase == _IDLE or self.upgraded_idle:
            self._scope.cancel()

    def cancel_if_expired(self, now: float) -> None:
        """Close the connection if its read or write deadline has passed."""
        if self.deadline > now:
            return
        if self.phase != _HANDLING or self.upgraded_reading:
            self._scope.cancel()
            return
        # the handler is blocked writing to a client that stopped reading: closing the
        # socket wakes that write with ClosedResourceError, so the handler gets ClientGone
        self.deadline = math.inf
        self.broken = True
        self.state.stalled_writers_dropped += 1
        sock = getattr(self._stream, "socket", None)
        if sock is None:  # not a plain socket stream: end the whole exchange instead
            self._scope.cancel()
        else:
            sock.close()

    async def run(self) -> None:
        state = self.state
        state.connections.add(self)
        try:
            with self._scope:
                await self._serve_requests()
            if self._body_late and not self.broken:
                with trio.move_on_after(LINGER_S):
                    timeout = f"{state.body_timeout_s:g}s"
                    message = f"request body not received within {timeout}"
                    await self._send_error(408, message, head_only=False)
            elif self._linger and not self.broken:
                await self._drain_input()
        finally:
            state.body_bytes_buffered -= self._held  # what a WebSocket message still held
            state.connections.discard(self)
            await self._stream.aclose()

    async def write(self, data: bytes) -> None:
        """Send ``data`` now; ``ClientGone`` if the client has disconnected."""
        if self.broken:
            raise ClientGone("the client disconnected")
        deadline = self.deadline
        self.deadline = min(deadline, trio.current_time() + self.state.write_timeout_s)
        try:
            await self._io.send_all(data)
        except _SOCKET_FAILURES as exc:
            self.broken = True
            raise ClientGone("the client disconnected") from exc
        finally:
            self.deadline = deadline

    def hold_upgraded(self, size: int) -> bool:
        """Count a WebSocket's unfinished message with the bodies being read; False if over."""
        self.state.body_bytes_buffered += size - self._held
        self._held = size
        return self.state.body_bytes_buffered <= self.state.max_buffered_body_bytes

    async def receive_upgraded(self, *, idle: bool) -> bytes:
        """Bytes after a protocol switch, awaited as long as a keep-alive if ``idle``."""
        if self._buffer:
            data, self._buffer = bytes(self._buffer), bytearray()
            return data
        wait = self.state.keepalive_timeout_s if idle else self.state.body_timeout_s
        self.deadline = trio.current_time() + wait
        self.upgraded_idle, self.upgraded_reading = idle, True
        try:
            return await self._receive()
        finally:
            self.upgraded_idle = self.upgraded_reading = False
            self.deadline = math.inf

    async def _serve_requests(self) -> None:
        state = self.state
        fresh = True
        while state.accepting:
            self.phase = _IDLE
            try:
                keep_alive = await self._exchange(fresh)
            finally:
                if self.phase != _IDLE:
                    state.request_finished()
            if not keep_alive:
                return
            fresh = False

    async def _exchange(self, fresh: bool) -> bool:
        """Read one request, have it answered; True if the connection may be reused."""
        try:
            self._target = None
            head = await self._read_head(fresh)
            if head is None:
                return False
            self._target = head.target
            check = self.state.head_check
            if check is not None and (early := check(head, self._client)) is not None:
                await self._answer_early(early, head)
                return False
            body = await self._read_body(head)
            if body is None:
                return False
        except BodyTooLarge:
            await self._fail_request(413, "request body too large")
            return False
        except BodiesOverCap:
            self.state.bodies_over_cap += 1
            await self._fail_request(503, "server busy: too many request bodies being read")
            return False
        except ProtocolError as exc:
            await self._fail_request(exc.status, f"bad HTTP request: {exc}")
            return False
        self.phase = _HANDLING
        self.deadline = math.inf
        return await self._dispatch(HttpRequest.of(head, body, self._client), head)

    async def _read_head(self, fresh: bool) -> RequestHead | None:
        """The next request head, or None on EOF (timeouts and shutdown cancel)."""
        buffer = self._buffer
        end = find_head_end(buffer) if buffer else -1
        if end < 0:
            state = self.state
            wait = state.header_timeout_s if fresh else state.keepalive_timeout_s
            self.deadline = trio.current_time() + wait
            while end < 0:
                data = await self._receive()
                if not data:
                    if buffer:
                        raise ProtocolError("the client closed the connection mid-head")
                    return None
                if self.phase == _IDLE:
                    self._activate(fresh)
                searched = len(buffer)
                buffer += data
                end = find_head_end(buffer, searched)
        if self.phase == _IDLE:  # the request was already buffered (pipelining)
            self._activate(fresh=True)
        head = parse_request_head(buffer[:end])
        del buffer[:end]
        return head

    def _activate(self, fresh: bool) -> None:
        """A request's first byte is here: it is in flight and its head has a deadline."""
        self.phase = _READING
        self.state.in_flight += 1
        if not fresh:
            self.deadline = trio.current_time() + self.state.header_timeout_s

    async def _read_body(self, head: RequestHead) -> bytes | None:
        """The whole request body, or None if the client went away."""
        state = self.state
        reader = BodyReader(
            content_length=head.content_length,
            chunked=head.chunked,
            max_bytes=state.max_body_bytes,
        )
        buffer = self._buffer
        piece = reader.read(buffer)
        if piece == b"":  # no body (the usual GET)
            return piece
        parts: list[bytes] = []
        if piece is not None:
            parts.append(piece)
            piece = reader.read(buffer)
            if piece == b"":  # the whole body came with the head (the usual POST)
                return parts[0]
        # the slow path: one deadline for the whole body, its bytes counted server-wide
        self.deadline = trio.current_time() + state.body_timeout_s
        self._held = len(buffer) + sum(map(len, parts)) + (len(piece) if piece else 0)
        state.body_bytes_buffered += self._held
        try:
            if state.body_bytes_buffered > state.max_buffered_body_bytes:
                raise BodiesOverCap
            return await self._read_body_rest(reader, head, parts, piece)
        except trio.Cancelled:
            self._body_late = self.deadline <= trio.current_time()  # else: shutdown
            raise
        finally:
            state.body_bytes_buffered -= self._held
            self._held = 0

    async def _read_body_rest(
        self, reader: BodyReader, head: RequestHead, parts: list[bytes], piece: bytes | None
    ) -> bytes | None:
        """Receive until the body is complete, counting the bytes held in ``_held``."""
        state, buffer = self.state, self._buffer
        waiting_for_continue = head.expects_continue and not parts
        while True:
            if piece is None:
                if waiting_for_continue:
                    waiting_for_continue = False
                    if not await self._write_quietly(_CONTINUE):
                        return None
                data = await self._receive()
                if not data:
                    raise ProtocolError("the client closed the connection mid-body")
                buffer += data
                self._held += len(data)
                state.body_bytes_buffered += len(data)
                if state.body_bytes_buffered > state.max_buffered_body_bytes:
                    raise BodiesOverCap
            elif piece:
                parts.append(piece)
                waiting_for_continue = False
            else:
                return parts[0] if len(parts) == 1 else b"".join(parts)
            piece = reader.read(buffer)

    async def _dispatch(self, request: HttpRequest, head: RequestHead) -> bool:
        """Run the handler; True if it answered in full and the connection may be reused."""
        state = self.state
        writer = ResponseWriter(
            self,
            head_only=request.method == "HEAD",
            http_1_0=head.http_1_0,
            keep_alive=head.keep_alive,
        )
        failure: Exception | None = None
        try:
            await state.handler(request, writer)
        except ClientGone:
            return False
        except Exception as exc:
            failure = exc
        finally:
            stage = writer.close()
            state.requests_served += 1
        if failure is None and stage == STAGE_DONE:
            return writer.keep_alive
        if isinstance(failure, ExceptionGroup) and failure.split(ClientGone)[1] is None:
            return False  # ClientGone from tasks in the handler's own nursery
        if failure is None and not self.broken:
            path = request.target.partition("?")[0]
            failure = RuntimeError(f"handler left {request.method} {path} unanswered")
        if failure is not None:
            state.handler_failed(failure)
        if stage == STAGE_UNSTARTED:
            await self._send_error(500, "internal server error", head_only=request.method == "HEAD")
        return False

    async def _receive(self) -> bytes:
        """Up to RECEIVE_SIZE bytes; b"" once the client has closed or reset."""
        try:
            return await self._io.receive_some(RECEIVE_SIZE)
        except _SOCKET_FAILURES:
            self.broken = True
            return b""

    async def _write_quietly(self, data: bytes) -> bool:
        try:
            await self.write(data)
        except ClientGone:
            return False
        return True

    async def _answer_early(self, early: EarlyResponse, head: RequestHead) -> None:
        """Send the head check's answer, then close (draining a body briefly, unread)."""
        self.state.requests_refused_early += 1
        self._linger = head.chunked or bool(head.content_length)
        writer = ResponseWriter(
            self, head_only=head.method == "HEAD", http_1_0=head.http_1_0, keep_alive=False
        )
        try:
            await writer.send_response(early.status, early.headers, early.body)
        except ClientGone:
            return

    async def _fail_request(self, status: int, message: str) -> None:
        """Answer a request that never reached the handler, then close with a linger."""
        self.state.protocol_errors += 1
        self._linger = True
        await self._send_error(status, message, head_only=False)

    async def _send_error(self, status: int, message: str, *, head_only: bool) -> None:
        """Answer with the caller's error rendering and ``Connection: close``."""
        if self.broken:
            return
        headers, body = self.state.render_error(status, message, self._target)
        if status == 503:
            headers = [*headers, _RETRY_AFTER]
        writer = ResponseWriter(self, head_only=head_only, http_1_0=False, keep_alive=False)
        try:
            await writer.send_response(status, headers, body)
        except ClientGone:
            return

    async def _drain_input(self) -> None:
        """Half-close, then drop what the client still sends, briefly (see LINGER_S)."""
        with trio.move_on_after(LINGER_S):
            try:
                await self._stream.send_eof()
                drained = 0
                while drained < LINGER_MAX_BYTES:
                    data = await self._stream.receive_some(RECEIVE_SIZE)
                    if not data:
                        return
                    drained += len(data)
            except _SOCKET_FAILURES:
                return
