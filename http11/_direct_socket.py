"""``send_all`` / ``receive_some`` on a plain TCP stream's socket, without trio's wrappers.

``trio.SocketStream`` yields to the scheduler on every send and receive, even when
the kernel takes the bytes at once, and guards each call with a conflict detector.
On the gateway's hot path (a request read, a response written, the same upstream)
those checkpoints were a visible share of the CPU per request, so the HTTP server
and the upstream pool talk to plain TCP sockets through ``DirectSocket``: the system
call is tried first and trio is asked to wait only when it would block. Waiting is
still a checkpoint (so cancellation and fairness hold whenever a task waits); every
task here also waits on a channel once per request, so none can run unbounded.

TLS streams keep their ``trio.SSLStream``. Errors read as ``trio.SocketStream``'s do:
a reset or broken pipe is ``trio.BrokenResourceError``, a socket closed by this side
``trio.ClosedResourceError``. The file descriptor is looked up before every call
through the trio socket (``-1`` once closed), so a number the kernel has reused for
another connection is never read or written.
"""

from __future__ import annotations

import errno
import os

import trio

_CLOSED = "the socket was closed"


class DirectSocket:
    """The byte-stream half of a ``trio.SocketStream``, calling the kernel directly."""

    __slots__ = ("_socket",)

    def __init__(self, stream: trio.SocketStream) -> None:
        self._socket = stream.socket

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data)
        while view:
            fd = self._fd()
            try:
                sent = os.write(fd, view)
            except BlockingIOError:
                await trio.lowlevel.wait_writable(fd)
                continue
            except OSError as exc:
                raise _failure(exc) from exc
            view = view[sent:]

    async def receive_some(self, max_bytes: int) -> bytes:
        while True:
            fd = self._fd()
            try:
                return os.read(fd, max_bytes)
            except BlockingIOError:
                await trio.lowlevel.wait_readable(fd)
            except OSError as exc:
                raise _failure(exc) from exc

    def _fd(self) -> int:
        fd = self._socket.fileno()
        if fd < 0:
            raise trio.ClosedResourceError(_CLOSED)
        return fd


def _failure(exc: OSError) -> trio.BrokenResourceError | trio.ClosedResourceError:
    if exc.errno == errno.EBADF:
        return trio.ClosedResourceError(_CLOSED)
    return trio.BrokenResourceError(f"socket error: {exc.strerror or exc}")


def describe_peer(stream: trio.SocketStream) -> str:
    """Set TCP_NODELAY (trio's default, made explicit) and name the peer ``host:port``."""
    try:
        stream.setsockopt(trio.socket.IPPROTO_TCP, trio.socket.TCP_NODELAY, True)
        host, port = stream.socket.getpeername()[:2]
    except OSError:  # the client already reset the connection
        return "unknown"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


__all__ = ["DirectSocket", "describe_peer"]
