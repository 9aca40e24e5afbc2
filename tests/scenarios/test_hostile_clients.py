"""Slow and hostile clients against the real gateway (loopback, real sockets, the fake
OpenAI provider): clients that never read, slowloris heads and bodies, and floods of
requests with bad keys and big bodies never hold a slot for long, never shed or delay
an authenticated caller, and every admitted request still ends its trail."""

from __future__ import annotations

import contextlib
import socket
import time
from pathlib import Path

import httpx
import orjson
import pytest
import trio

from fakes import FakeProviderServer, Reply, Text
from messages.events import TERMINAL_KINDS
from tests.gateway_rig import (
    VIRTUAL_KEY,
    Trail,
    auth,
    config_yaml,
    make_config,
    openai_provider,
    running_gateway,
)

ENDPOINTS = ("/v1/chat/completions", "/v1/responses")
WRITE_TIMEOUT_S = 1.0
# 30 words of 200 000 characters: 6 MB of answer, more than the loopback buffers hold
BIG_TEXT = " ".join(["x" * 200_000] * 30)
ADMIN_KEY = "sy-admin-hostile-clients-0123456789"


def hostile_config(fake: FakeProviderServer, db: Path, *, max_inflight: int, **server: float):
    text = config_yaml(
        [openai_provider(fake.base_url, timeouts={"first_byte_s": 4, "idle_s": 4, "total_s": 4})],
        db_path=db,
        max_inflight=max_inflight,
        max_body_bytes=2_000_000,
    )
    lines = f"  admin_key: {ADMIN_KEY}\n"
    lines += "".join(f"  {name}: {value}\n" for name, value in server.items())
    return make_config(text.replace("server:\n", "server:\n" + lines, 1))


def body_for(endpoint: str, *, stream: bool, pad: int = 0) -> bytes:
    text = "hi" + " " * pad
    if endpoint == "/v1/responses":
        return orjson.dumps({"model": "gpt-5.5", "input": text, "stream": stream})
    messages = [{"role": "user", "content": text}]
    return orjson.dumps({"model": "gpt-5.5", "messages": messages, "stream": stream})


