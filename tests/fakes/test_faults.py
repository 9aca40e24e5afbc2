"""Each ``Fault`` over real HTTP: status + Retry-After, hangs, reset, cut, failed event, pacing."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
import trio

from fakes import FakeProviderServer, Fault, Reply, Text, Turn
from tests.fakes.conftest import chat_body, payloads, read_stream, responses_body
from tests.fakes.recorded import sse_events

SHORT = Reply(items=(Text(text="a b"),))  # a Responses stream of 10 events
BODIES = {"/v1/responses": responses_body, "/v1/chat/completions": chat_body}


async def read_into(
    received: bytearray, http: httpx.AsyncClient, path: str, body: dict[str, Any]
) -> None:
    """Stream the answer's body into ``received`` (as far as it gets)."""
    async with http.stream("POST", path, json=body) as response:
        assert response.status_code == 200
        async for chunk in response.aiter_bytes():
            received += chunk


async def read_until_broken(http: httpx.AsyncClient, path: str, body: dict[str, Any]) -> bytes:
    """The body bytes received before the server broke the answer off."""
    received = bytearray()
    with pytest.raises(httpx.RemoteProtocolError):
        await read_into(received, http, path, body)
    return bytes(received)


@pytest.mark.parametrize("path", BODIES)
async def test_status_fault_sends_the_error_body_and_retry_after(
    fake: FakeProviderServer, client: httpx.AsyncClient, path: str
) -> None:
    fake.enqueue(
        Fault(status=429, retry_after="3"),
        Fault(status=503, error_code="server_is_overloaded", error_message="busy"),
    )
    limited = await client.post(path, json=BODIES[path]())
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "3")
    assert limited.json()["error"] == {
        "message": "Rate limit reached for requests.",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }
    overloaded = await client.post(path, json=BODIES[path]())
    assert overloaded.status_code == 503
    assert "retry-after" not in overloaded.headers
    assert overloaded.json()["error"]["code"] == "server_is_overloaded"
    assert overloaded.json()["error"]["message"] == "busy"


async def test_hang_before_headers(fake: FakeProviderServer, client: httpx.AsyncClient) -> None:
    fake.enqueue(
        Fault(hang_before_headers_s=30), Turn(reply=SHORT, fault=Fault(hang_before_headers_s=0.2))
    )
    with pytest.raises(httpx.ReadTimeout):
        await client.post("/v1/responses", json=responses_body(), timeout=0.2)
    started = time.monotonic()
    _, events = await read_stream(client, "/v1/responses", responses_body())
    assert time.monotonic() - started >= 0.2
    assert payloads(events)[-1]["type"] == "response.completed"


async def test_reset_before_response_resets_the_connection(fake: FakeProviderServer) -> None:
    fake.enqueue(Fault(reset_before_response=True))
    data = json.dumps(responses_body()).encode()
    request = f"POST /v1/responses HTTP/1.1\r\nhost: x\r\ncontent-length: {len(data)}\r\n\r\n"
    received = bytearray()

    async def read_all(stream: trio.SocketStream) -> None:
        while chunk := await stream.receive_some(65536):
            received.extend(chunk)

    with trio.fail_after(5):
        async with await trio.open_tcp_stream("127.0.0.1", fake.port) as stream:
            await stream.send_all(request.encode() + data)
            with pytest.raises(trio.BrokenResourceError) as caught:
                await read_all(stream)
    assert isinstance(caught.value.__cause__, ConnectionResetError)
    assert received == b""
    assert len(fake.requests) == 1


@pytest.mark.parametrize("path", BODIES)
async def test_cut_after_events_closes_without_the_terminal_event(
    fake: FakeProviderServer, client: httpx.AsyncClient, path: str
) -> None:
    fake.enqueue(Turn(reply=SHORT, fault=Fault(cut_after_events=3)))
    events = sse_events(await read_until_broken(client, path, BODIES[path]()))
    assert len(events) == 3
    assert (None, "[DONE]") not in events
    assert all(json.loads(data).get("type") != "response.completed" for _, data in events)


async def test_cut_of_a_whole_body(fake: FakeProviderServer, client: httpx.AsyncClient) -> None:
    fake.enqueue(Fault(cut_after_events=0))
    with pytest.raises(httpx.RemoteProtocolError):
        await client.post("/v1/chat/completions", json=chat_body(stream=False))


@pytest.mark.parametrize("path", BODIES)
async def test_hang_after_events_stalls_the_stream(
    fake: FakeProviderServer, client: httpx.AsyncClient, path: str
) -> None:
    fake.enqueue(Turn(reply=SHORT, fault=Fault(hang_after_events=2)))
    received = bytearray()
    with trio.move_on_after(0.3) as waited:
        await read_into(received, client, path, BODIES[path]())
    assert waited.cancelled_caught
    assert len(sse_events(bytes(received))) == 2


async def test_failed_event_in_a_responses_stream(
    fake: FakeProviderServer, client: httpx.AsyncClient
) -> None:
    fake.enqueue(Turn(reply=SHORT, fault=Fault(failed_event=("server_error", "boom"))))
    _, events = await read_stream(client, "/v1/responses", responses_body())
    error, failed = payloads(events)[-2:]
    assert (error["type"], error["code"], error["message"]) == ("error", "server_error", "boom")
    assert failed["type"] == "response.failed"
    assert failed["response"]["error"] == {"code": "server_error", "message": "boom"}
    assert events[-1][0] == "response.failed"


async def test_failed_event_in_a_chat_stream(
    fake: FakeProviderServer, client: httpx.AsyncClient
) -> None:
    fake.enqueue(Turn(reply=SHORT, fault=Fault(failed_event=("server_error", "boom"))))
    _, events = await read_stream(client, "/v1/chat/completions", chat_body())
    assert json.loads(events[-1][1])["error"]["message"] == "boom"
    assert (None, "[DONE]") not in events


async def test_failed_event_without_streaming_is_a_500(
    fake: FakeProviderServer, client: httpx.AsyncClient
) -> None:
    fake.enqueue(Fault(failed_event=("server_error", "boom")))
    response = await client.post("/v1/responses", json=responses_body(stream=False))
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"


async def test_delay_between_events(fake: FakeProviderServer, client: httpx.AsyncClient) -> None:
    fake.enqueue(Turn(reply=SHORT, fault=Fault(delay_between_events_s=0.02)))
    started = time.monotonic()
    _, events = await read_stream(client, "/v1/responses", responses_body())
    assert len(events) == 10
    assert time.monotonic() - started >= 9 * 0.02
