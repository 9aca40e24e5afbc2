"""The fake provider over real HTTP: the openai SDK consumes it, the default behaviour
drives a Codex turn, and requests are recorded and scriptable over HTTP."""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import openai
import pytest
import trio
import trustme

from fakes import (
    CustomToolCall,
    FakeProviderServer,
    FakeUsage,
    Fault,
    FunctionCall,
    Reasoning,
    Reply,
    Text,
    Turn,
    open_fake_provider,
    turn_to_json,
)
from tests.codex_rig import run_codex
from tests.fakes.conftest import API_KEY, chat_body, payloads, read_stream, responses_body
from tests.fakes.recorded import load_json, sse_events

T = TypeVar("T")
WEATHER = '{"city":"Oslo","units":"c"}'


async def with_sdk(fake: FakeProviderServer, use: Callable[[openai.OpenAI], T]) -> T:
    """Run ``use(client)`` in a worker thread with an SDK client closed afterwards."""

    def run() -> T:
        base = fake.base_url
        with openai.OpenAI(base_url=base, api_key=API_KEY, max_retries=0, timeout=10) as client:
            return use(client)

    return await trio.to_thread.run_sync(run)


USER_HI: Any = [{"role": "user", "content": "hi"}]


# --- the openai SDK against the fake (proves the grammar) --------------------------------


async def test_sdk_streams_responses_with_reasoning_text_and_a_tool_call(
    fake: FakeProviderServer,
) -> None:
    items = (
        Reasoning(summary="Thinking about the weather", encrypted_content="gAAAA-enc"),
        Text(text="Let me check that."),
        FunctionCall(name="get_weather", arguments=WEATHER),
    )
    fake.enqueue(Reply(items=items, usage=FakeUsage(input_tokens=50, output_tokens=20)))

    def consume(client: openai.OpenAI) -> tuple[list[str], Any]:
        with client.responses.stream(model="gpt-5.5", input="weather in Oslo?") as stream:
            kinds: list[str] = [event.type for event in stream]
            return kinds, stream.get_final_response()

    kinds, final = await with_sdk(fake, consume)
    assert kinds[0] == "response.created"
    assert kinds[-1] == "response.completed"
    assert [item.type for item in final.output] == ["reasoning", "message", "function_call"]
    assert final.output[0].encrypted_content == "gAAAA-enc"
    assert final.output_text == "Let me check that."
    assert (final.output[2].name, final.output[2].arguments) == ("get_weather", WEATHER)
    assert (final.model, final.usage.input_tokens, final.usage.total_tokens) == ("gpt-5.5", 50, 70)


async def test_sdk_streams_a_custom_tool_call(fake: FakeProviderServer) -> None:
    patch = "*** Begin Patch\n*** Add File: out.txt\n+hello\n*** End Patch\n"
    fake.enqueue(Reply(items=(CustomToolCall(name="apply_patch", input=patch),)))

    def consume(client: openai.OpenAI) -> Any:
        with client.responses.stream(model="gpt-5.5", input="patch it") as stream:
            return stream.get_final_response()

    [call] = (await with_sdk(fake, consume)).output
    assert (call.type, call.name, call.input) == ("custom_tool_call", "apply_patch", patch)
    assert call.call_id.startswith("call_")


async def test_sdk_reads_a_responses_body(fake: FakeProviderServer) -> None:
    usage = FakeUsage(input_tokens=9, cached_tokens=4, output_tokens=2)
    fake.enqueue(Reply(items=(Text(text="plain"),), usage=usage))
    response = await with_sdk(fake, lambda c: c.responses.create(model="o-test", input="hi"))
    assert (response.output_text, response.model) == ("plain", "o-test")
    assert response.status == "completed"
    assert response.id.startswith("resp_")
    assert response.usage is not None
    assert response.usage.input_tokens_details.cached_tokens == 4


