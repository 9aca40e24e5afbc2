"""HttpServer against slow and hostile clients: total read deadlines, a write deadline,
a head-time check that answers before the body is read, and a server-wide cap on body
bytes being read. Real sockets on 127.0.0.1."""

from __future__ import annotations

import contextlib
import socket

import pytest
import trio
import trio.testing

from http11.server import (
    ClientGone,
    EarlyResponse,
    HttpHead,
    HttpRequest,
    HttpServer,
    ResponseWriter,
)
from tests.http11.test_server import (
    JSON,
    Client,
    bounded,
    echo,
    read_until_closed,
    render_error,
    send_raw,
    start_server,
)


async def open_small_window(port: int) -> trio.SocketStream:
    """A client socket with a tiny receive buffer, so that a peer's writes block soon."""
    sock = trio.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    await sock.connect(("127.0.0.1", port))
    return trio.SocketStream(sock)


@bounded(seconds=300)
async def test_trickled_body_is_cut_at_the_total_body_deadline(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    _, port = await start_server(nursery, {"/echo": echo}, body_timeout_s=10.0)
    stream = await send_raw(port, b"POST /echo HTTP/1.1\r\nhost: t\r\ncontent-length: 99\r\n\r\n")
    started = trio.current_time()

    async def trickle() -> None:  # one byte every 2 s: each gap is well under 10 s
        for _ in range(98):
            await trio.sleep(2.0)
            try:
                await stream.send_all(b"x")
            except trio.BrokenResourceError:
                return

    nursery.start_soon(trickle)
    answer = b""
    with contextlib.suppress(trio.BrokenResourceError):  # a byte sent after the close: reset
        while data := await stream.receive_some(65536):
            answer += data
    assert answer.startswith(b"HTTP/1.1 408 ") or answer == b"", answer
    assert 10.0 <= trio.current_time() - started <= 12.5


@bounded(seconds=20)
async def test_a_client_that_stops_reading_is_dropped_at_the_write_deadline(
    nursery: trio.Nursery,
) -> None:
    outcome: list[str] = []

    async def firehose(request: HttpRequest, writer: ResponseWriter) -> None:
        await writer.start_stream(200, JSON)
        try:
            while True:
                await writer.send_chunk(b"x" * 65536)
        except ClientGone:
            outcome.append(f"gone after {trio.current_time() - started:.1f}s")
            raise

    _, port = await start_server(nursery, {"/fire": firehose}, write_timeout_s=1.0)
    stream = await open_small_window(port)
    started = trio.current_time()
    await stream.send_all(b"GET /fire HTTP/1.1\r\nhost: t\r\n\r\n")
    with trio.fail_after(5):
        while not outcome:
            await trio.sleep(0.05)
    print(outcome[0])
    assert trio.current_time() - started < 4.0
    await stream.aclose()


def refuse_without_key(head: HttpHead, client: str) -> EarlyResponse | None:
    if any(name == "authorization" for name, _ in head.headers):
        return None
    return EarlyResponse(status=401, headers=(("x-why", "no key"),), body=b"no key")


@bounded()
async def test_a_head_check_answers_before_the_body_is_read(nursery: trio.Nursery) -> None:
    seen: list[bytes] = []

    async def record(request: HttpRequest, writer: ResponseWriter) -> None:
        seen.append(request.body)
        await writer.send_response(200, JSON, b"{}")

    server, port = await start_server(nursery, {"/p": record}, head_check=refuse_without_key)
    # a 10 MB body is announced and never sent: the answer cannot wait for it
    stream = await send_raw(
        port, b"POST /p HTTP/1.1\r\nhost: t\r\ncontent-length: 10000000\r\n\r\n"
    )
    with trio.fail_after(2):
        answer = await read_until_closed(stream)
    assert answer.startswith(b"HTTP/1.1 401 ")
    assert b"connection: close\r\n" in answer and b"x-why: no key\r\n" in answer
    assert answer.endswith(b"\r\n\r\nno key")
    assert seen == []
    client = await Client.connect(port)
    response, _ = await client.request("POST", "/p", b"ok", [("authorization", "k")])
    assert response.status_code == 200 and seen == [b"ok"]
    statistics = server.statistics()
    assert statistics.requests_refused_early == 1 and statistics.in_flight_requests == 0


@bounded()
async def test_bodies_being_read_are_capped_across_connections(nursery: trio.Nursery) -> None:
    server, port = await start_server(
        nursery, {"/echo": echo}, max_body_bytes=200_000, max_buffered_body_bytes=100_000
    )
    head = b"POST /echo HTTP/1.1\r\nhost: t\r\ncontent-length: 80000\r\n\r\n"
    first = await send_raw(port, head + b"a" * 70_000)
    with trio.fail_after(2):
        while server.statistics().body_bytes_buffered < 70_000:
            await trio.sleep(0.01)
    second = await send_raw(port, head + b"b" * 70_000)
    with trio.fail_after(2):
        refused = await read_until_closed(second)
    assert refused.startswith(b"HTTP/1.1 503 ") and b"retry-after: 1\r\n" in refused.lower()
    await first.send_all(b"a" * 10_000)
    answer = await first.receive_some(200_000)
    assert answer.startswith(b"HTTP/1.1 200 ")
    with trio.fail_after(2):
        while server.statistics().body_bytes_buffered:
            await trio.sleep(0.01)


def test_server_timeouts_reject_nonsense() -> None:
    for name in ("header_timeout_s", "body_timeout_s", "write_timeout_s"):
        for value in (0.0, -1.0, float("inf"), float("nan")):
            with pytest.raises(ValueError, match=name):
                HttpServer(echo, render_error=render_error, **{name: value})  # type: ignore[arg-type]
