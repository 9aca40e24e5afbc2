"""HttpServer on 127.0.0.1 driven by real clients: h11 over trio streams, or raw bytes."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import h11
import pytest
import trio
import trio.testing

from http11.server import ClientGone, HttpRequest, HttpServer, ResponseWriter

TEST_DEADLINE_S = 10
JSON = [("content-type", "application/json")]

Route = Callable[[HttpRequest, ResponseWriter], Awaitable[None]]
Test = Callable[..., Awaitable[None]]

_client_streams: list[trio.SocketStream] = []


def bounded(seconds: float = TEST_DEADLINE_S) -> Callable[[Test], Test]:
    """Fail a hung test after ``seconds`` (virtual ones under autojump_clock)."""

    def decorate(test: Test) -> Test:
        @functools.wraps(test)
        async def run_with_deadline(*args: object, **kwargs: object) -> None:
            with trio.fail_after(seconds):
                await test(*args, **kwargs)

        return run_with_deadline

    return decorate


async def open_stream(port: int) -> trio.SocketStream:
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    _client_streams.append(stream)
    return stream


@pytest.fixture(autouse=True)
async def close_client_streams() -> AsyncIterator[None]:
    yield
    for stream in _client_streams:
        await stream.aclose()
    _client_streams.clear()


def render_error(
    status: int, message: str, target: str | None
) -> tuple[Sequence[tuple[str, str]], bytes]:
    """``target`` echoed, so tests see which request an error was for."""
    headers = [("content-type", "text/plain"), ("x-rendered", "yes")]
    return [*headers, ("x-target", target or "-")], f"{status}: {message}".encode()


async def echo(request: HttpRequest, writer: ResponseWriter) -> None:
    await writer.send_response(200, JSON, b'{"body":"%b"}' % request.body)


async def start_server(
    nursery: trio.Nursery, routes: dict[str, Route], **options: object
) -> tuple[HttpServer, int]:
    async def handler(request: HttpRequest, writer: ResponseWriter) -> None:
        await routes[request.target](request, writer)

    server = HttpServer(handler, render_error=render_error, **options)  # type: ignore[arg-type]
    port: int = await nursery.start(server.serve, "127.0.0.1", 0)
    return server, port


class Client:
    """An HTTP/1.1 client on one trio TCP stream, parsing with h11."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.h11 = h11.Connection(h11.CLIENT)

    @classmethod
    async def connect(cls, port: int) -> Client:
        return cls(await open_stream(port))

    async def send(self, *events: h11.Event) -> None:
        for event in events:
            data = self.h11.send(event)
            if data:
                await self.stream.send_all(data)

    async def send_request(
        self, method: str, target: str, body: bytes = b"", headers: Sequence[tuple[str, str]] = ()
    ) -> None:
        if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
            self.h11.start_next_cycle()
        length = (
            [] if method in ("GET", "HEAD") and not body else [("content-length", str(len(body)))]
        )
        all_headers = [("host", "test"), *length, *headers]
        await self.send(h11.Request(method=method, target=target, headers=all_headers))
        if body:
            await self.send(h11.Data(data=body))
        await self.send(h11.EndOfMessage())

    async def next_event(self) -> h11.Event:
        while True:
            event = self.h11.next_event()
            if event is not h11.NEED_DATA:
                return event  # type: ignore[return-value]
            self.h11.receive_data(await self.stream.receive_some(65536))

    async def read_response(self) -> tuple[h11.Response, bytes]:
        response = await self.next_event()
        assert isinstance(response, h11.Response), response
        body = b""
        while not isinstance(event := await self.next_event(), h11.EndOfMessage):
            assert isinstance(event, h11.Data), event
            body += event.data
        return response, body

    async def request(
        self, method: str, target: str, body: bytes = b"", headers: Sequence[tuple[str, str]] = ()
    ) -> tuple[h11.Response, bytes]:
        await self.send_request(method, target, body, headers)
        return await self.read_response()


async def send_raw(port: int, data: bytes) -> trio.SocketStream:
    stream = await open_stream(port)
    await stream.send_all(data)
    return stream


async def read_until_closed(stream: trio.SocketStream) -> bytes:
    received = b""
    while data := await stream.receive_some(65536):
        received += data
    return received