async def test_sdk_streams_chat_with_parallel_tool_calls_and_usage(
    fake: FakeProviderServer,
) -> None:
    calls = (
        FunctionCall(name="get_weather", arguments=WEATHER),
        FunctionCall(name="get_time", arguments="{}"),
    )
    fake.enqueue(Reply(items=(Text(text="Checking both."), *calls)))

    def consume(client: openai.OpenAI) -> Any:
        options: Any = {"include_usage": True}
        with client.chat.completions.stream(
            model="gpt-4o", messages=USER_HI, stream_options=options
        ) as stream:
            return stream.get_final_completion()

    final = await with_sdk(fake, consume)
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "Checking both."
    tool_calls = choice.message.tool_calls or []
    assert [(c.function.name, c.function.arguments) for c in tool_calls] == [
        ("get_weather", WEATHER),
        ("get_time", "{}"),
    ]
    assert final.usage is not None
    assert final.model == "gpt-4o"


async def test_sdk_reads_chat_bodies(fake: FakeProviderServer) -> None:
    fake.enqueue(
        Reply(items=(Text(text="0123456789"),), finish="length"),
        Reply(items=(CustomToolCall(name="apply_patch", input="*** Begin Patch"),)),
    )

    def create(client: openai.OpenAI) -> Any:
        return client.chat.completions.create(model="gpt-4o", messages=USER_HI)

    cut = await with_sdk(fake, create)
    assert (cut.choices[0].message.content, cut.choices[0].finish_reason) == ("01234", "length")
    custom = await with_sdk(fake, create)
    [call] = custom.choices[0].message.tool_calls or []
    assert call.type == "custom"
    assert (call.custom.name, call.custom.input) == ("apply_patch", "*** Begin Patch")


@pytest.mark.parametrize("api", ["responses", "chat"])
async def test_sdk_raises_on_an_in_stream_failure(fake: FakeProviderServer, api: str) -> None:
    failed = Fault(failed_event=("server_error", "boom"))
    fake.enqueue(Turn(reply=Reply(items=(Text(text="partial answer"),)), fault=failed))

    def consume(client: openai.OpenAI) -> None:
        if api == "responses":
            for _ in client.responses.create(model="gpt-5.5", input="hi", stream=True):
                pass
        else:
            for _ in client.chat.completions.create(model="gpt-4o", messages=USER_HI, stream=True):
                pass

    with pytest.raises(openai.APIError, match="boom"):
        await with_sdk(fake, consume)


async def test_sdk_sees_status_and_retry_after(fake: FakeProviderServer) -> None:
    fake.enqueue(Fault(status=429, retry_after="3"))
    with pytest.raises(openai.RateLimitError) as caught:
        await with_sdk(fake, lambda c: c.responses.create(model="gpt-5.5", input="hi"))
    assert caught.value.response.headers["retry-after"] == "3"
    assert caught.value.code == "rate_limit_exceeded"


# --- default behaviour -------------------------------------------------------------------


async def test_default_behaviour_drives_a_codex_turn(
    fake: FakeProviderServer, client: httpx.AsyncClient
) -> None:
    turn1 = load_json("codex/turn1.request.json")["body"]
    turn1["input"][-1]["content"][0]["text"] = "create out.txt\nrun: echo hello > out.txt"
    codex_headers = {"session-id": "01a211f2-d65f-7061", "originator": "codex_exec"}
    response, events = await read_stream(client, "/v1/responses", turn1)
    assert response.headers["content-type"].startswith("text/event-stream")
    done = [e["item"] for e in payloads(events) if e["type"] == "response.output_item.done"]
    assert [(item["type"], item["name"]) for item in done] == [("function_call", "exec_command")]
    assert json.loads(done[0]["arguments"]) == {"cmd": "echo hello > out.txt"}

    turn2 = load_json("codex/turn2.request.json")["body"]
    response = await client.post("/v1/responses", json=turn2, headers=codex_headers)
    completed = payloads(sse_events(response.content))[-1]
    assert completed["type"] == "response.completed"
    [message] = completed["response"]["output"]
    printed = "pyenv: cannot rehash: /home/user/.pyenv/shims isn't writable"
    assert message["content"][0]["text"] == f"Done. The command printed: {printed}"
    usage = completed["response"]["usage"]
    assert usage["input_tokens"] == len(fake.requests[1].raw_body) // 4
    assert usage["output_tokens"] == len(message["content"][0]["text"]) // 4
    assert fake.requests[1].header("Session-Id") == "01a211f2-d65f-7061"
    assert [r.scripted for r in fake.requests] == [False, False]


