"""One HTTP exchange of ``http11.server``: the request and its response writer.

``http11.sansio.head`` parses requests; responses are encoded here, directly: a
status line, the caller's headers (checked so no value can split the head),
framing, ``Date``, ``Connection: close`` when the connection ends (or
``Connection: keep-alive`` to an HTTP/1.0 client that asked for it), and chunked
framing for streams.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Protocol, runtime_checkable

from http11.sansio.head import RequestHead

HttpHead = RequestHead
"""A parsed request head (method, target, headers, framing), before its body is read."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpRequest:
    """One complete request: head and body, already read off the socket."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    """Names lower-cased, values decoded as latin-1, in arrival order."""
    body: bytes
    client: str
    """The peer's ``host:port``."""

    @classmethod
    def of(cls, head: RequestHead, body: bytes, client: str) -> HttpRequest:
        return cls(
            method=head.method, target=head.target, headers=head.headers, body=body, client=client
        )

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (give it lower-case), or None."""
        for key, value in self.headers:
            if key == name:
                return value
        return None


class ClientGone(Exception):
    """The client disconnected before the response was complete."""


Handler = Callable[[HttpRequest, "ResponseWriter"], Awaitable[None]]
"""Answers one request through the writer; may let ``ClientGone`` escape."""

ErrorRenderer = Callable[[int, str, str | None], tuple[Sequence[tuple[str, str]], bytes]]
"""``(status, message, target) -> (headers, body)`` for protocol-level error responses;
``target`` is the request's, when its head was read (so the body can take its client's
shape), else ``None``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EarlyResponse:
    """A complete answer given from the head alone; the body is never read."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


HeadCheck = Callable[[HttpHead, str], "EarlyResponse | None"]
"""``(head, client) -> answer or None``, called once a request head is parsed and before
its body is read; an answer is sent with ``Connection: close`` and the body discarded
within bounds. It must not block: it runs on the connection's task."""

HandlerErrorHook = Callable[[Exception], None]
"""Told about each handler failure (exception or no response) so the caller can log it."""


class ConnectionState(Protocol):
    """What a response writer reads of its server's shared state."""

    @property
    def accepting(self) -> bool:
        """False once the server drains: the response then closes its connection."""

    def date_line(self) -> str:
        """The ``Date`` header line."""


class Connection(Protocol):
    """The connection a response writer writes to (``_server_connection.HttpConnection``);
    named by its shape so this module does not import the connection that imports it."""

    @property
    def state(self) -> ConnectionState: ...

    @property
    def broken(self) -> bool: ...

    async def write(self, data: bytes) -> None:
        """Send ``data`` now; ``ClientGone`` if the client has disconnected."""


@runtime_checkable
class UpgradedConnection(Connection, Protocol):
    """A connection that can carry another protocol after a 101 (the server's own)."""

    def hold_upgraded(self, size: int) -> bool:
        """Count ``size`` bytes held mid-message with the server's buffered bodies; False
        once over the server-wide cap."""

    async def receive_upgraded(self, *, idle: bool) -> bytes:
        """After a protocol switch: the next bytes from the client (b"" once it has
        gone); ``idle`` means nothing is under way, so a shutdown or the idle timeout
        may end the connection while it waits."""


class ReplyWriter(Protocol):
    """What answers one request: ``ResponseWriter`` for HTTP, or another transport's
    writer (the Responses WebSocket) that carries the same answer its own way."""

    @property
    def started(self) -> bool: ...

    async def send_response(
        self, status: int, headers: Sequence[tuple[str, str]], body: bytes
    ) -> None: ...

    async def start_stream(
        self,
        status: int,
        headers: Sequence[tuple[str, str]],
        first: bytes = b"",
        *,
        last: bool = False,
    ) -> None: ...

    async def send_chunk(self, data: bytes, *, last: bool = False) -> None: ...

    async def end_stream(self) -> None: ...


STAGE_UNSTARTED, STAGE_STREAMING, STAGE_DONE, STAGE_CLOSED = 0, 1, 2, 3

_STATUS_LINES = {
    status.value: f"HTTP/1.1 {status.value} {status.phrase}\r\n" for status in HTTPStatus
}
_NO_BODY_STATUSES = frozenset({204, 304})
# Header lines as we write them: a token name, ": ", a value without CR, LF or NUL;
# with one LF per header, no value can smuggle in a line of its own.
_HEADER_LINES = re.compile(r"(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+: [^\r\n\x00]*\r\n)*")
_CLOSE_LINE = "connection: close\r\n"
_KEEP_ALIVE_LINE = "connection: keep-alive\r\n"
_CHUNKED_LINE = "transfer-encoding: chunked\r\n"
_LAST_CHUNK = b"0\r\n\r\n"
_SWITCHING = b"HTTP/1.1 101 Switching Protocols\r\n"