def header(response: h11.Response, name: bytes) -> bytes | None:
    return next((value for key, value in response.headers if key == name), None)


# -- keep-alive, bodies, HTTP versions ----------------------------------------------


@bounded()
async def test_keep_alive_serves_many_requests_on_one_connection(nursery: trio.Nursery) -> None:
    seen: list[HttpRequest] = []

    async def record(request: HttpRequest, writer: ResponseWriter) -> None:
        seen.append(request)
        await writer.send_response(200, JSON, b"{}")

    server, port = await start_server(nursery, {"/a": record})
    client = await Client.connect(port)
    for _ in range(3):
        response, body = await client.request("GET", "/a", headers=[("X-Trace", "t1")])
        assert (response.status_code, body) == (200, b"{}")
        assert header(response, b"connection") is None
        assert header(response, b"date") is not None
    assert len({request.client for request in seen}) == 1
    assert seen[0].method == "GET"
    assert seen[0].header("x-trace") == "t1"
    await server.wait_idle()  # the handler may not have returned yet when the answer is read
    stats = server.statistics()
    assert (stats.open_connections, stats.requests_served, stats.in_flight_requests) == (1, 3, 0)


@bounded()
async def test_request_bodies_with_content_length_and_chunked(nursery: trio.Nursery) -> None:
    _, port = await start_server(nursery, {"/echo": echo})
    client = await Client.connect(port)
    _, body = await client.request("POST", "/echo", b"plain")
    assert body == b'{"body":"plain"}'
    chunked = b"POST /echo HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n"
    chunked += b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"
    stream = await send_raw(
        port, chunked + b"GET /echo HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n"
    )
    received = await read_until_closed(stream)
    assert received.count(b"HTTP/1.1 200 OK\r\n") == 2  # the pipelined second request too
    assert b'{"body":"abcdefg"}' in received
    assert received.endswith(b'{"body":""}')


@bounded()
async def test_connection_close_and_http_1_0_are_honoured(nursery: trio.Nursery) -> None:
    async def stream_two(request: HttpRequest, writer: ResponseWriter) -> None:
        await writer.start_stream(200, JSON)
        await writer.send_chunk(b"one,")
        await writer.send_chunk(b"two")
        await writer.end_stream()

    _, port = await start_server(nursery, {"/echo": echo, "/stream": stream_two})
    client = await Client.connect(port)
    response, _ = await client.request("GET", "/echo", headers=[("connection", "close")])
    assert header(response, b"connection") == b"close"
    assert await client.stream.receive_some(100) == b""

    old = await read_until_closed(await send_raw(port, b"GET /echo HTTP/1.0\r\n\r\n"))
    assert old.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nconnection: close\r\n" in old
    assert old.endswith(b'\r\n\r\n{"body":""}')
    streamed = await read_until_closed(await send_raw(port, b"GET /stream HTTP/1.0\r\n\r\n"))
    assert b"transfer-encoding" not in streamed  # HTTP/1.0 has no chunks: EOF ends the body
    assert streamed.endswith(b"\r\n\r\none,two")


@bounded()
async def test_head_request_gets_headers_without_body(nursery: trio.Nursery) -> None:
    _, port = await start_server(nursery, {"/echo": echo})
    received = await read_until_closed(
        await send_raw(port, b"HEAD /echo HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n")
    )
    assert b"\r\ncontent-length: 11\r\n" in received
    assert received.endswith(b"\r\n\r\n")


@bounded()
async def test_expect_100_continue(nursery: trio.Nursery) -> None:
    _, port = await start_server(nursery, {"/echo": echo})
    client = await Client.connect(port)
    headers = [("host", "t"), ("content-length", "5"), ("expect", "100-continue")]
    await client.send(h11.Request(method="POST", target="/echo", headers=headers))
    interim = await client.next_event()
    assert isinstance(interim, h11.InformationalResponse)
    assert interim.status_code == 100
    await client.send(h11.Data(data=b"hello"), h11.EndOfMessage())
    response, body = await client.read_response()
    assert (response.status_code, body) == (200, b'{"body":"hello"}')


# -- streaming and disconnects ------------------------------------------------------


