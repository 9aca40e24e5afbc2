"""HTTP/1.1 for the fakes: h11 over a trio stream, keep-alive, one socket write per event.

``serve_connection(stream, handler)`` reads requests one after another and lets
``handler(request, exchange)`` answer each through an ``HttpExchange``: a complete
answer, a stream of events (chunked), or a deliberate failure (close, reset, stall).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import h11
import trio

RECEIVE_SIZE = 65536
SERVER_HEADER = (b"server", b"switchyard-fake")
# the failures a client can cause on its own connection; they end that connection only
CONNECTION_ERRORS = (trio.BrokenResourceError, trio.ClosedResourceError, h11.ProtocolError)


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpRequest:
    """One request as received: header names keep the client's spelling."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    received_at: float

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]


class HttpExchange:
    """The answer to one request on a keep-alive connection."""

    def __init__(self, conn: h11.Connection, stream: trio.abc.Stream) -> None:
        self._conn = conn
        self._stream = stream
        self.abandoned = False

    async def send_complete(
        self, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
    ) -> None:
        """A whole answer with ``Content-Length``."""
        length = (b"content-length", str(len(body)).encode())
        response = h11.Response(status_code=status, headers=[SERVER_HEADER, length, *headers])
        data = self._conn.send(response) or b""
        data += self._conn.send(h11.Data(data=body)) or b""
        data += self._conn.send(h11.EndOfMessage()) or b""
        await self._stream.send_all(data)

    async def send_head(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        """The status line and headers; the body follows as chunks (or as ``send_body``)."""
        response = h11.Response(status_code=status, headers=[SERVER_HEADER, *headers])
        await self._stream.send_all(self._conn.send(response) or b"")

    async def send_body(self, data: bytes) -> None:
        """One piece of the body, in one socket write."""
        if data:
            await self._stream.send_all(self._conn.send(h11.Data(data=data)) or b"")

    async def finish(self) -> None:
        """End the body (the terminating chunk of a chunked answer)."""
        await self._stream.send_all(self._conn.send(h11.EndOfMessage()) or b"")

    async def abandon(self, *, reset: bool = False) -> None:
        """Close the connection now; with ``reset`` the peer sees a TCP RST."""
        self.abandoned = True
        raw = _raw_socket(self._stream)
        if reset and raw is not None:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif raw is not None:
            # A clean FIN, so the client reads every byte sent before the cut.
            with contextlib.suppress(OSError):
                raw.shutdown(socket.SHUT_WR)
        await trio.aclose_forcefully(self._stream)

    async def stall(self) -> None:
        """Send nothing more, and keep the connection open until the client leaves."""
        self.abandoned = True
        while await self._stream.receive_some(RECEIVE_SIZE):
            pass


def _raw_socket(stream: trio.abc.Stream) -> trio.socket.SocketType | None:
    if isinstance(stream, trio.SSLStream):
        return _raw_socket(stream.transport_stream)
    if isinstance(stream, trio.SocketStream):
        return stream.socket
    return None


Handler = Callable[[HttpRequest, HttpExchange], Awaitable[None]]
Listeners = list[trio.abc.Listener[trio.abc.Stream]]


async def open_listeners(
    host: str, port: int, ssl_context: ssl.SSLContext | None
) -> tuple[Listeners, int]:
    """Bound TCP listeners (TLS-wrapped when ``ssl_context`` is given) and their port."""
    listeners: Listeners = []
    bound = port
    for tcp in await trio.open_tcp_listeners(port, host=host):
        bound = tcp.socket.getsockname()[1]
        listeners.append(tcp if ssl_context is None else trio.SSLListener(tcp, ssl_context))
    return listeners, bound


async def serve_listeners(listeners: Listeners, handler: Handler) -> None:
    """Serve every accepted connection with ``handler`` until cancelled."""

    async def serve_one(stream: trio.abc.Stream) -> None:
        await serve_connection(stream, handler)

    await trio.serve_listeners(serve_one, listeners)


async def serve_connection(stream: trio.abc.Stream, handler: Handler) -> None:
    """Answer requests on ``stream`` until the client leaves or an answer ends the connection."""
    conn = h11.Connection(h11.SERVER)
    try:
        async with stream:
            while (request := await _read_request(conn, stream)) is not None:
                exchange = HttpExchange(conn, stream)
                await handler(request, exchange)
                if exchange.abandoned or conn.our_state is not h11.DONE:
                    return
                if conn.their_state is not h11.DONE:
                    return
                conn.start_next_cycle()
    except CONNECTION_ERRORS:
        return


async def _read_request(conn: h11.Connection, stream: trio.abc.Stream) -> HttpRequest | None:
    head = await _next_event(conn, stream)
    if not isinstance(head, h11.Request):
        return None
    chunks: list[bytes] = []
    while isinstance(event := await _next_event(conn, stream), h11.Data):
        chunks.append(bytes(event.data))
    if not isinstance(event, h11.EndOfMessage):
        return None
    return HttpRequest(
        method=head.method.decode("ascii"),
        target=head.target.decode("latin-1"),
        headers=tuple(
            (name.decode("latin-1"), value.decode("latin-1"))
            for name, value in head.headers.raw_items()
        ),
        body=b"".join(chunks),
        received_at=time.time(),
    )


async def _next_event(conn: h11.Connection, stream: trio.abc.Stream) -> object:
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event
        conn.receive_data(bytes(await stream.receive_some(RECEIVE_SIZE)))