def encode_head(status: int, headers: Sequence[tuple[str, str]], framing: str) -> bytes:
    """The response head: status line, ``headers``, then the ``framing`` lines as given."""
    lines = "".join([f"{name}: {value}\r\n" for name, value in headers])
    if lines.count("\n") != len(headers) or _HEADER_LINES.fullmatch(lines) is None:
        raise ValueError(f"invalid response header in {headers!r}")
    lowered = "\r\n" + lines.lower()
    if "\r\ncontent-length:" in lowered or "\r\ntransfer-encoding:" in lowered:
        raise ValueError(f"the writer sets framing headers itself: {headers!r}")
    if "\r\nconnection:" in lowered:
        raise ValueError(f"the writer sets the connection header itself: {headers!r}")
    if not 200 <= status <= 999:
        raise ValueError(f"invalid final response status {status!r}")
    status_line = _STATUS_LINES.get(status) or f"HTTP/1.1 {status} \r\n"
    return f"{status_line}{lines}{framing}\r\n".encode("latin-1")


class ResponseWriter:
    """Sends the one response to one request: whole (``send_response``) or streamed.

    The writer owns framing: do not pass ``Content-Length``, ``Transfer-Encoding``
    or ``Connection``. Every method raises ``ClientGone`` once the client has
    disconnected, and ``RuntimeError`` when called out of order.
    """

    __slots__ = ("_connection", "_head_only", "_http_1_0", "_stage", "keep_alive")

    def __init__(
        self, connection: Connection, *, head_only: bool, http_1_0: bool, keep_alive: bool
    ) -> None:
        self._connection = connection
        self._head_only = head_only
        self._http_1_0 = http_1_0
        self._stage = STAGE_UNSTARTED
        self.keep_alive = keep_alive
        """Whether the connection may carry another request after this response."""

    @property
    def started(self) -> bool:
        """True once the response head was sent."""
        return self._stage != STAGE_UNSTARTED

    async def send_response(
        self, status: int, headers: Sequence[tuple[str, str]], body: bytes
    ) -> None:
        """Send a complete response with ``Content-Length`` framing, in one write."""
        self._require(STAGE_UNSTARTED)
        if status in _NO_BODY_STATUSES:
            if body:
                raise ValueError(f"a {status} response has no body")
            head = self._head(status, headers, "")
        else:
            head = self._head(status, headers, f"content-length: {len(body)}\r\n")
        self._stage = STAGE_DONE
        await self._connection.write(head + body if body and not self._head_only else head)

    async def start_stream(
        self,
        status: int,
        headers: Sequence[tuple[str, str]],
        first: bytes = b"",
        *,
        last: bool = False,
    ) -> None:
        """Send the head of a response whose body follows in chunks, with its ``first``
        piece (and the body's end if ``last``) in the same write."""
        self._require(STAGE_UNSTARTED)
        if status in _NO_BODY_STATUSES:
            raise ValueError(f"a {status} response has no body to stream")
        if self._http_1_0:  # no chunked encoding: the body ends when the connection does
            self.keep_alive = False
            head = self._head(status, headers, "")
        else:
            head = self._head(status, headers, _CHUNKED_LINE)
        self._stage = STAGE_DONE if last else STAGE_STREAMING
        await self._connection.write(head + self._framed(first, last))

    async def send_chunk(self, data: bytes, *, last: bool = False) -> None:
        """Send one piece of the body to the client now (an empty piece sends nothing),
        and the body's end with it if ``last``."""
        self._require(STAGE_STREAMING)
        if last:
            self._stage = STAGE_DONE
        framed = self._framed(data, last)
        if framed:
            await self._connection.write(framed)

    async def end_stream(self) -> None:
        """Finish the streamed body."""
        await self.send_chunk(b"", last=True)

    async def switch_protocols(self, headers: Sequence[tuple[str, str]]) -> UpgradedConnection:
        """Answer 101 (``Upgrade: websocket``) with ``headers`` and hand over the
        connection: the caller speaks the new protocol on it until it returns; the
        connection is closed after that, never reused for HTTP."""
        self._require(STAGE_UNSTARTED)
        if not isinstance(self._connection, UpgradedConnection):
            raise RuntimeError("this connection cannot switch protocols")
        self.keep_alive = False
        framing = "connection: Upgrade\r\nupgrade: websocket\r\n"
        head = encode_head(200, headers, framing + self._connection.state.date_line())
        self._stage = STAGE_DONE
        connection = self._connection
        await connection.write(_SWITCHING + head[head.index(b"\r\n") + 2 :])
        return connection

    def _framed(self, data: bytes, last: bool) -> bytes:
        if self._head_only:
            return b""
        if self._http_1_0:
            return data
        piece = b"%x\r\n%b\r\n" % (len(data), data) if data else b""
        return piece + _LAST_CHUNK if last else piece

    def close(self) -> int:
        """Refuse any further use (the request's cycle is over); return the last stage."""
        stage, self._stage = self._stage, STAGE_CLOSED
        return stage

    def _head(self, status: int, headers: Sequence[tuple[str, str]], framing: str) -> bytes:
        state = self._connection.state
        if not state.accepting:
            self.keep_alive = False
        if not self.keep_alive:
            framing += _CLOSE_LINE
        elif self._http_1_0:  # HTTP/1.0 closes unless told otherwise
            framing += _KEEP_ALIVE_LINE
        return encode_head(status, headers, framing + state.date_line())

    def _require(self, stage: int) -> None:
        if self._connection.broken:
            raise ClientGone("the client disconnected")
        if self._stage != stage:
            raise RuntimeError("response writer used out of order or after its request ended")
