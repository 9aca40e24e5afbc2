"""Closed-loop HTTP/1.1 load over raw trio sockets: one keep-alive connection per client.

Each client sends a request, reads the whole response (``Content-Length`` or chunked),
checks the status and a marker that only a complete answer contains, and sends the
next one at once. Per request it records the latency to the last byte and the time to
the first body byte (TTFB). A cell starts its measured window once every client has
connected and sent ``WARMUP_REQUESTS``, and ends when the duration or the request
budget is used up and the requests in flight have finished.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import trio

RECEIVE_SIZE = 262144
WARMUP_REQUESTS = 2
CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)")
CHUNKED = re.compile(rb"\r\ntransfer-encoding:[^\r]*chunked")
CONNECTION_CLOSE = re.compile(rb"\r\nconnection:[^\r]*close")
PROMPT = (
    "Summarise the following change for a reviewer in two sentences: the gateway now "
    "keeps one upstream connection per provider and reuses it across requests, and the "
    "audit logger writes its events in batches off the request path."
)
Probe = TypeVar("Probe")


@dataclass(frozen=True, slots=True, kw_only=True)
class Workload:
    """One kind of request, and how to tell that its answer arrived whole."""

    name: str
    path: str
    body: bytes
    streaming: bool
    done_marker: bytes


def _json(text: str) -> bytes:
    return text.encode()


WORKLOADS: dict[str, Workload] = {
    "chat": Workload(
        name="chat",
        path="/chat/completions",
        body=_json(
            '{"model":"gpt-bench","messages":[{"role":"system","content":"Be terse."},'
            f'{{"role":"user","content":"{PROMPT}"}}]}}'
        ),
        streaming=False,
        done_marker=b"finish_reason",
    ),
    "chat-stream": Workload(
        name="chat-stream",
        path="/chat/completions",
        body=_json(
            '{"model":"gpt-bench","stream":true,"messages":[{"role":"system","content":'
            f'"Be terse."}},{{"role":"user","content":"{PROMPT}"}}]}}'
        ),
        streaming=True,
        done_marker=b"[DONE]",
    ),
    "responses-stream": Workload(
        name="responses-stream",
        path="/responses",
        body=_json(
            '{"model":"gpt-bench","stream":true,"instructions":"Be terse.","input":'
            f'[{{"role":"user","content":[{{"type":"input_text","text":"{PROMPT}"}}]}}]}}'
        ),
        streaming=True,
        done_marker=b"response.completed",
    ),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """Something to send the load to: the fake itself, the gateway or a peer."""

    name: str
    port: int
    prefix: str = "/v1"
    headers: tuple[tuple[str, str], ...] = ()

    def request(self, workload: Workload) -> bytes:
        lines = [
            f"POST {self.prefix}{workload.path} HTTP/1.1",
            f"host: 127.0.0.1:{self.port}",
            "content-type: application/json",
            f"content-length: {len(workload.body)}",
            *(f"{name}: {value}" for name, value in self.headers),
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + workload.body


class ResponseError(Exception):
    """The answer was not a complete 200 with the workload's marker."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Exchange:
    first_body_at: float
    finished_at: float
    keep_alive: bool


class Connection:
    """One client's keep-alive connection and the bytes read past the last answer."""

    def __init__(self, sock: trio.socket.SocketType) -> None:
        self._sock = sock
        self._buffer = b""
        self._received_at = 0.0

    @classmethod
    async def open(cls, port: int) -> Connection:
        sock = trio.socket.socket(trio.socket.AF_INET, trio.socket.SOCK_STREAM)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            await sock.connect(("127.0.0.1", port))
        except BaseException:
            sock.close()
            raise
        return cls(sock)

    def close(self) -> None:
        self._sock.close()

    async def exchange(self, request: bytes, done_marker: bytes) -> Exchange:
        """Send ``request`` and read its whole answer."""
        view = memoryview(request)
        while view:
            view = view[await self._sock.send(view) :]
        head_end = await self._find(b"\r\n\r\n", 0)
        head = self._buffer[:head_end].lower()
        body_start = head_end + 4
        if len(self._buffer) == body_start:
            await self._receive()
        first_body_at = self._received_at
        if (length := CONTENT_LENGTH.search(head)) is not None:
            end = body_start + int(length.group(1))
            await self._fill_to(end)
            body = self._buffer[body_start:end]
        elif CHUNKED.search(head):
            body, end = await self._chunked_body(body_start)
        else:
            raise ResponseError("answer without content-length or chunked encoding")
        self._buffer = self._buffer[end:]
        if head[9:12] != b"200" or done_marker not in body:
            raise ResponseError(f"{head[:12]!r}: {body[:200]!r}")
        return Exchange(
            first_body_at=first_body_at,
            finished_at=self._received_at,
            keep_alive=CONNECTION_CLOSE.search(head) is None,
        )

    async def _chunked_body(self, start: int) -> tuple[bytes, int]:
        pieces: list[bytes] = []
        position = start
        while True:
            line_end = await self._find(b"\r\n", position)
            size = int(self._buffer[position:line_end].split(b";", 1)[0], 16)
            if size == 0:
                return b"".join(pieces), await self._find(b"\r\n\r\n", line_end) + 4
            data_end = line_end + 2 + size
            await self._fill_to(data_end + 2)
            pieces.append(self._buffer[line_end + 2 : data_end])
            position = data_end + 2

    async def _find(self, token: bytes, start: int) -> int:
        while (index := self._buffer.find(token, start)) < 0:
            await self._receive()
        return index

    async def _fill_to(self, size: int) -> None:
        while len(self._buffer) < size:
            await self._receive()

    async def _receive(self) -> None:
        data = await self._sock.recv(RECEIVE_SIZE)
        if not data:
            raise ResponseError("connection closed mid-answer")
        self._received_at = time.perf_counter()
        self._buffer += data