def raw_request(
    endpoint: str, body: bytes, key: str | None = VIRTUAL_KEY, length: int = -1
) -> bytes:
    lines = [f"POST {endpoint} HTTP/1.1", "host: gw", "content-type: application/json"]
    if key is not None:
        lines.append(f"authorization: Bearer {key}")
    lines.append(f"content-length: {len(body) if length < 0 else length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def split_head(request: bytes) -> tuple[bytes, bytes]:
    head, _, body = request.partition(b"\r\n\r\n")
    return head + b"\r\n\r\n", body


async def small_window_stream(port: int) -> trio.SocketStream:
    """A client socket with a tiny receive buffer: once it stops reading, writes block."""
    sock = trio.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    await sock.connect(("127.0.0.1", port))
    return trio.SocketStream(sock)


async def read_head(stream: trio.SocketStream) -> bytes:
    received = b""
    while b"\r\n\r\n" not in received:
        data = await stream.receive_some(4096)
        assert data, received
        received += data
    return received.partition(b"\r\n\r\n")[0]


async def read_response(stream: trio.SocketStream) -> bytes:
    """One response with a Content-Length body, as received."""
    received = b""
    while True:
        head, found, body = received.partition(b"\r\n\r\n")
        if found:
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            if len(body) >= length:
                return received
        data = await stream.receive_some(65536)
        assert data, received
        received += data


def request_id_of(head: bytes) -> str:
    for line in head.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name.lower() == "x-request-id":
            return value.strip()
    raise AssertionError(f"no x-request-id in {head!r}")


async def terminal_rows(trail: Trail, request_ids: list[str], within_s: float) -> list[str]:
    """Each request's terminal event kind and error kind, waiting up to ``within_s``."""

    def all_found() -> list[str] | None:
        found = []
        for request_id in request_ids:
            kinds = [k for k in trail.kinds(request_id) if k in TERMINAL_KINDS]
            rows = trail.rows("SELECT * FROM requests WHERE request_id = ?", request_id)
            if kinds and rows:
                found.append(
                    f"{kinds[-1]} http={rows[0]['http_status']} error={rows[0]['error_kind']}"
                )
        return found if len(found) == len(request_ids) else None

    return await trail.wait_until(all_found, within_s=within_s)


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "whole"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_clients_that_never_read_give_their_slots_back(
    fake: FakeProviderServer, tmp_path: Path, endpoint: str, stream: bool
) -> None:
    db = tmp_path / "trail.db"
    config = hostile_config(fake, db, max_inflight=3, write_timeout_s=WRITE_TIMEOUT_S)
    fake.enqueue(*[Reply(items=(Text(text=BIG_TEXT),))] * 3)
    async with running_gateway(config) as gateway:
        stalled: list[trio.SocketStream] = []
        request_ids = []
        for _ in range(3):
            client = await small_window_stream(gateway.port)
            await client.send_all(raw_request(endpoint, body_for(endpoint, stream=stream)))
            head = await read_head(client)  # then never read again
            assert head.startswith(b"HTTP/1.1 200 "), head
            request_ids.append(request_id_of(head))
            stalled.append(client)
        stalled_at = trio.current_time()
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as http:
            with trio.fail_after(15):
                while True:
                    answer = await http.post(
                        endpoint, content=body_for(endpoint, stream=False), headers=auth()
                    )
                    if answer.status_code != 503:
                        break
                    await trio.sleep(0.1)
            freed_after = trio.current_time() - stalled_at
            assert answer.status_code == 200, answer.text
        trail = await terminal_rows(Trail(db, gateway.audit), request_ids, within_s=10)
        for client in stalled:
            await client.aclose()
    print(f"\n{endpoint} stream={stream}: slots back after {freed_after:.2f}s; trail: {trail}")
    assert freed_after < WRITE_TIMEOUT_S + 3.0


class Attack:
    """Slowloris heads and bodies and a bad-key flood, run until ``stop`` is set."""

    def __init__(self, port: int, endpoint: str) -> None:
        self.port = port
        self.endpoint = endpoint
        self.stop = trio.Event()
        self.cut_after: list[float] = []  # how long each trickled connection lived
        self.refused: list[int] = []  # status of each flooding request's answer
        self.refused_in: list[float] = []
        self.trickle_answers: set[tuple[str, str]] = set()  # what each kind of trickler got

    async def trickle(self, sent: bytes, data: bytes, gap_s: float) -> None:
        """Send ``sent`` at once, then ``data`` one byte per ``gap_s`` until cut off."""
        stream = await trio.open_tcp_stream("127.0.0.1", self.port)
        started = trio.current_time()
        answer = b""
        async with stream:
            try:
                await stream.send_all(sent)
                for index in range(len(data)):
                    await stream.send_all(data[index : index + 1])
                    with trio.move_on_after(gap_s):
                        if not (received := await stream.receive_some(4096)):
                            break
                        answer += received
            except trio.BrokenResourceError:
                pass
        self.cut_after.append(trio.current_time() - started)
        self.trickle_answers.add(("body" if sent else "head", answer[:12].decode()))

    async def flood_one(self, body_size: int) -> None:
        body = b"x" * body_size
        head = raw_request(self.endpoint, b"", key="sk-sy-not-a-key", length=body_size)
        stream = await trio.open_tcp_stream("127.0.0.1", self.port)
        started = trio.current_time()
        async with stream:

            async def send_body() -> None:
                with contextlib.suppress(trio.BrokenResourceError):
                    await stream.send_all(head + body)

            answer = b""
            async with trio.open_nursery() as nursery:
                nursery.start_soon(send_body)
                try:
                    while b"\r\n\r\n" not in answer and (data := await stream.receive_some()):
                        answer += data
                except trio.BrokenResourceError:
                    pass
                nursery.cancel_scope.cancel()
        self.refused_in.append(trio.current_time() - started)
        self.refused.append(int(answer[9:12]) if answer.startswith(b"HTTP/1.1 ") else 0)

    async def flood(self, concurrency: int, body_size: int) -> None:
        async def worker() -> None:
            while not self.stop.is_set():
                await self.flood_one(body_size)

        async with trio.open_nursery() as nursery:
            for _ in range(concurrency):
                nursery.start_soon(worker)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_slowloris_and_a_bad_key_flood_do_not_delay_authenticated_requests(
    fake: FakeProviderServer, tmp_path: Path, endpoint: str
) -> None:
    db = tmp_path / "trail.db"
    config = hostile_config(fake, db, max_inflight=64, header_timeout_s=2, body_timeout_s=2)
    slow_head = raw_request(endpoint, body_for(endpoint, stream=False))
    slow_body = raw_request(endpoint, body_for(endpoint, stream=False, pad=2000))
    latencies: list[float] = []
    async with running_gateway(config) as gateway:
        attack = Attack(gateway.port, endpoint)
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as http:
            async with trio.open_nursery() as nursery:
                for _ in range(20):
                    nursery.start_soon(attack.trickle, b"", slow_head, 0.1)
                    nursery.start_soon(attack.trickle, *split_head(slow_body), 0.1)
                nursery.start_soon(attack.flood, 50, 1_000_000)
                await trio.sleep(0.5)
                for _ in range(20):
                    started = time.perf_counter()
                    answer = await http.post(
                        endpoint, content=body_for(endpoint, stream=False), headers=auth()
                    )
                    latencies.append(time.perf_counter() - started)
                    assert answer.status_code == 200, answer.text
                    await trio.sleep(0.1)
                attack.stop.set()
            admin = {"authorization": f"Bearer {ADMIN_KEY}"}
            health = (await http.get("/healthz", headers=admin)).json()
    refused_401 = attack.refused.count(401)
    recorded = Trail(db).rows("SELECT COUNT(*) AS n FROM requests WHERE http_status = 401")
    print(
        f"\n{endpoint}: authenticated latency under attack max {max(latencies) * 1000:.0f} ms, "
        f"median {sorted(latencies)[len(latencies) // 2] * 1000:.0f} ms over {len(latencies)}; "
        f"{refused_401} bad-key requests refused (slowest {max(attack.refused_in):.2f}s), "
        f"{recorded[0]['n']} recorded in the trail; trickled connections cut after "
        f"{min(attack.cut_after):.1f}-{max(attack.cut_after):.1f}s, answered "
        f"{sorted(attack.trickle_answers)}; "
        f"health: {health.get('ingress')}"
    )
    assert max(latencies) < 2.0
    assert set(attack.refused) == {401} and refused_401 >= 50
    assert max(attack.cut_after) < 2.0 + 1.5  # the total head/body deadline, reaped late
    assert attack.trickle_answers <= {("head", ""), ("body", "HTTP/1.1 408")}
    assert health["ingress"]["unauthenticated"] >= refused_401
    assert health["server"]["requests_refused_early"] >= refused_401
    assert recorded[0]["n"] < refused_401 / 2  # a bounded summary, not a row per 401
    others = Trail(db).rows("SELECT http_status FROM requests WHERE http_status != 401")
    assert [row["http_status"] for row in others] == [200] * len(latencies)  # slowloris: none


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_a_bad_key_is_refused_before_the_body_is_read(
    fake: FakeProviderServer, tmp_path: Path, endpoint: str
) -> None:
    db = tmp_path / "trail.db"
    config = hostile_config(fake, db, max_inflight=4)
    async with running_gateway(config) as gateway:
        answers = []
        for key in (None, "sk-sy-not-a-key"):
            # 1.5 MB announced (under max_body_bytes), never sent: the 401 cannot wait for it
            stream = await trio.open_tcp_stream("127.0.0.1", gateway.port)
            async with stream:
                request = raw_request(endpoint, b"", key=key, length=1_500_000)
                await stream.send_all(
                    request.replace(b"host: gw", b"host: gw\r\nuser-agent: " + b"u" * 30_000)
                )
                with trio.fail_after(2):
                    answers.append(await read_response(stream))
    assert not fake.requests
    for answer in answers:
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 401 ") and b"connection: close" in head, head
        assert orjson.loads(body)["error"]["code"] == "invalid_api_key"
        rows = await terminal_rows(Trail(db, gateway.audit), [request_id_of(head)], within_s=5)
        assert rows == ["response.failed http=401 error=unauthenticated"]
        received = Trail(db).rows(
            "SELECT payload FROM events WHERE request_id = ? AND kind = 'request.received'",
            request_id_of(head),
        )
        assert len(received[0]["payload"]) < 2000  # a summary: no body, the user agent cut


async def test_clients_that_never_read_do_not_hold_up_shutdown(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    db = tmp_path / "trail.db"
    config = hostile_config(fake, db, max_inflight=3, write_timeout_s=WRITE_TIMEOUT_S)
    fake.enqueue(*[Reply(items=(Text(text=BIG_TEXT),))] * 2)
    endpoint = "/v1/responses"
    stalled = []
    async with running_gateway(config) as gateway:
        for _ in range(2):
            client = await small_window_stream(gateway.port)
            await client.send_all(raw_request(endpoint, body_for(endpoint, stream=True)))
            await read_head(client)
            stalled.append(client)
        stopping = trio.current_time()
    stopped_in = trio.current_time() - stopping
    for client in stalled:
        await client.aclose()
    print(f"\nshutdown with 2 clients that never read took {stopped_in:.2f}s")
    assert stopped_in < WRITE_TIMEOUT_S + 3.0
