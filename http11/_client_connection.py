"""One upstream HTTP/1.1 connection: URL targets, connect + TLS, send and receive.

Request heads are encoded and response heads and bodies parsed by the strict,
sans-I/O ``http11.sansio.head`` and ``http11.sansio.body``.

The pool in `http11.client` owns these; nothing else should. The error
types live here because the connection raises them; `http11.client`
re-exports them and draws their tree.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import trio

from http11._direct_socket import DirectSocket
from http11.sansio.body import BodyReader
from http11.sansio.head import (
    ProtocolError,
    ResponseHead,
    encode_request_head,
    find_head_end,
    parse_response_head,
)

RECEIVE_SIZE = 65536
DEFAULT_PORTS = {"http": 80, "https": 443}
_POOL_FIELDS = frozenset({"host", "content-length", "transfer-encoding"})


class UpstreamTransportError(Exception):
    """The exchange with the upstream failed below HTTP semantics."""


class UpstreamConnectError(UpstreamTransportError):
    """No connection: DNS, refused, TLS handshake or certificate failure, timeout."""


class UpstreamWriteError(UpstreamTransportError):
    """The connection broke while the request was being sent."""


class UpstreamReadError(UpstreamTransportError):
    """The connection was reset or closed before the response was complete."""


class UpstreamProtocolError(UpstreamTransportError):
    """The peer's bytes were not valid HTTP/1.1."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Origin:
    """Where connections go; the pool keys its idle lists on this."""

    tls: bool
    host: str
    port: int
    label: str  # "host:port", the only part of a URL that errors may show


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """A parsed URL, cached by the pool."""

    origin: Origin
    path: str  # path and query, as sent on the request line
    host_header: str