@dataclass(slots=True, kw_only=True)
class _Recorder:
    latencies_s: list[float] = field(default_factory=list)
    ttfbs_s: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None
    answered: int = 0  # complete answers, warm-up included

    def failed(self, problem: BaseException) -> None:
        self.errors += 1
        if self.first_error is None:
            self.first_error = f"{type(problem).__name__}: {problem}"[:300]


class _Window(Generic[Probe]):
    """The measured window: opens when every client is warm, closes at the deadline."""

    def __init__(
        self, *, clients: int, duration_s: float, max_requests: int, probe: Callable[[], Probe]
    ) -> None:
        self._waiting = clients
        self._duration_s = duration_s
        self._left = max_requests
        self._probe = probe
        self._open = trio.Event()
        self.started_at = 0.0
        self.stop_at = float("inf")
        self.start_probe: Probe | None = None
        self.cpu_at_start = 0.0

    async def arrive(self) -> None:
        self._waiting -= 1
        if self._waiting == 0:
            self.start_probe = self._probe()
            self.cpu_at_start = time.process_time()
            self.started_at = time.perf_counter()
            self.stop_at = self.started_at + self._duration_s
            self._open.set()
        await self._open.wait()

    def take(self) -> bool:
        if self._left <= 0 or time.perf_counter() >= self.stop_at:
            return False
        self._left -= 1
        return True


@dataclass(frozen=True, slots=True, kw_only=True)
class CellLoad(Generic[Probe]):
    """What one cell measured; the probes bracket the window."""

    latencies_s: tuple[float, ...]
    ttfbs_s: tuple[float, ...]
    errors: int
    first_error: str | None
    answered: int
    wall_s: float
    loadgen_cpu_s: float
    start_probe: Probe
    end_probe: Probe
    timed_out: bool


async def run_cell(
    target: Target,
    workload: Workload,
    *,
    clients: int,
    duration_s: float,
    max_requests: int,
    request_timeout_s: float,
    probe: Callable[[], Probe],
) -> CellLoad[Probe]:
    """Run ``clients`` closed loops against ``target`` and measure the window."""
    window = _Window(clients=clients, duration_s=duration_s, max_requests=max_requests, probe=probe)
    recorder = _Recorder()
    request = target.request(workload)
    with trio.move_on_after(duration_s + request_timeout_s + 10) as scope:
        async with trio.open_nursery() as nursery:
            for _ in range(clients):
                nursery.start_soon(
                    _client,
                    target.port,
                    request,
                    workload.done_marker,
                    window,
                    recorder,
                    request_timeout_s,
                )
    ended_at = time.perf_counter()
    end_probe = probe()
    started = window.started_at or ended_at
    return CellLoad(
        latencies_s=tuple(recorder.latencies_s),
        ttfbs_s=tuple(recorder.ttfbs_s),
        errors=recorder.errors,
        first_error=recorder.first_error,
        answered=recorder.answered,
        wall_s=max(ended_at - started, 1e-9),
        loadgen_cpu_s=time.process_time() - (window.cpu_at_start or time.process_time()),
        start_probe=window.start_probe if window.start_probe is not None else end_probe,
        end_probe=end_probe,
        timed_out=scope.cancelled_caught,
    )


async def _client(
    port: int,
    request: bytes,
    marker: bytes,
    window: _Window[Probe],
    recorder: _Recorder,
    request_timeout_s: float,
) -> None:
    connection: Connection | None = None
    try:
        for _ in range(WARMUP_REQUESTS):
            connection = await _send_one(
                connection, port, request, marker, None, recorder, request_timeout_s
            )
        await window.arrive()
        while window.take():
            connection = await _send_one(
                connection, port, request, marker, recorder, recorder, request_timeout_s
            )
    finally:
        if connection is not None:
            connection.close()


async def _send_one(
    connection: Connection | None,
    port: int,
    request: bytes,
    marker: bytes,
    sink: _Recorder | None,
    recorder: _Recorder,
    timeout_s: float,
) -> Connection | None:
    """One request (recorded into ``sink`` when given); the connection to use next."""
    started = time.perf_counter()
    try:
        with trio.fail_after(timeout_s):
            if connection is None:
                connection = await Connection.open(port)
                started = time.perf_counter()
            exchange = await connection.exchange(request, marker)
    except (OSError, ResponseError, ValueError, trio.TooSlowError) as problem:
        recorder.failed(problem)
        if connection is not None:
            connection.close()
        return None
    recorder.answered += 1
    if sink is not None:
        sink.latencies_s.append(exchange.finished_at - started)
        sink.ttfbs_s.append(exchange.first_body_at - started)
    if not exchange.keep_alive:
        connection.close()
        return None
    return connection
