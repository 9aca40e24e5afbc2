"""A small HTTP/1.1 server on trio: keep-alive, chunked streaming, graceful stop.

It knows nothing about the gateway's routes: it parses one request at a time per
connection, hands a frozen ``HttpRequest`` and a ``ResponseWriter`` to the handler,
and answers protocol-level errors (400, 413, 431, 500) through the caller's
``render_error`` so every error body has the caller's shape.

The request path is kept lean on purpose (the gateway's overhead budget is a
fraction of a millisecond): no logging, one 64 KiB receive per read, TCP_NODELAY,
requests parsed by the small strict parser in ``http11.sansio.head`` (h11 cost a third
of the server's CPU per request) and responses encoded directly, a whole response
in one ``send_all``, and every streamed chunk written at once. Requests that could
smuggle a second one past a proxy (Content-Length with Transfer-Encoding, repeated
or listed lengths, obs-fold, bad chunk sizes…) are answered 400.

Timeouts (all close the connection quietly; a reaper task checks them at most a
second apart, so they may fire up to a second late). Each is one deadline, set once,
that a client trickling bytes cannot extend:

* a fresh connection must deliver its first request head within ``header_timeout_s``;
* between requests, a keep-alive connection may idle for ``keepalive_timeout_s``,
  and once the next request's first byte arrives its head must be complete within
  ``header_timeout_s``;
* a body must be complete within ``body_timeout_s`` of its head;
* a write may block (the client stopped reading) for ``write_timeout_s``; then the
  client is dropped and the handler's write raises ``ClientGone``.

Hostile clients, before the handler runs: ``head_check`` (if given) sees each parsed
head and may answer it at once (say, a 401), so the body is never read or buffered;
the bytes of bodies being read are summed over all connections and a body that would
take the sum past ``max_buffered_body_bytes`` is answered 503 with ``Retry-After``.

A request is *in flight* from its first byte until its response has been sent
(or abandoned); ``wait_idle`` waits for that count to reach zero.

A handler may switch its connection to WebSocket (``ResponseWriter.switch_protocols``,
used by ``http11.websocket.accept_websocket``): the connection is then the handler's
until it returns, counted in flight; waiting for the next message is idle time (the
keep-alive timeout applies, and a shutdown closes it), a message once begun has the
body timeout, and its bytes count with the bodies being read.
"""

from __future__ import annotations

import errno
import math
import socket
from dataclasses import dataclass

import trio

from http11._server_connection import HttpConnection
from http11._server_exchange import (
    ClientGone,
    EarlyResponse,
    ErrorRenderer,
    Handler,
    HandlerErrorHook,
    HeadCheck,
    HttpHead,
    HttpRequest,
    ReplyWriter,
    ResponseWriter,
)
from http11._server_state import ServerState


async def _shared_port_listener(host: str, port: int) -> trio.SocketListener:
    """A listener whose port other processes may listen on too: the kernel spreads new
    connections among them (``serve --workers``)."""
    family = trio.socket.AF_INET6 if ":" in host else trio.socket.AF_INET
    sock = trio.socket.socket(family, trio.socket.SOCK_STREAM)
    try:
        sock.setsockopt(trio.socket.SOL_SOCKET, trio.socket.SO_REUSEADDR, 1)
        sock.setsockopt(trio.socket.SOL_SOCKET, trio.socket.SO_REUSEPORT, 1)
        await sock.bind((host, port))
        sock.listen(LISTEN_BACKLOG)
    except BaseException:
        sock.close()
        raise
    return trio.SocketListener(sock)


LISTEN_BACKLOG = 4096