@bounded()
async def test_each_chunk_reaches_the_client_before_the_next_is_sent(
    nursery: trio.Nursery,
) -> None:
    first_received = trio.Event()

    async def stream(request: HttpRequest, writer: ResponseWriter) -> None:
        await writer.start_stream(200, [("content-type", "text/event-stream")])
        await writer.send_chunk(b"data: 1\n\n")
        await first_received.wait()  # never set if chunk 1 sits in a buffer
        await writer.send_chunk(b"data: 2\n\n")
        await writer.end_stream()

    _, port = await start_server(nursery, {"/s": stream})
    client = await Client.connect(port)
    await client.send_request("GET", "/s")
    response = await client.next_event()
    assert isinstance(response, h11.Response)
    assert header(response, b"transfer-encoding") == b"chunked"
    first = await client.next_event()
    assert isinstance(first, h11.Data)
    assert first.data == b"data: 1\n\n"
    first_received.set()
    second = await client.next_event()
    assert isinstance(second, h11.Data)
    assert second.data == b"data: 2\n\n"
    assert isinstance(await client.next_event(), h11.EndOfMessage)


@bounded()
async def test_head_first_piece_and_end_can_leave_in_one_write(nursery: trio.Nursery) -> None:
    async def whole(request: HttpRequest, writer: ResponseWriter) -> None:
        await writer.start_stream(200, JSON, b"all of it", last=True)

    async def two(request: HttpRequest, writer: ResponseWriter) -> None:
        await writer.start_stream(200, JSON, b"one,")
        await writer.send_chunk(b"two", last=True)
        with pytest.raises(RuntimeError):
            await writer.send_chunk(b"after the end")

    _, port = await start_server(nursery, {"/whole": whole, "/two": two})
    client = await Client.connect(port)
    await client.send_request("GET", "/whole")
    # the head, the only chunk and the last chunk, all from one call
    received = await client.stream.receive_some(65536)
    assert received.endswith(b"\r\n\r\n9\r\nall of it\r\n0\r\n\r\n")
    client.h11.receive_data(received)
    response, body = await client.read_response()
    assert (response.status_code, body) == (200, b"all of it")
    response, body = await client.request("GET", "/two")
    assert (response.status_code, body) == (200, b"one,two")
    streamed = await read_until_closed(await send_raw(port, b"GET /two HTTP/1.0\r\n\r\n"))
    assert streamed.endswith(b"\r\n\r\none,two")


@bounded()
async def test_client_disconnect_mid_stream_raises_client_gone(nursery: trio.Nursery) -> None:
    first_sent = trio.Event()
    client_closed = trio.Event()
    outcomes: list[str] = []

    async def stream(request: HttpRequest, writer: ResponseWriter) -> None:
        await writer.start_stream(200, [])
        await writer.send_chunk(b"first")
        first_sent.set()
        await client_closed.wait()
        try:
            for _ in range(200):  # the kernel reports the reset within a send or two
                await writer.send_chunk(b"more")
                await trio.sleep(0.005)
        except ClientGone:
            outcomes.append("send_chunk")
        with pytest.raises(ClientGone):
            await writer.end_stream()
        outcomes.append("end_stream")
        raise ClientGone  # as a handler that lets it escape would

    server, port = await start_server(nursery, {"/s": stream})
    client = await Client.connect(port)
    await client.send_request("GET", "/s")
    await first_sent.wait()
    await client.next_event()
    await client.stream.aclose()
    client_closed.set()
    await server.wait_idle()
    assert outcomes == ["send_chunk", "end_stream"]
    assert server.statistics().handler_errors == 0


# -- errors ---------------------------------------------------------------------------


@bounded()
async def test_body_over_limit_by_content_length_is_413_without_reading(
    nursery: trio.Nursery,
) -> None:
    _, port = await start_server(nursery, {"/echo": echo}, max_body_bytes=100)
    head = b"POST /echo HTTP/1.1\r\nhost: t\r\ncontent-length: 101\r\n\r\n"
    received = await read_until_closed(await send_raw(port, head))  # no body is ever sent
    assert received.startswith(b"HTTP/1.1 413 Request Entity Too Large\r\n")
    assert b"\r\nx-rendered: yes\r\n" in received
    assert b"\r\nconnection: close\r\n" in received
    assert received.endswith(b"413: request body too large")


