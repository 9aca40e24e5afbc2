"""UpstreamPool against small trio + h11 servers on 127.0.0.1 (plain and TLS)."""

from __future__ import annotations

import functools
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial

import h11
import pytest
import trio
import trio.testing
import trustme

from http11.client import (
    RECENTLY_IDLE_S,
    UpstreamConnectError,
    UpstreamPool,
    UpstreamProtocolError,
    UpstreamReadError,
    default_ssl_context,
)

JSON = [("content-type", "application/json")]
TEST_DEADLINE_S = 10


class ServerExchange:
    """One request as the test server saw it, and the means to answer it."""

    def __init__(
        self, stream: trio.abc.Stream, conn: h11.Connection, request: h11.Request, body: bytes
    ) -> None:
        self.stream = stream
        self.conn = conn
        self.request = request
        self.body = body
        self.dropped = False

    def header(self, name: bytes) -> bytes | None:
        return next((v for k, v in self.request.headers if k == name), None)

    async def start(self, status: int = 200, headers: list[tuple[str, str]] | None = None) -> None:
        response = h11.Response(status_code=status, headers=headers or [])
        await self.stream.send_all(self.conn.send(response) or b"")

    async def send(self, data: bytes) -> None:
        await self.stream.send_all(self.conn.send(h11.Data(data=data)) or b"")

    async def end(self) -> None:
        await self.stream.send_all(self.conn.send(h11.EndOfMessage()) or b"")

    async def respond(self, body: bytes = b"{}", status: int = 200) -> None:
        await self.start(status, [*JSON, ("content-length", str(len(body)))])
        await self.send(body)
        await self.end()

    async def send_raw_and_drop(self, data: bytes = b"") -> None:
        if data:
            await self.stream.send_all(data)
        self.dropped = True

    async def wait_client_gone(self) -> None:
        """Return once the client closed its end (EOF or reset)."""
        try:
            while await self.stream.receive_some(65536):
                pass
        except trio.BrokenResourceError:
            pass
        self.dropped = True


Handler = Callable[[ServerExchange, int, int], Awaitable[None]]  # exchange, conn no., request no.


async def answer_ok(exchange: ServerExchange, connection: int, request: int) -> None:
    await exchange.respond(b'{"ok":true}')


class Upstream:
    """A trio + h11 server; tests swap `handler` to script its behaviour."""

    def __init__(self) -> None:
        self.handler: Handler = answer_ok
        self.port = 0
        self.scheme = "http"
        self.connections = 0
        self.closed = 0
        self.requests: list[ServerExchange] = []
        self._closed_changed = trio.Event()

    def url(self, path: str = "/v1/chat/completions") -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    async def wait_closed(self, count: int) -> None:
        while self.closed < count:
            await self._closed_changed.wait()

    async def serve(self, stream: trio.abc.Stream) -> None:
        self.connections += 1
        number = self.connections
        try:
            await self._serve_requests(stream, number)
        except (trio.BrokenResourceError, h11.RemoteProtocolError):
            pass
        finally:
            await trio.aclose_forcefully(stream)
            self.closed += 1
            self._closed_changed.set()
            self._closed_changed = trio.Event()

    async def _serve_requests(self, stream: trio.abc.Stream, number: int) -> None:
        conn = h11.Connection(h11.SERVER)
        for index in range(1, 1000):
            request, body = await self._read_request(stream, conn)
            if request is None:
                return
            exchange = ServerExchange(stream, conn, request, body)
            self.requests.append(exchange)
            await self.handler(exchange, number, index)
            if exchange.dropped or conn.our_state is not h11.DONE:
                return
            conn.start_next_cycle()

    @staticmethod
    async def _read_request(
        stream: trio.abc.Stream, conn: h11.Connection
    ) -> tuple[h11.Request | None, bytes]:
        request, body = None, b""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(bytes(await stream.receive_some(65536)))
            elif isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return request, body
            else:
                return None, b""


