"""A server-side WebSocket on a connection of ``http11.server``, after its 101.

``accept_websocket`` vets the upgrade request (400, or 426 for another version), answers
101 and returns a ``WebSocket``: ``receive`` gives the next whole data message (pings
are answered, pongs dropped, a close is echoed), ``send_text`` sends one text message,
``close`` ends it. A client that breaks the protocol is closed with the code the RFC
names (``http11.sansio.websocket``): 1002, 1007, or 1009 for a message over
``max_message_bytes``. Waiting for the next message may last the server's keep-alive
timeout and ends at shutdown; a message once begun must arrive within its body
timeout (``receive_upgraded``).
"""

from __future__ import annotations

from collections.abc import Sequence

import trio

from http11._server_exchange import ClientGone, HttpRequest, ResponseWriter, UpgradedConnection
from http11.sansio.websocket import (
    CLOSE_GOING_AWAY,
    CLOSE_NORMAL,
    CLOSE_TRY_AGAIN_LATER,
    OP_PONG,
    OP_TEXT,
    Close,
    FrameReader,
    Message,
    Ping,
    WebSocketError,
    accept_headers,
    encode_close,
    encode_frame,
    handshake_problem,
)

LINGER_S = 1.0
LINGER_MAX_BYTES = 1024 * 1024


class WebSocket:
    """One accepted WebSocket; every method raises ``ClientGone`` once the peer is gone."""

    __slots__ = ("_closed", "_connection", "_reader", "close_code")

    def __init__(self, connection: UpgradedConnection, *, max_message_bytes: int) -> None:
        self._connection = connection
        self._reader = FrameReader(max_message_bytes=max_message_bytes)
        self._closed = False
        self.close_code: int | None = None
        """The code this side closed with (the peer's own, echoed), once closed."""

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def accepting(self) -> bool:
        """False once the server drains: end the session after the current message."""
        return self._connection.state.accepting

    async def receive(self) -> Message | None:
        """The next data message, or None once the connection is closed (by the peer,
        or by us after a protocol violation, answered with its close code)."""
        reader = self._reader
        while not self._closed:
            try:
                event = reader.next_event()
                self._connection.hold_upgraded(reader.held)
            except WebSocketError as exc:
                await self.close(exc.code, exc.reason)
                return None
            if isinstance(event, Message):
                return event
            if isinstance(event, Ping):
                await self._connection.write(encode_frame(OP_PONG, event.payload))
            elif isinstance(event, Close):
                code = CLOSE_NORMAL if event.code == 1005 else event.code
                await self.close(code, answering=True)
            elif event is None:
                data = await self._connection.receive_upgraded(idle=not reader.mid_message)
                if not data:
                    self._closed = True
                    return None
                reader.feed(data)
                if not self._connection.hold_upgraded(reader.held):
                    await self.close(CLOSE_TRY_AGAIN_LATER, "server busy: too much being received")
                    return None
        return None

    async def send_text(self, data: bytes) -> None:
        """Send ``data`` (UTF-8 text) as one message."""
        await self._connection.write(encode_frame(OP_TEXT, data))

    async def send_texts(self, messages: Sequence[bytes]) -> None:
        """Send several messages in one write."""
        if messages:
            await self._connection.write(b"".join(encode_frame(OP_TEXT, m) for m in messages))

    async def close(
        self, code: int = CLOSE_NORMAL, reason: str = "", *, answering: bool = False
    ) -> None:
        """Send the close frame (once); the connection ends when the handler returns.
        Unless ``answering`` the peer's close, what it still sends is read and dropped
        for a moment (``LINGER_S``, ``LINGER_MAX_BYTES``), so that the kernel does not
        reset the connection before the peer has read why it was closed."""
        if self._closed:
            return
        self._closed = True
        self.close_code = code
        try:
            await self._connection.write(encode_close(code, reason))
        except ClientGone:
            return
        if answering:
            return
        self._connection.hold_upgraded(0)
        with trio.move_on_after(LINGER_S):
            drained = 0
            while drained < LINGER_MAX_BYTES:
                data = await self._connection.receive_upgraded(idle=False)
                if not data:
                    return
                drained += len(data)


async def accept_websocket(
    request: HttpRequest, writer: ResponseWriter, *, max_message_bytes: int
) -> WebSocket | None:
    """Switch ``request``'s connection to WebSocket; None if the upgrade was refused
    (answered 400 or 426 through ``writer``)."""
    problem = handshake_problem(request.method, request.headers)
    if problem is not None:
        version = ("sec-websocket-version", "13")
        status = 426 if "version" in problem else 400
        headers = [("content-type", "text/plain; charset=utf-8"), version]
        await writer.send_response(status, headers, problem.encode())
        return None
    connection = await writer.switch_protocols(accept_headers(request.headers))
    return WebSocket(connection, max_message_bytes=max_message_bytes)


__all__ = ["CLOSE_GOING_AWAY", "WebSocket", "accept_websocket"]