def free_port(host: str) -> int:
    """A port nothing listens on now (``serve --workers`` with port 0 picks one first)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


__all__ = [
    "ClientGone",
    "EarlyResponse",
    "ErrorRenderer",
    "Handler",
    "HandlerErrorHook",
    "HeadCheck",
    "HttpHead",
    "HttpRequest",
    "HttpServer",
    "ReplyWriter",
    "ResponseWriter",
    "ServerStatistics",
    "free_port",
]


MIB = 1024 * 1024

# accept() errors that mean "out of file descriptors or memory for now": wait and retry.
_ACCEPT_CAPACITY_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS})
_ACCEPT_RETRY_S = 0.1
# How often expired read deadlines are looked for: timeouts fire up to this much late.
_REAP_INTERVAL_MAX_S = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerStatistics:
    """A snapshot of the server for the health endpoint."""

    accepting: bool
    open_connections: int
    in_flight_requests: int
    requests_served: int
    """Requests whose handler has returned or raised."""
    handler_errors: int
    """Handlers that raised (other than ``ClientGone``) or left their request unanswered."""
    protocol_errors: int
    """Requests answered 400/413/431/503 before reaching the handler."""
    requests_refused_early: int
    """Requests the head check answered before their body was read (bad keys)."""
    body_bytes_buffered: int
    """Bytes of request bodies being read right now, over all connections."""
    bodies_over_cap: int
    """Requests answered 503 because ``max_buffered_body_bytes`` was reached."""
    stalled_writers_dropped: int
    """Clients dropped because a response write blocked past ``write_timeout_s``."""


class HttpServer:
    """Serves ``handler`` on one TCP address until cancelled.

    Graceful shutdown: ``stop_accepting()`` closes the listening sockets and every
    idle keep-alive connection; in-flight requests finish and their responses carry
    ``Connection: close``; ``wait_idle()`` returns once none is left (wrap it in a
    deadline, then cancel ``serve``).

    A handler that raises (anything but ``ClientGone``) or returns without answering
    is reported to ``on_handler_error``; the client gets a 500 if nothing was sent
    yet, and its connection is closed. The server goes on serving.
    """

    def __init__(
        self,
        handler: Handler,
        *,
        render_error: ErrorRenderer,
        on_handler_error: HandlerErrorHook | None = None,
        head_check: HeadCheck | None = None,
        max_body_bytes: int = 16 * MIB,
        max_buffered_body_bytes: int = 256 * MIB,
        keepalive_timeout_s: float = 75.0,
        header_timeout_s: float = 30.0,
        body_timeout_s: float = 60.0,
        write_timeout_s: float = 30.0,
        max_connections: int = 4096,
        reuse_port: bool = False,
    ) -> None:
        self._reuse_port = reuse_port  # several processes listen on one port (SO_REUSEPORT)
        timeouts = {
            "keepalive_timeout_s": keepalive_timeout_s,
            "header_timeout_s": header_timeout_s,
            "body_timeout_s": body_timeout_s,
            "write_timeout_s": write_timeout_s,
        }
        for name, value in timeouts.items():
            if not 0 < value < math.inf:
                raise ValueError(f"{name} must be a positive finite number, got {value!r}")
        self._state: ServerState[HttpConnection] = ServerState(
            handler,
            render_error=render_error,
            on_handler_error=on_handler_error,
            head_check=head_check,
            max_body_bytes=max_body_bytes,
            max_buffered_body_bytes=max_buffered_body_bytes,
            **timeouts,
        )
        self._connection_slots = trio.Semaphore(max_connections)
        self._listeners: list[trio.SocketListener] = []

    async def serve(
        self, host: str, port: int, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Listen on ``host:port`` (port 0 picks a free one) and serve until cancelled.

        ``task_status.started`` receives the bound port. After ``stop_accepting()``
        this returns by itself once every connection has closed.
        """
        if self._reuse_port:
            listeners = [await _shared_port_listener(host, port)]
        else:
            listeners = await trio.open_tcp_listeners(port, host=host)
        self._listeners = listeners
        try:
            async with trio.open_nursery() as reaping:
                reaping.start_soon(self._reap_expired)
                async with trio.open_nursery() as connections:
                    for listener in listeners:
                        connections.start_soon(self._accept_loop, listener, connections)
                    task_status.started(listeners[0].socket.getsockname()[1])
                    if not self._state.accepting:
                        self.stop_accepting()
                reaping.cancel_scope.cancel()
        finally:
            self._close_listeners()

    def stop_accepting(self) -> None:
        """Refuse new connections and close idle ones; in-flight requests go on."""
        state = self._state
        state.accepting = False
        self._close_listeners()
        for connection in state.connections:
            connection.cancel_if_idle()

    async def wait_idle(self) -> None:
        """Return once no request is in flight."""
        state = self._state
        if not state.in_flight:
            await trio.lowlevel.checkpoint()
        while state.in_flight:
            if state.idle_event is None:
                state.idle_event = trio.Event()
            await state.idle_event.wait()

    def statistics(self) -> ServerStatistics:
        state = self._state
        return ServerStatistics(
            accepting=state.accepting,
            open_connections=len(state.connections),
            in_flight_requests=state.in_flight,
            requests_served=state.requests_served,
            handler_errors=state.handler_errors,
            protocol_errors=state.protocol_errors,
            requests_refused_early=state.requests_refused_early,
            body_bytes_buffered=state.body_bytes_buffered,
            bodies_over_cap=state.bodies_over_cap,
            stalled_writers_dropped=state.stalled_writers_dropped,
        )

    async def _accept_loop(self, listener: trio.SocketListener, nursery: trio.Nursery) -> None:
        slots = self._connection_slots
        while True:
            await slots.acquire()
            try:
                stream = await listener.accept()
            except trio.ClosedResourceError:
                slots.release()
                return
            except OSError as exc:
                slots.release()
                if exc.errno not in _ACCEPT_CAPACITY_ERRNOS:
                    raise
                await trio.sleep(_ACCEPT_RETRY_S)
                continue
            nursery.start_soon(self._run_connection, stream)

    async def _run_connection(self, stream: trio.SocketStream) -> None:
        try:
            await HttpConnection(self._state, stream).run()
        finally:
            self._connection_slots.release()

    async def _reap_expired(self) -> None:
        """Close connections whose read deadline has passed (see ``_server_connection``)."""
        state = self._state
        shortest = min(
            state.header_timeout_s,
            state.keepalive_timeout_s,
            state.body_timeout_s,
            state.write_timeout_s,
        )
        interval = min(_REAP_INTERVAL_MAX_S, shortest / 4)
        while True:
            await trio.sleep(interval)
            now = trio.current_time()
            for connection in state.connections:
                connection.cancel_if_expired(now)

    def _close_listeners(self) -> None:
        for listener in self._listeners:
            listener.socket.close()