async def test_default_behaviour_over_chat(
    fake: FakeProviderServer, client: httpx.AsyncClient
) -> None:
    tools = [
        {"type": "function", "function": {"name": "exec_command", "parameters": {"type": "object"}}}
    ]
    first = await client.post(
        "/v1/chat/completions", json=chat_body("run: pwd", stream=False, tools=tools)
    )
    [call] = first.json()["choices"][0]["message"]["tool_calls"]
    assert (call["function"]["name"], json.loads(call["function"]["arguments"])) == (
        "exec_command",
        {"cmd": "pwd"},
    )
    messages = [
        {"role": "user", "content": "run: pwd"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "/tmp/work"},
    ]
    body = {"model": "gpt-4o", "messages": messages, "tools": tools}
    second = await client.post("/v1/chat/completions", json=body)
    assert (
        second.json()["choices"][0]["message"]["content"] == "Done. The command printed: /tmp/work"
    )
    echo = await client.post("/v1/chat/completions", json=chat_body("hi", stream=False))
    assert (
        echo.json()["choices"][0]["message"]["content"]
        == "Hello from the fake provider. You said: hi"
    )


# --- recording, routes, control endpoints -------------------------------------------------


async def test_requests_are_recorded_as_received(
    fake: FakeProviderServer, client: httpx.AsyncClient
) -> None:
    fake.enqueue(Reply(items=(Text(text="ok"),)))
    body = chat_body("hi", stream=False)
    before = time.time()
    response = await client.post(
        "/openai/v1/chat/completions?api-version=1", json=body, headers={"X-Trace": "t1"}
    )
    assert response.status_code == 200
    await fake.wait_requests(1)
    [recorded] = fake.requests
    assert (recorded.method, recorded.path) == ("POST", "/openai/v1/chat/completions?api-version=1")
    assert ("Authorization", f"Bearer {API_KEY}") in recorded.headers
    assert recorded.header("x-trace") == "t1"
    assert recorded.body == body
    assert json.loads(recorded.raw_body) == body
    assert before <= recorded.received_at <= time.time()
    assert recorded.scripted
    assert recorded.turn == Turn(reply=Reply(items=(Text(text="ok"),)))


@pytest.mark.parametrize(
    "path",
    [
        "/responses",
        "/v1/responses",
        "/proxy/openai/v1/responses",
        "/chat/completions",
        "/v1/chat/completions",
        "/openai/v1/chat/completions",
    ],
)
async def test_routes_accept_any_prefix(client: httpx.AsyncClient, path: str) -> None:
    body = responses_body(stream=False) if path.endswith("responses") else chat_body(stream=False)
    response = await client.post(path, json=body)
    assert response.status_code == 200
    assert response.json()["object"] in ("response", "chat.completion")


