"""One upstream HTTP/1.1 connection: URL targets, connect + TLS, h11 send and receive.

The pool in `actors.http_client` owns these; nothing else should. The error
types live here because the connection raises them; `actors.http_client`
re-exports them and draws their tree.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11
import trio

RECEIVE_SIZE = 65536
DEFAULT_PORTS = {"http": 80, "https": 443}


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


def build_request(method: str, path: str, headers: list[tuple[str, str]]) -> h11.Request:
    """Validate the request head before any connection is touched."""
    try:
        return h11.Request(method=method, target=path, headers=headers)
    except (h11.LocalProtocolError, UnicodeError, TypeError):
        # h11's message quotes the offending value, which may be a credential.
        raise ValueError("request method, path or headers are not valid HTTP/1.1") from None


class Connection:
    """One socket, its h11 state machine, and what the pool needs to know about it."""

    __slots__ = ("eof", "h11", "idle_since", "label", "received", "reused", "socket", "stream")

    def __init__(self, stream: trio.abc.Stream, socket: trio.socket.SocketType, label: str) -> None:
        self.stream = stream
        self.socket = socket
        self.label = label
        self.h11 = h11.Connection(h11.CLIENT)
        self.idle_since = 0.0
        self.reused = False
        self.received = 0  # bytes received in the current request/response cycle
        self.eof = False

    def close_now(self) -> None:
        """Close without blocking or checkpointing (so no TLS close_notify)."""
        self.socket.close()

    def can_retry(self) -> bool:
        """Whether a failure so far may be the server having dropped it while idle."""
        return self.reused and self.received == 0

    async def send_request(self, request: h11.Request, body: bytes) -> h11.Response:
        """Send the whole request in one write and wait for the final response head."""
        wire = self.h11.send(request) or b""
        if body:
            wire += b"".join(self.h11.send_with_data_passthrough(h11.Data(data=body)) or ())
        wire += self.h11.send(h11.EndOfMessage()) or b""
        try:
            await self.stream.send_all(wire)
        except trio.BrokenResourceError as exc:
            raise UpstreamWriteError(f"connection to {self.label} broke while sending") from exc
        while True:
            event = await self.next_event()
            if type(event) is h11.Response:
                return event
            if type(event) is not h11.InformationalResponse:
                raise UpstreamProtocolError(f"{self.label} sent no response head")

    async def next_event(self) -> h11.Event:
        """The next h11 event, receiving from the socket as needed."""
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                if self.eof:
                    message = f"{self.label} closed the connection mid-response"
                    raise UpstreamReadError(message) from exc
                raise UpstreamProtocolError(f"{self.label} sent invalid HTTP/1.1") from exc
            if event is h11.NEED_DATA:
                await self._receive()
            elif event is h11.PAUSED:
                raise UpstreamProtocolError(f"{self.label} sent data out of turn")
            else:
                return event  # type: ignore[return-value]  # the two sentinels are handled above

    async def _receive(self) -> None:
        try:
            data = await self.stream.receive_some(RECEIVE_SIZE)
        except trio.BrokenResourceError as exc:
            raise UpstreamReadError(f"connection to {self.label} was reset") from exc
        if data:
            self.received += len(data)
        elif self.received == 0:
            raise UpstreamReadError(f"{self.label} closed the connection before responding")
        else:
            self.eof = True
        self.h11.receive_data(data)  # type: ignore[arg-type]  # h11 takes bytearray too


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