@bounded()
async def test_chunked_body_over_limit_is_413(nursery: trio.Nursery) -> None:
    handled: list[HttpRequest] = []

    async def record(request: HttpRequest, writer: ResponseWriter) -> None:
        handled.append(request)
        await writer.send_response(200, [], b"")

    server, port = await start_server(nursery, {"/r": record}, max_body_bytes=100)
    stream = await send_raw(
        port, b"POST /r HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    await stream.send_all(b"40\r\n" + b"x" * 64 + b"\r\n")
    await stream.send_all(b"40\r\n" + b"x" * 64 + b"\r\n")  # 128 > 100; no final chunk
    received = await read_until_closed(stream)
    assert received.startswith(b"HTTP/1.1 413 ")
    assert handled == []
    assert server.statistics().protocol_errors == 1


@bounded()
async def test_body_at_the_limit_is_accepted(nursery: trio.Nursery) -> None:
    _, port = await start_server(nursery, {"/echo": echo}, max_body_bytes=5)
    _, body = await (await Client.connect(port)).request("POST", "/echo", b"12345")
    assert body == b'{"body":"12345"}'


@bounded()
async def test_garbage_is_400_and_connection_closes(nursery: trio.Nursery) -> None:
    server, port = await start_server(nursery, {"/echo": echo})
    received = await read_until_closed(await send_raw(port, b"NOT HTTP AT ALL\r\n\r\n"))
    assert received.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"\r\nx-rendered: yes\r\n" in received
    assert server.statistics().protocol_errors == 1
    response, _ = await (await Client.connect(port)).request("GET", "/echo")
    assert response.status_code == 200


@bounded()
async def test_oversized_head_is_431(nursery: trio.Nursery) -> None:
    _, port = await start_server(nursery, {"/echo": echo})
    head = b"GET /echo HTTP/1.1\r\nhost: t\r\nx-big: " + b"a" * 150_000 + b"\r\n\r\n"
    received = await read_until_closed(await send_raw(port, head))
    assert received.startswith(b"HTTP/1.1 431 ")


@bounded()
async def test_handler_exception_is_500_reported_and_the_server_goes_on(
    nursery: trio.Nursery,
) -> None:
    reported: list[Exception] = []

    async def boom(request: HttpRequest, writer: ResponseWriter) -> None:
        raise KeyError("bug")

    async def silent(request: HttpRequest, writer: ResponseWriter) -> None:
        return

    routes: dict[str, Route] = {"/boom": boom, "/silent": silent, "/echo": echo}
    server, port = await start_server(nursery, routes, on_handler_error=reported.append)
    for target in ("/boom", "/silent"):
        client = await Client.connect(port)
        response, body = await client.request("GET", target)
        assert (response.status_code, body) == (500, b"500: internal server error")
        assert header(response, b"connection") == b"close"
        assert await client.stream.receive_some(100) == b""
    assert isinstance(reported[0], KeyError)
    assert isinstance(reported[1], RuntimeError)
    assert "unanswered" in str(reported[1])
    assert server.statistics().handler_errors == 2
    response, _ = await (await Client.connect(port)).request("GET", "/echo")
    assert response.status_code == 200


@bounded()
async def test_client_gone_from_a_handler_nursery_is_not_a_handler_error(
    nursery: trio.Nursery,
) -> None:
    reported: list[Exception] = []

    async def grouped(request: HttpRequest, writer: ResponseWriter) -> None:
        raise ExceptionGroup("handler tasks", [ClientGone()])

    server, port = await start_server(nursery, {"/g": grouped}, on_handler_error=reported.append)
    client = await Client.connect(port)
    await client.send_request("GET", "/g")
    assert await client.stream.receive_some(100) == b""
    assert reported == []
    assert server.statistics().handler_errors == 0


@bounded()
async def test_writer_refuses_header_injection_and_framing_headers(
    nursery: trio.Nursery,
) -> None:
    refused: list[str] = []

    async def careless(request: HttpRequest, writer: ResponseWriter) -> None:
        for headers in ([("x-id", "a\r\nset-cookie: evil=1")], [("Content-Length", "3")]):
            with pytest.raises(ValueError) as caught:
                await writer.send_response(200, headers, b"abc")
            refused.append(str(caught.value))
        assert not writer.started
        await writer.send_response(200, [("x-id", "a")], b"abc")

    _, port = await start_server(nursery, {"/c": careless})
    response, body = await (await Client.connect(port)).request("GET", "/c")
    assert (response.status_code, body) == (200, b"abc")
    assert len(refused) == 2


# -- timeouts (virtual time) -------------------------------------------------------------


@bounded(seconds=300)
async def test_idle_keep_alive_timeout_closes_quietly(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    _, port = await start_server(nursery, {"/echo": echo}, keepalive_timeout_s=75.0)
    client = await Client.connect(port)
    await client.request("GET", "/echo")
    idle_since = trio.current_time()
    assert await client.stream.receive_some(100) == b""
    assert 75.0 <= trio.current_time() - idle_since <= 77.0


@bounded(seconds=300)
async def test_header_timeout_closes_quietly(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    _, port = await start_server(nursery, {"/echo": echo}, header_timeout_s=30.0)
    started = trio.current_time()
    silent = await open_stream(port)
    partial = await send_raw(port, b"GET /echo HTTP/1.1\r\nhost: t\r\n")
    assert await read_until_closed(silent) == b""
    assert await read_until_closed(partial) == b""
    assert 30.0 <= trio.current_time() - started <= 32.0


@bounded(seconds=300)
async def test_next_head_on_a_kept_alive_connection_has_the_header_timeout(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    options = {"keepalive_timeout_s": 75.0, "header_timeout_s": 30.0}
    _, port = await start_server(nursery, {"/echo": echo}, **options)
    client = await Client.connect(port)
    await client.request("GET", "/echo")
    await trio.sleep(50.0)  # idle, within the keep-alive timeout
    await client.stream.send_all(b"GET /echo HTTP/1.1\r\n")
    started = trio.current_time()
    assert await read_until_closed(client.stream) == b""
    assert 30.0 <= trio.current_time() - started <= 32.0


@bounded(seconds=300)
async def test_slow_body_times_out_quietly(
    nursery: trio.Nursery, autojump_clock: trio.testing.MockClock
) -> None:
    _, port = await start_server(nursery, {"/echo": echo}, body_timeout_s=10.0)
    stream = await send_raw(port, b"POST /echo HTTP/1.1\r\nhost: t\r\ncontent-length: 9\r\n\r\nabc")
    answer = await read_until_closed(stream)  # the head came whole: the client is told why
    assert answer.startswith(b"HTTP/1.1 408 ") and answer.endswith(b"not received within 10s")


# -- graceful shutdown ------------------------------------------------------------------


@bounded()
async def test_graceful_stop_finishes_in_flight_and_refuses_new() -> None:
    started, release = trio.Event(), trio.Event()

    async def slow(request: HttpRequest, writer: ResponseWriter) -> None:
        started.set()
        await release.wait()
        await writer.send_response(200, JSON, b'"done"')

    async with trio.open_nursery() as nursery:
        server, port = await start_server(nursery, {"/slow": slow, "/echo": echo})
        idle = await Client.connect(port)
        await idle.request("GET", "/echo")
        busy = await Client.connect(port)
        await busy.send_request("GET", "/slow")
        await started.wait()

        server.stop_accepting()
        with pytest.raises(OSError):
            await trio.open_tcp_stream("127.0.0.1", port)
        assert await idle.stream.receive_some(100) == b""
        idle_reached = trio.Event()

        async def wait_idle() -> None:
            await server.wait_idle()
            idle_reached.set()

        nursery.start_soon(wait_idle)
        await trio.testing.wait_all_tasks_blocked()
        assert not idle_reached.is_set()
        assert server.statistics().in_flight_requests == 1

        release.set()
        response, body = await busy.read_response()
        assert (response.status_code, body) == (200, b'"done"')
        assert header(response, b"connection") == b"close"
        await idle_reached.wait()
    # Leaving the nursery means serve() returned by itself once its connections closed.
    assert server.statistics().open_connections == 0