async def test_models_unknown_urls_and_bad_json(
    fake: FakeProviderServer, client: httpx.AsyncClient
) -> None:
    models = (await client.get("/v1/models")).json()
    assert [m["id"] for m in models["data"]] == list(fake.models)
    missing = await client.post("/v1/embeddings", json={})
    assert missing.status_code == 404
    assert missing.json()["error"] == {
        "message": "Invalid URL (POST /v1/embeddings)",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    broken = await client.post("/v1/responses", content=b"{not json")
    assert broken.status_code == 400
    assert broken.json()["error"]["type"] == "invalid_request_error"


async def test_control_endpoints_script_record_and_reset(
    fake: FakeProviderServer, client: httpx.AsyncClient
) -> None:
    script = [
        turn_to_json(Turn(reply=Reply(items=(Text(text="over http"),)))),
        {"fault": {"status": 418}},
    ]
    assert (await client.post("/_fake/script", json=script)).json() == {"pending": 2}
    first = await client.post("/v1/chat/completions", json=chat_body(stream=False))
    assert first.json()["choices"][0]["message"]["content"] == "over http"
    assert (
        await client.post("/v1/chat/completions", json=chat_body(stream=False))
    ).status_code == 418
    recorded = (await client.get("/_fake/requests")).json()
    assert [r["scripted"] for r in recorded] == [True, True]
    assert recorded[0]["body"]["model"] == "gpt-4o"
    assert ["Authorization", f"Bearer {API_KEY}"] in recorded[0]["headers"]
    assert recorded[0]["turn"]["reply"]["items"] == [{"type": "text", "text": "over http"}]
    assert recorded[1]["turn"]["fault"]["status"] == 418

    fallback = {"turns": [], "fallback": {"fault": {"status": 503, "retry_after": "1"}}}
    assert (await client.post("/_fake/script", json=fallback)).status_code == 200
    for _ in range(2):
        answer = await client.post("/v1/responses", json=responses_body(stream=False))
        assert (answer.status_code, answer.headers["retry-after"]) == (503, "1")
    assert (await client.post("/_fake/reset")).status_code == 200
    assert (await client.get("/_fake/requests")).json() == []
    assert (
        await client.post("/v1/responses", json=responses_body(stream=False))
    ).status_code == 200
    bad = await client.post("/_fake/script", json=[{"reply": {"items": [{"type": "video"}]}}])
    assert bad.status_code == 400
    assert fake.pending == 0


async def test_keep_alive_serves_requests_in_turn_on_one_connection(
    fake: FakeProviderServer,
) -> None:
    def request(body: dict[str, Any]) -> bytes:
        data = json.dumps(body).encode()
        head = f"POST /v1/responses HTTP/1.1\r\nhost: x\r\ncontent-length: {len(data)}\r\n\r\n"
        return head.encode() + data

    with trio.fail_after(5):
        stream = await trio.open_tcp_stream("127.0.0.1", fake.port)
        async with stream:
            received = b""
            await stream.send_all(request(responses_body()))
            while not received.endswith(b"0\r\n\r\n"):
                received += await stream.receive_some(65536)
            await stream.send_all(request(responses_body(stream=False)))
            while received.count(b"HTTP/1.1 200") < 2 or not received.endswith(b"}"):
                received += await stream.receive_some(65536)
    assert b"transfer-encoding: chunked" in received.lower()
    assert len(fake.requests) == 2


async def test_serves_https(nursery: trio.Nursery) -> None:
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)
    fake = await open_fake_provider(nursery, ssl_context=server_context)
    assert fake.base_url == f"https://127.0.0.1:{fake.port}/v1"
    async with httpx.AsyncClient(base_url=fake.origin, verify=client_context, timeout=10) as http:
        response, events = await read_stream(http, "/v1/chat/completions", chat_body())
    assert response.status_code == 200
    assert events[-1] == (None, "[DONE]")


@pytest.mark.codex
async def test_real_codex_completes_a_turn_on_the_default_behaviour(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    fake.enqueue(Fault(status=429, retry_after="1"))  # Codex waits and retries
    prompt = "create out.txt\nrun: echo hello > out.txt"
    run = await run_codex(fake.base_url, prompt, api_key=API_KEY, tmp=tmp_path, timeout_s=120)
    assert run.turn_completed, run.stderr
    assert (run.workdir / "out.txt").read_text() == "hello\n"
    answered = [r.turn.reply.items[0] for r in fake.requests[1:] if r.turn and r.turn.reply]
    assert [type(item) for item in answered] == [FunctionCall, Text]
    assert all(r.header("authorization") == f"Bearer {API_KEY}" for r in fake.requests)