def parse_url(url: str) -> Target:
    """Split an absolute http(s) URL; errors never echo it (queries may hold keys)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError("upstream URL scheme must be http or https")
    host = parts.hostname
    if not host:
        raise ValueError("upstream URL has no host")
    port = parts.port or DEFAULT_PORTS[scheme]
    bracketed = f"[{host}]" if ":" in host else host
    host_header = bracketed if port == DEFAULT_PORTS[scheme] else f"{bracketed}:{port}"
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    origin = Origin(tls=scheme == "https", host=host, port=port, label=f"{bracketed}:{port}")
    return Target(origin=origin, path=path, host_header=host_header)


@dataclass(frozen=True, slots=True, kw_only=True)
class PreparedRequest:
    """A request head, encoded and validated before any connection is touched."""

    head: bytes
    head_only: bool  # a HEAD request: the response has no body
    keep_alive: bool  # False when the caller asked for ``Connection: close``


def build_request(
    method: str, path: str, framing: list[tuple[str, str]], headers: Sequence[tuple[str, str]]
) -> PreparedRequest:
    """Encode ``framing`` (the pool's Host and Content-Length) then the caller's headers.

    ValueError, naming no value (it may be a credential), for anything invalid in
    HTTP/1.1 or a caller header that the pool sets itself.
    """
    keep_alive = True
    for name, value in headers:
        lowered = name.lower()
        if lowered in _POOL_FIELDS:
            raise ValueError("request method, path or headers are not valid HTTP/1.1") from None
        if lowered == "connection" and "close" in [t.strip() for t in value.lower().split(",")]:
            keep_alive = False
    head = encode_request_head(method, path, [*framing, *headers])
    return PreparedRequest(head=head, head_only=method == "HEAD", keep_alive=keep_alive)


class Connection:
    """One socket, its receive buffer and parse state, and what the pool needs to know."""

    __slots__ = (
        "body",
        "buffer",
        "eof",
        "idle_since",
        "io",
        "keep_alive",
        "label",
        "received",
        "reused",
        "socket",
        "stream",
    )

    def __init__(self, stream: trio.abc.Stream, socket: trio.socket.SocketType, label: str) -> None:
        self.stream = stream
        self.socket = socket
        # plain TCP: bytes straight through the socket (see http11._direct_socket)
        self.io = DirectSocket(stream) if type(stream) is trio.SocketStream else stream
        self.label = label
        self.buffer = bytearray()
        self.body = BodyReader(content_length=0, chunked=False)  # the current response's
        self.keep_alive = False  # whether the current exchange allows another one after it
        self.idle_since = 0.0
        self.reused = False
        self.received = 0  # bytes received in the current request/response cycle
        self.eof = False

    def close_now(self) -> None:
        """Close without blocking or checkpointing (so no TLS close_notify)."""
        self.socket.close()

    def reusable(self) -> bool:
        """Whether the exchange ended cleanly and the connection may carry the next one."""
        return self.keep_alive and self.body.done and not self.eof and not self.buffer

    async def send(self, request: PreparedRequest, body: bytes) -> None:
        """Write the whole request in one write (``UpstreamWriteError`` if it breaks)."""
        try:
            await self.io.send_all(request.head + body if body else request.head)
        except trio.BrokenResourceError as exc:
            raise UpstreamWriteError(f"connection to {self.label} broke while sending") from exc

    async def receive_head(self, request: PreparedRequest) -> ResponseHead:
        """Wait for the final response head to the request just sent."""
        while True:
            head = await self._read_head(request.head_only)
            if head.status >= 200:
                break
            if head.status == 101:  # we never ask to switch protocols
                raise UpstreamProtocolError(f"{self.label} switched protocols unasked")
        self.body = BodyReader(
            content_length=head.content_length, chunked=head.chunked, response=True
        )
        self.keep_alive = head.keep_alive and request.keep_alive
        return head

    async def next_piece(self) -> bytes:
        """The next piece of the response body, receiving as needed; b"" at its end."""
        body = self.body
        while True:
            try:
                piece = body.read(self.buffer)
                if piece:
                    return self._with_buffered_rest(piece)
                if piece is not None:
                    return piece
                if self.eof:
                    body.read_eof()
                    continue
            except ProtocolError as exc:
                raise self._protocol_failure() from exc
            await self._receive()

    def _with_buffered_rest(self, piece: bytes) -> bytes:
        """``piece`` and every further piece already in the buffer, as one: a stream whose
        events arrived together is handled (and relayed to the client) in one go."""
        more = self.body.read(self.buffer)
        if not more:
            return piece
        pieces = [piece, more]
        while more := self.body.read(self.buffer):
            pieces.append(more)
        return b"".join(pieces)

    async def _read_head(self, head_request: bool) -> ResponseHead:
        buffer = self.buffer
        searched = 0
        try:
            while (end := find_head_end(buffer, searched)) < 0:
                if self.eof:
                    raise ProtocolError("the connection closed within a response head")
                searched = len(buffer)
                await self._receive()
            head = parse_response_head(buffer[:end], head_request=head_request)
        except ProtocolError as exc:
            raise self._protocol_failure() from exc
        del buffer[:end]
        return head

    def _protocol_failure(self) -> UpstreamTransportError:
        if self.eof:
            return UpstreamReadError(f"{self.label} closed the connection mid-response")
        return UpstreamProtocolError(f"{self.label} sent invalid HTTP/1.1")

    async def _receive(self) -> None:
        try:
            data = await self.io.receive_some(RECEIVE_SIZE)
        except trio.BrokenResourceError as exc:
            raise UpstreamReadError(f"connection to {self.label} was reset") from exc
        if data:
            self.received += len(data)
            self.buffer += data
        elif self.received == 0:
            raise UpstreamReadError(f"{self.label} closed the connection before responding")
        else:
            self.eof = True


async def open_connection(
    origin: Origin, ssl_context: ssl.SSLContext, timeout_s: float
) -> Connection:
    """TCP connect (and TLS handshake, SNI = host) within `timeout_s`."""
    try:
        with trio.fail_after(timeout_s):
            return await _open(origin, ssl_context)
    except trio.TooSlowError:
        raise UpstreamConnectError(f"connecting to {origin.label} timed out") from None
    except OSError as exc:
        reason = _failure_reason(exc)
        raise UpstreamConnectError(f"cannot connect to {origin.label}: {reason}") from exc
    except trio.BrokenResourceError as exc:
        reason = _failure_reason(exc)
        raise UpstreamConnectError(f"TLS with {origin.label} failed: {reason}") from exc


async def _open(origin: Origin, ssl_context: ssl.SSLContext) -> Connection:
    tcp = await trio.open_tcp_stream(origin.host, origin.port)
    if not origin.tls:
        return Connection(tcp, tcp.socket, origin.label)
    tls = trio.SSLStream(tcp, ssl_context, server_hostname=origin.host, https_compatible=True)
    try:
        await tls.do_handshake()
    except BaseException:
        tcp.socket.close()
        raise
    return Connection(tls, tcp.socket, origin.label)


def _failure_reason(exc: BaseException) -> str:
    """The most specific cause of a connect failure, as a short phrase."""
    while True:
        if isinstance(exc, ssl.SSLCertVerificationError):
            return f"certificate verification failed ({exc.verify_message})"
        if isinstance(exc, ssl.SSLError):
            return f"TLS error ({exc.reason or type(exc).__name__})"
        cause = exc.__cause__
        if isinstance(cause, BaseExceptionGroup) and cause.exceptions:
            cause = cause.exceptions[0]
        if cause is None:
            break
        exc = cause
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__
