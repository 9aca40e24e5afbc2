"""Pooled keep-alive HTTP/1.1 client for upstream providers, on trio.

The provider worker sends every upstream call through one `UpstreamPool`. It
exists because httpx under trio costs several times the CPU per request (see
``scripts/bench_client.py``), and the gateway's whole overhead budget is a
fraction of a millisecond; for the same reason it speaks HTTP/1.1 through the
small strict parser in ``http11.sansio.head`` rather than h11 (which cost about
half of the client's CPU per request).

What the pool does and does not do:

- one keep-alive pool per origin (scheme, host, port); a connection is reused
  only after its response was read to the end, with nothing after it, and when
  neither side said ``Connection: close`` (nor HTTP/1.0, nor a body ended by close);
- an idle connection is checked (``poll``) before a request is written on it, and
  one the server closed is dropped for another; a reused connection whose write
  broke is replaced once, transparently (the server closed it before it could have
  the whole request). Once the whole request is written, nothing is ever re-sent
  here: ``UpstreamExchange.request_sent`` then tells the caller that the provider
  may have the request (and may bill it), and the retry policy decides;
- the connect timeout (TCP + TLS) is the pool's; every other deadline is the
  caller's (``trio.fail_after`` around its awaits): every await here can be
  cancelled, and an exchange left early or cancelled closes its connection;
- no redirects, no decompression (no ``Accept-Encoding`` is sent), no proxies.

Errors (messages name the origin only: never the path, query, headers or body)::

    UpstreamTransportError
     ├── UpstreamConnectError    DNS, refused, TLS handshake/verification, connect timeout
     ├── UpstreamWriteError      the connection broke while sending the request
     ├── UpstreamReadError       reset or closed before the response was complete
     └── UpstreamProtocolError   the peer spoke invalid HTTP/1.1
"""

from __future__ import annotations

import ssl
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from types import TracebackType

import certifi
import trio

from http11._client_connection import (
    Connection,
    Origin,
    PreparedRequest,
    Target,
    UpstreamConnectError,
    UpstreamProtocolError,
    UpstreamReadError,
    UpstreamTransportError,
    UpstreamWriteError,
    build_request,
    open_connection,
    parse_url,
)
from http11.sansio.head import ResponseHead

RECENTLY_IDLE_S = 0.05
"""A connection idle for less than this is reused without a look (see ``_still_open``)."""


def _still_open(connection: Connection, now: float) -> bool:
    """Readable while idle means EOF (the server closed it) or stray bytes: unusable.

    Asked of every connection idle for ``RECENTLY_IDLE_S`` or more before a request is
    written on it (one ``poll``). Not of one idle for less: servers close idle
    connections after seconds, not milliseconds, and under load, when connections come
    back within milliseconds, the ``poll`` would release the GIL on every request (the
    trail writer's thread then holds the event loop up to a switch interval). A
    connection the server closes anyway is caught by ``UpstreamPool._exchange``: a write
    that fails is retried on a fresh connection, a request that may have been read is
    never resent silently."""
    if now - connection.idle_since < RECENTLY_IDLE_S:
        return True
    return not connection.socket.is_readable()


__all__ = [
    "RECENTLY_IDLE_S",
    "PoolStatistics",
    "UpstreamConnectError",
    "UpstreamExchange",
    "UpstreamPool",
    "UpstreamProtocolError",
    "UpstreamReadError",
    "UpstreamResponse",
    "UpstreamTransportError",
    "UpstreamWriteError",
    "default_ssl_context",
]

_URL_CACHE_LIMIT = 512
_BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def default_ssl_context() -> ssl.SSLContext:
    """Verify certificates and hostnames against certifi's CA bundle and the system's."""
    context = ssl.create_default_context(cafile=certifi.where())
    context.set_default_verify_paths()
    context.set_alpn_protocols(["http/1.1"])
    return context


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolStatistics:
    """A snapshot of the pool, for the health endpoint."""

    connections_opened: int
    connections_reused: int  # requests sent on a connection taken from the idle list
    retries: int  # requests resent on a fresh connection after a reused one broke mid-write
    idle_now: int
    active_now: int  # exchanges in progress (connecting, sending or reading)


