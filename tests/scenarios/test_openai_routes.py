"""The OpenAI-shaped endpoints end to end: client → gateway → fake OpenAI → back, and the
trail each request leaves in SQL."""

from __future__ import annotations

import orjson

from fakes import FakeUsage, FunctionCall, Reply, Text
from tests.gateway_rig import auth
from tests.scenarios.conftest import Rig


def _sse_events(body: str) -> list[dict[str, object]]:
    events = []
    for block in body.split("\n\n"):
        for line in block.splitlines():
            if line.startswith("data: ") and line != "data: [DONE]":
                events.append(orjson.loads(line[6:]))
    return events


async def _wait_terminal(rig: Rig, request_id: str) -> None:
    await rig.trail.wait_rows(
        "SELECT 1 FROM requests WHERE request_id = ? AND status != 'in_progress'", request_id
    )


async def test_responses_stream_relays_every_event_and_records_the_trail(rig: Rig) -> None:
    usage = FakeUsage(input_tokens=120, cached_tokens=20, output_tokens=30, reasoning_tokens=5)
    rig.fake.enqueue(Reply(items=(Text(text="hello there"),), usage=usage))
    body = {
        "model": "gpt-5.5",
        "input": "say hello",
        "stream": True,
        "store": False,
        "client_metadata": {"x": 1},
    }
    headers = {**auth(), "session-id": "sess-1", "thread-id": "thr-1"}
    response = await rig.client.post("/v1/responses", json=body, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    events = _sse_events(response.text)
    kinds = [event["type"] for event in events]
    assert kinds[0] == "response.created"
    assert kinds[-1] == "response.completed"
    assert "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta") == (
        "hello there"
    )
    upstream = rig.fake.requests[-1]
    assert upstream.body["client_metadata"] == {"x": 1}  # unknown fields pass through
    assert upstream.header("authorization") == "Bearer sk-provider-test-secret-0002"
    request_id = response.headers["x-request-id"]
    await _wait_terminal(rig, request_id)
    assert rig.trail.kinds(request_id) == [
        "request.received",
        "route.decided",
        "attempt.started",
        "attempt.first_byte",
        "attempt.finished",
        "response.completed",
    ]
    row = rig.trail.rows("SELECT * FROM requests WHERE request_id = ?", request_id)[0]
    assert (row["session_id"], row["status"], row["provider"], row["model"]) == (
        "sess-1",
        "completed",
        "fake-openai",
        "gpt-5.5",
    )
    assert (row["input_tokens"], row["cached_input_tokens"]) == (120, 20)
    assert (row["output_tokens"], row["reasoning_tokens"]) == (30, 5)
    assert row["virtual_key"] == "codex-dev"


async def test_responses_non_streaming(rig: Rig) -> None:
    rig.fake.enqueue(Reply(items=(Text(text="plain answer"),)))
    body = {"model": "gpt-5.5", "input": [{"role": "user", "content": "hi"}]}
    response = await rig.client.post("/openai/v1/responses", json=body, headers=auth())
    assert response.status_code == 200
    document = response.json()
    assert document["object"] == "response"
    assert document["output"][-1]["content"][0]["text"] == "plain answer"
    await _wait_terminal(rig, response.headers["x-request-id"])
    stored = rig.trail.rows(
        "SELECT json_extract(payload, '$.response.output[0].content[0].text') AS text "
        "FROM events WHERE request_id = ? AND kind = 'response.completed'",
        response.headers["x-request-id"],
    )
    assert stored[0]["text"] == "plain answer"


async def test_chat_stream_with_tool_calls(rig: Rig) -> None:
    rig.fake.enqueue(Reply(items=(FunctionCall(name="get_weather", arguments='{"city":"Oslo"}'),)))
    body = {
        "model": "gpt-5.5",
        "stream": True,
        "messages": [{"role": "user", "content": "weather in Oslo?"}],
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}],
    }
    response = await rig.client.post("/v1/chat/completions", json=body, headers=auth())
    assert response.status_code == 200
    assert response.text.rstrip().endswith("data: [DONE]")
    chunks = _sse_events(response.text)
    assert all(chunk["choices"] for chunk in chunks)  # no usage chunk: the client did not ask
    calls = [c["choices"][0]["delta"].get("tool_calls") for c in chunks]
    arguments = "".join(call[0]["function"].get("arguments", "") for call in calls if call)
    assert orjson.loads(arguments) == {"city": "Oslo"}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    request_id = response.headers["x-request-id"]
    await _wait_terminal(rig, request_id)
    row = rig.trail.rows("SELECT * FROM requests WHERE request_id = ?", request_id)[0]
    assert row["output_tokens"] > 0  # usage was asked upstream even though the client did not
    stored = rig.trail.rows(
        "SELECT json_extract(payload, '$.response.choices[0].message.tool_calls[0].function.name')"
        " AS name FROM events WHERE request_id = ? AND kind = 'response.completed'",
        request_id,
    )
    assert stored[0]["name"] == "get_weather"


async def test_chat_stream_keeps_usage_chunk_when_asked(rig: Rig) -> None:
    body = {
        "model": "gpt-5.5",
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "hi"}],
    }
    response = await rig.client.post("/v1/chat/completions", json=body, headers=auth())
    chunks = _sse_events(response.text)
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] > 0


async def test_chat_non_streaming(rig: Rig) -> None:
    body = {"model": "gpt-5.5", "messages": [{"role": "user", "content": "hello"}]}
    response = await rig.client.post("/v1/chat/completions", json=body, headers=auth())
    assert response.status_code == 200
    document = response.json()
    assert document["object"] == "chat.completion"
    assert "You said: hello" in document["choices"][0]["message"]["content"]
    assert response.headers["x-switchyard-provider"] == "fake-openai"


async def test_models_lists_the_configured_models(rig: Rig) -> None:
    response = await rig.client.get("/v1/models", headers=auth())
    assert response.status_code == 200
    ids = {model["id"] for model in response.json()["data"]}
    assert ids == {"gpt-5.5", "fake-openai/gpt-5.5"}
    assert (await rig.client.get("/openai/v1/models", headers=auth())).status_code == 200
    assert (await rig.client.get("/v1/models")).status_code == 401


async def test_healthz_answers_liveness_only_without_the_admin_key(rig: Rig) -> None:
    """The details need ``server.admin_key``: see ``test_admin_health``."""
    response = await rig.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_provider_pinned_by_prefix(rig: Rig) -> None:
    body = {"model": "fake-openai/gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]}
    response = await rig.client.post("/v1/chat/completions", json=body, headers=auth())
    assert response.status_code == 200
    assert rig.fake.requests[-1].body["model"] == "gpt-4o-mini"