def bounded(test: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """Fail a hung test after TEST_DEADLINE_S instead of hanging the suite."""

    @functools.wraps(test)
    async def run_with_deadline(*args: object, **kwargs: object) -> None:
        with trio.fail_after(TEST_DEADLINE_S):
            await test(*args, **kwargs)

    return run_with_deadline


@pytest.fixture
async def upstream(nursery: trio.Nursery) -> Upstream:
    server = Upstream()
    listeners = await nursery.start(partial(trio.serve_tcp, server.serve, 0, host="127.0.0.1"))
    server.port = listeners[0].socket.getsockname()[1]
    return server


@pytest.fixture
async def pool() -> AsyncIterator[UpstreamPool]:
    async with UpstreamPool() as upstream_pool:
        yield upstream_pool


async def post(pool: UpstreamPool, url: str, body: bytes = b'{"q":1}') -> tuple[int, bytes]:
    async with pool.stream("POST", url, [("content-type", "application/json")], body) as response:
        return response.status, await response.read()


# --- keep-alive pooling -------------------------------------------------------------------


@bounded
async def test_sequential_requests_share_one_connection(
    upstream: Upstream, pool: UpstreamPool
) -> None:
    url = upstream.url("/openai/v1/chat/completions?alt=sse&x=1")
    for n in range(5):
        assert await post(pool, url, b'{"n":%d}' % n) == (200, b'{"ok":true}')
    assert upstream.connections == 1
    first = upstream.requests[0]
    assert first.request.target == b"/openai/v1/chat/completions?alt=sse&x=1"
    assert first.header(b"host") == f"127.0.0.1:{upstream.port}".encode()
    assert first.header(b"content-length") == b"7"
    assert [e.body for e in upstream.requests] == [b'{"n":%d}' % n for n in range(5)]
    stats = pool.statistics()
    assert (stats.connections_opened, stats.connections_reused) == (1, 4)
    assert (stats.idle_now, stats.active_now, stats.retries) == (1, 0, 0)
    await pool.aclose()
    await upstream.wait_closed(1)
    assert pool.statistics().idle_now == 0


async def answer_then_hang_up(exchange: ServerExchange, connection: int, request: int) -> None:
    await exchange.respond()  # keep-alive as far as the client can tell
    exchange.dropped = True


@bounded
async def test_idle_connection_closed_by_server_is_replaced_before_writing(
    upstream: Upstream, pool: UpstreamPool
) -> None:
    upstream.handler = answer_then_hang_up
    assert (await post(pool, upstream.url()))[0] == 200
    await upstream.wait_closed(1)
    # idle past the window in which a connection is reused without a look: the closed
    # connection is seen before anything is written
    await trio.sleep(RECENTLY_IDLE_S)
    assert (await post(pool, upstream.url(), b"again"))[0] == 200
    assert [e.body for e in upstream.requests] == [b'{"q":1}', b"again"]
    assert upstream.connections == 2
    stats = pool.statistics()
    assert (stats.connections_opened, stats.retries) == (2, 0)  # seen closed while idle


@bounded
async def test_reused_connection_dropped_after_the_request_is_not_resent(
    upstream: Upstream, pool: UpstreamPool
) -> None:
    async def drop_second_request(exchange: ServerExchange, connection: int, request: int) -> None:
        if (connection, request) == (1, 2):
            await exchange.send_raw_and_drop()
        else:
            await exchange.respond()

    upstream.handler = drop_second_request
    assert (await post(pool, upstream.url()))[0] == 200
    exchange = pool.stream("POST", upstream.url(), [], b"again")
    with pytest.raises(UpstreamReadError, match="before responding"):
        async with exchange:
            pass
    assert exchange.request_sent  # the provider may have it: the caller's policy decides
    assert [e.body for e in upstream.requests] == [b'{"q":1}', b"again"]  # sent once
    stats = pool.statistics()
    assert (stats.connections_opened, stats.retries) == (1, 0)


@bounded
async def test_new_connection_dropped_before_reply_is_not_retried(
    upstream: Upstream, pool: UpstreamPool
) -> None:
    async def drop(exchange: ServerExchange, connection: int, request: int) -> None:
        await exchange.send_raw_and_drop()

    upstream.handler = drop
    with pytest.raises(UpstreamReadError, match="before responding"):
        await post(pool, upstream.url())
    assert len(upstream.requests) == 1
    assert pool.statistics().retries == 0


@bounded
async def test_no_retry_once_response_bytes_arrived(upstream: Upstream, pool: UpstreamPool) -> None:
    async def cut_second_head(exchange: ServerExchange, connection: int, request: int) -> None:
        if request == 2:
            await exchange.send_raw_and_drop(b"HTTP/1.1 200 OK\r\ncontent-")
        else:
            await exchange.respond()

    upstream.handler = cut_second_head
    await post(pool, upstream.url())
    with pytest.raises(UpstreamReadError, match="mid-response"):
        await post(pool, upstream.url())
    assert len(upstream.requests) == 2
    stats = pool.statistics()
    assert (stats.retries, stats.idle_now, stats.active_now) == (0, 0, 0)


@bounded
async def test_connection_close_response_is_not_pooled(
    upstream: Upstream, pool: UpstreamPool
) -> None:
    async def answer_and_close(exchange: ServerExchange, connection: int, request: int) -> None:
        await exchange.start(200, [("content-length", "2"), ("connection", "close")])
        await exchange.send(b"{}")
        await exchange.end()

    upstream.handler = answer_and_close
    for _ in range(2):
        assert await post(pool, upstream.url()) == (200, b"{}")
    assert upstream.connections == 2
    assert pool.statistics().idle_now == 0


@bounded
async def test_idle_connections_beyond_the_cap_are_closed(upstream: Upstream) -> None:
    both_arrived = trio.Event()

    async def answer_together(exchange: ServerExchange, connection: int, request: int) -> None:
        if len(upstream.requests) == 2:
            both_arrived.set()
        await both_arrived.wait()
        await exchange.respond()

    upstream.handler = answer_together
    async with UpstreamPool(max_idle_per_origin=1) as pool:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(post, pool, upstream.url())
            nursery.start_soon(post, pool, upstream.url())
        assert upstream.connections == 2
        assert pool.statistics().idle_now == 1
        await upstream.wait_closed(1)


@bounded
async def test_connections_per_origin_are_capped(upstream: Upstream) -> None:
    release = trio.Event()

    async def hold_first(exchange: ServerExchange, connection: int, request: int) -> None:
        if len(upstream.requests) == 1:
            await release.wait()
        await exchange.respond()

    upstream.handler = hold_first
    async with UpstreamPool(max_connections_per_origin=1) as pool, trio.open_nursery() as nursery:
        nursery.start_soon(post, pool, upstream.url())
        nursery.start_soon(post, pool, upstream.url())
        await trio.testing.wait_all_tasks_blocked()
        assert len(upstream.requests) == 1
        assert pool.statistics().active_now == 1  # the other one waits for the slot
        release.set()
    assert (upstream.connections, len(upstream.requests)) == (1, 2)


@bounded
async def test_idle_connection_expires(
    upstream: Upstream, mock_clock: trio.testing.MockClock
) -> None:
    async with UpstreamPool(idle_keepalive_s=2.0) as pool:
        await post(pool, upstream.url())
        mock_clock.jump(1.9)
        await post(pool, upstream.url())
        mock_clock.jump(2.1)
        await post(pool, upstream.url())
        assert pool.statistics().connections_opened == 2
    assert upstream.connections == 2


# --- bodies and streaming -------------------------------------------------------------------


@bounded
async def test_first_chunk_arrives_before_second_is_sent(
    upstream: Upstream, pool: UpstreamPool
) -> None:
    got_first = trio.Event()

    async def stream_two_events(exchange: ServerExchange, connection: int, request: int) -> None:
        await exchange.start(200, [("content-type", "text/event-stream")])  # chunked
        await exchange.send(b"data: one\n\n")
        await got_first.wait()
        await exchange.send(b"data: two\n\n")
        await exchange.end()

    upstream.handler = stream_two_events
    async with pool.stream("POST", upstream.url(), [], b"{}") as response:
        assert response.status == 200
        assert response.header("Content-Type") == "text/event-stream"
        assert ("transfer-encoding", "chunked") in response.headers
        chunks = response.iter_bytes()
        assert await chunks.__anext__() == b"data: one\n\n"
        got_first.set()
        assert [chunk async for chunk in chunks] == [b"data: two\n\n"]
    assert pool.statistics().idle_now == 1


@pytest.mark.parametrize("framing", ["chunked", "content-length"])
@bounded
async def test_bodies_are_read_whole_and_connection_reused(
    upstream: Upstream, pool: UpstreamPool, framing: str
) -> None:
    parts = [b"a" * 10, b"b" * 70_000, b"c"]

    async def send_in_parts(exchange: ServerExchange, connection: int, request: int) -> None:
        total = str(sum(map(len, parts)))
        await exchange.start(200, [("content-length", total)] if framing != "chunked" else [])
        for part in parts:
            await exchange.send(part)
        await exchange.end()

    upstream.handler = send_in_parts
    for _ in range(2):
        assert await post(pool, upstream.url()) == (200, b"".join(parts))
    assert upstream.connections == 1


@bounded
async def test_body_delimited_by_close_is_read_and_not_reused(
    upstream: Upstream, pool: UpstreamPool
) -> None:
    async def http10_style(exchange: ServerExchange, connection: int, request: int) -> None:
        await exchange.send_raw_and_drop(b"HTTP/1.1 200 OK\r\n\r\nuntil close")

    upstream.handler = http10_style
    assert await post(pool, upstream.url()) == (200, b"until close")
    assert pool.statistics().idle_now == 0


@pytest.mark.parametrize(
    "cut",
    [
        b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n" + b"x" * 40,
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n20\r\n" + b"x" * 10,
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nxxxxx\r\n",
    ],
    ids=["content-length", "mid-chunk", "between-chunks"],
)
@bounded
async def test_body_cut_midway_is_a_read_error(
    upstream: Upstream, pool: UpstreamPool, cut: bytes
) -> None:
    async def cut_short(exchange: ServerExchange, connection: int, request: int) -> None:
        await exchange.send_raw_and_drop(cut)

    upstream.handler = cut_short
    with pytest.raises(UpstreamReadError, match="mid-response"):
        await post(pool, upstream.url())
    assert pool.statistics().idle_now == 0


@bounded
async def test_invalid_http_is_a_protocol_error(upstream: Upstream, pool: UpstreamPool) -> None:
    async def garbage(exchange: ServerExchange, connection: int, request: int) -> None:
        await exchange.send_raw_and_drop(b"SMTP ready\r\n\r\n")

    upstream.handler = garbage
    with pytest.raises(UpstreamProtocolError):
        await post(pool, upstream.url())


# --- cancellation and leaving early -----------------------------------------------------------


@bounded
async def test_cancel_mid_body_closes_that_connection(
    upstream: Upstream, pool: UpstreamPool
) -> None:
    async def one_chunk_then_wait(exchange: ServerExchange, connection: int, request: int) -> None:
        if connection == 1:
            await exchange.start(200, [])
            await exchange.send(b"data: one\n\n")
            await exchange.wait_client_gone()
        else:
            await exchange.respond()

    upstream.handler = one_chunk_then_wait
    with trio.CancelScope() as scope:
        async with pool.stream("POST", upstream.url(), [], b"{}") as response:
            async for _chunk in response.iter_bytes():
                scope.cancel()
    assert scope.cancelled_caught
    stats = pool.statistics()
    assert (stats.active_now, stats.idle_now) == (0, 0)
    await upstream.wait_closed(1)  # the server saw the client hang up
    assert (await post(pool, upstream.url()))[0] == 200
    assert (upstream.connections, pool.statistics().connections_opened) == (2, 2)


@bounded
async def test_cancel_while_waiting_for_head_closes_connection(
    upstream: Upstream, pool: UpstreamPool
) -> None:
    scope = trio.CancelScope()

    async def cancel_client_then_wait(exchange: ServerExchange, connection: int, req: int) -> None:
        scope.cancel()
        await exchange.wait_client_gone()

    upstream.handler = cancel_client_then_wait
    with scope:
        await post(pool, upstream.url())
    assert scope.cancelled_caught
    await upstream.wait_closed(1)
    assert pool.statistics().active_now == 0


@bounded
async def test_leaving_block_before_body_end_closes_connection(
    upstream: Upstream, pool: UpstreamPool
) -> None:
    async with pool.stream("POST", upstream.url(), [], b"{}") as response:
        assert response.status == 200
    await upstream.wait_closed(1)
    await post(pool, upstream.url())
    assert pool.statistics().connections_opened == 2


# --- connect failures and what errors say --------------------------------------------------


@bounded
async def test_refused_connection_is_a_connect_error_without_secrets(pool: UpstreamPool) -> None:
    with socket.socket() as bound_not_listening:
        bound_not_listening.bind(("127.0.0.1", 0))
        port = bound_not_listening.getsockname()[1]
        url = f"http://127.0.0.1:{port}/v1/models/m:generate?key=SECRET-KEY"
        headers = [("authorization", "Bearer SECRET-TOKEN")]
        with pytest.raises(UpstreamConnectError) as caught:
            async with pool.stream("POST", url, headers, b'{"p":"SECRET-BODY"}'):
                pass
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert "SECRET" not in str(caught.value) + repr(caught.value)


@bounded
async def test_invalid_header_is_rejected_without_echoing_it(pool: UpstreamPool) -> None:
    with pytest.raises(ValueError, match="not valid HTTP") as caught:
        pool.stream("POST", "http://127.0.0.1:9/", [("authorization", "SECRET\r\nx: y")], b"")
    assert "SECRET" not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


# --- TLS -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


async def start_tls_upstream(nursery: trio.Nursery, ca: trustme.CA, name: str) -> Upstream:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(name).configure_cert(server_context)
    server = Upstream()
    server.scheme = "https"
    serve = partial(trio.serve_ssl_over_tcp, server.serve, 0, server_context, host="127.0.0.1")
    listeners = await nursery.start(serve)
    server.port = listeners[0].transport_listener.socket.getsockname()[1]
    return server


def client_context_trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@bounded
async def test_tls_with_trusted_ca_succeeds_and_reuses(
    nursery: trio.Nursery, ca: trustme.CA
) -> None:
    upstream = await start_tls_upstream(nursery, ca, "127.0.0.1")
    async with UpstreamPool(ssl_context=client_context_trusting(ca)) as pool:
        for _ in range(3):
            assert await post(pool, upstream.url()) == (200, b'{"ok":true}')
        assert pool.statistics().connections_opened == 1
    assert upstream.connections == 1


@bounded
async def test_tls_default_context_rejects_unknown_ca(
    nursery: trio.Nursery, ca: trustme.CA
) -> None:
    upstream = await start_tls_upstream(nursery, ca, "127.0.0.1")
    async with UpstreamPool(ssl_context=default_ssl_context()) as pool:
        with pytest.raises(UpstreamConnectError, match="certificate verification failed"):
            await post(pool, upstream.url())
        assert pool.statistics().active_now == 0


@bounded
async def test_tls_hostname_mismatch_fails(nursery: trio.Nursery, ca: trustme.CA) -> None:
    upstream = await start_tls_upstream(nursery, ca, "api.upstream.test")
    async with UpstreamPool(ssl_context=client_context_trusting(ca)) as pool:
        with pytest.raises(UpstreamConnectError, match="mismatch"):
            await post(pool, upstream.url())