class UpstreamResponse:
    """A response whose head has arrived; the body is read from the socket on demand."""

    __slots__ = ("_complete", "_connection", "headers", "status")

    def __init__(self, head: ResponseHead, connection: Connection) -> None:
        self.status: int = head.status
        self.headers: tuple[tuple[str, str], ...] = head.headers
        """Names lower-cased, values decoded as latin-1, in arrival order."""
        self._connection = connection
        self._complete = False

    def header(self, name: str) -> str | None:
        """The first value of header `name` (any case), or None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key == wanted:
                return value
        return None

    @property
    def body_done(self) -> bool:
        """Whether the whole body has been received (what is left is buffered here)."""
        return self._connection.body.done

    def iter_bytes(self) -> AsyncIterator[bytes]:
        """Body data as each piece arrives from the socket; nothing after the end."""
        return _BodyChunks(self)

    async def read(self) -> bytes:
        """The rest of the body."""
        chunks = [chunk async for chunk in _BodyChunks(self)]
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def _next_chunk(self) -> bytes:
        """The next piece of body data, or b"" once the body is complete."""
        if self._complete:
            return b""
        piece = await self._connection.next_piece()
        if not piece:
            self._complete = True
        return piece


class _BodyChunks:
    """Async iterator over a response body (a class, so no generator needs finalising)."""

    __slots__ = ("_response",)

    def __init__(self, response: UpstreamResponse) -> None:
        self._response = response

    def __aiter__(self) -> _BodyChunks:
        return self

    async def __anext__(self) -> bytes:
        chunk = await self._response._next_chunk()
        if not chunk:
            raise StopAsyncIteration
        return chunk


class _OriginSlot:
    """Per-origin pool state: idle connections (newest last) and the connection limit."""

    __slots__ = ("idle", "limit", "origin")

    def __init__(self, origin: Origin, max_connections: int) -> None:
        self.origin = origin
        self.idle: deque[Connection] = deque()
        self.limit = trio.Semaphore(max_connections)


class UpstreamExchange:
    """The context manager `UpstreamPool.stream` returns: one request/response cycle.

    ``request_sent`` becomes True once the whole request was handed to the kernel: from
    then on the provider may have it (and bill it) even if no answer ever comes.
    """

    __slots__ = ("_body", "_pool", "_request", "_response", "_slot", "request_sent")

    def __init__(
        self, pool: UpstreamPool, slot: _OriginSlot, request: PreparedRequest, body: bytes
    ) -> None:
        self._pool = pool
        self._slot = slot
        self._request = request
        self._body = body
        self._response: UpstreamResponse | None = None
        self.request_sent = False

    async def __aenter__(self) -> UpstreamResponse:
        self._response = await self._pool._begin(self)
        return self._response

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._response is not None:
            self._pool._end(self._slot, self._response)
            self._response = None


class UpstreamPool:
    """Keep-alive HTTP/1.1 connections, pooled per origin; one per provider worker."""

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        connect_timeout_s: float = 5.0,
        max_connections_per_origin: int = 512,
        max_idle_per_origin: int = 128,
        idle_keepalive_s: float = 30.0,
    ) -> None:
        self._ssl_context = ssl_context if ssl_context is not None else default_ssl_context()
        self._connect_timeout_s = connect_timeout_s
        self._max_connections = max_connections_per_origin
        self._max_idle = max_idle_per_origin
        self._idle_keepalive_s = idle_keepalive_s
        self._targets: dict[str, Target] = {}
        self._slots: dict[Origin, _OriginSlot] = {}
        self._opened = 0
        self._reused = 0
        self._retries = 0
        self._active = 0
        self._closed = False

    async def __aenter__(self) -> UpstreamPool:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def stream(
        self, method: str, url: str, headers: Sequence[tuple[str, str]], body: bytes
    ) -> UpstreamExchange:
        """Send a request on entry (Host and Content-Length added); yield once the head is in.

        `headers` must not carry Host, Content-Length or Transfer-Encoding. Leaving
        the block before the body was read to the end closes the connection.
        Raises ValueError at once for a bad URL or header, without echoing either.
        """
        if self._closed:
            raise RuntimeError("UpstreamPool is closed")
        target = self._targets.get(url)
        if target is None:
            target = self._remember_target(url)
        if body or method not in _BODYLESS_METHODS:
            framing = [("Host", target.host_header), ("Content-Length", str(len(body)))]
        else:
            framing = [("Host", target.host_header)]
        request = build_request(method, target.path, framing, headers)
        slot = self._slots.get(target.origin)
        if slot is None:
            slot = self._slots[target.origin] = _OriginSlot(target.origin, self._max_connections)
        return UpstreamExchange(self, slot, request, body)

    async def aclose(self) -> None:
        """Close idle connections now; connections in use close when their exchange ends."""
        self._closed = True
        for slot in self._slots.values():
            while slot.idle:
                slot.idle.pop().close_now()
        await trio.lowlevel.checkpoint()

    def statistics(self) -> PoolStatistics:
        return PoolStatistics(
            connections_opened=self._opened,
            connections_reused=self._reused,
            retries=self._retries,
            idle_now=sum(len(slot.idle) for slot in self._slots.values()),
            active_now=self._active,
        )

    def _remember_target(self, url: str) -> Target:
        if len(self._targets) >= _URL_CACHE_LIMIT:
            self._targets.clear()
        target = self._targets[url] = parse_url(url)
        return target

    async def _begin(self, exchange: UpstreamExchange) -> UpstreamResponse:
        slot = exchange._slot
        try:
            slot.limit.acquire_nowait()
        except trio.WouldBlock:
            await slot.limit.acquire()
        self._active += 1
        try:
            return await self._exchange(exchange)
        except BaseException:
            self._active -= 1
            slot.limit.release()
            raise

    def _end(self, slot: _OriginSlot, response: UpstreamResponse) -> None:
        self._active -= 1
        slot.limit.release()
        connection = response._connection
        if (
            response._complete
            and connection.reusable()
            and not self._closed
            and len(slot.idle) < self._max_idle
        ):
            self._check_in(slot, connection)
        else:
            connection.close_now()

    async def _exchange(self, exchange: UpstreamExchange) -> UpstreamResponse:
        slot = exchange._slot
        connection = self._check_out(slot) or await self._connect(slot.origin)
        try:
            return await self._send_on(connection, exchange)
        except UpstreamWriteError:
            if not connection.reused:
                raise
        # The server closed the reused connection before it could read the whole request
        # (the write broke), so it cannot have acted on it: once more, on a fresh one.
        # A failure after the whole request was written is never retried here.
        self._retries += 1
        return await self._send_on(await self._connect(slot.origin), exchange)

    @staticmethod
    async def _send_on(connection: Connection, exchange: UpstreamExchange) -> UpstreamResponse:
        request = exchange._request
        try:
            await connection.send(request, exchange._body)
            exchange.request_sent = True
            head = await connection.receive_head(request)
        except BaseException:
            connection.close_now()
            raise
        return UpstreamResponse(head, connection)

    def _check_out(self, slot: _OriginSlot) -> Connection | None:
        idle = slot.idle
        if not idle:
            return None
        now = trio.current_time()
        oldest_allowed = now - self._idle_keepalive_s
        while idle:
            connection = idle.pop()
            if connection.idle_since >= oldest_allowed and _still_open(connection, now):
                connection.reused = True
                connection.received = 0
                self._reused += 1
                return connection
            connection.close_now()
        return None

    def _check_in(self, slot: _OriginSlot, connection: Connection) -> None:
        now = trio.current_time()
        connection.idle_since = now
        idle = slot.idle
        oldest_allowed = now - self._idle_keepalive_s
        while idle and idle[0].idle_since < oldest_allowed:
            idle.popleft().close_now()
        idle.append(connection)

    async def _connect(self, origin: Origin) -> Connection:
        connection = await open_connection(origin, self._ssl_context, self._connect_timeout_s)
        self._opened += 1
        return connection
