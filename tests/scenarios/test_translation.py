"""Both client formats, through the gateway, to providers of every other wire format
(served by the fake): the client sees OpenAI's format, the trail sees the usage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest

from fakes import FakeProviderServer, FakeUsage, Fault, FunctionCall, Reply, Text
from tests.gateway_rig import Trail, auth, config_yaml, make_config, running_gateway
from tests.scenarios.translation_rig import provider_for

KINDS = ["anthropic", "gemini", "cohere", "mistral", "openai-compatible"]


@pytest.fixture(params=KINDS)
async def translated(
    request: pytest.FixtureRequest, fake: FakeProviderServer, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, FakeProviderServer, Trail, str]]:
    kind = request.param
    db = tmp_path / "trail.db"
    config = make_config(config_yaml([provider_for(kind, fake)], db_path=db))
    async with running_gateway(config) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as client:
            yield client, fake, Trail(db, gateway.audit), kind


def _data(text: str) -> list[dict[str, object]]:
    return [
        orjson.loads(line[6:])
        for line in text.splitlines()
        if line.startswith("data: ") and line != "data: [DONE]"
    ]


async def test_responses_stream_with_a_tool_call(translated) -> None:  # type: ignore[no-untyped-def]
    client, fake, trail, kind = translated
    usage = FakeUsage(input_tokens=300, cached_tokens=100, output_tokens=40, reasoning_tokens=0)
    fake.enqueue(
        Reply(items=(FunctionCall(name="exec_command", arguments='{"cmd":"ls"}'),), usage=usage)
    )
    body = {
        "model": "gpt-5.5",
        "stream": True,
        "input": "list files",
        "tools": [
            {
                "type": "function",
                "name": "exec_command",
                "parameters": {
                    "type": "object",
                    "properties": {"cmd": {"type": "string"}},
                    "required": ["cmd"],
                },
            }
        ],
    }
    response = await client.post("/v1/responses", json=body, headers=auth())
    assert response.status_code == 200, response.text
    events = _data(response.text)
    assert events[-1]["type"] == "response.completed"
    done = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    calls = [item for item in done if item["type"] == "function_call"]  # type: ignore[index]
    assert len(calls) == 1
    assert orjson.loads(calls[0]["arguments"]) == {"cmd": "ls"}  # type: ignore[index]
    assert fake.requests[-1].path.endswith(
        {
            "anthropic": "/v1/messages",
            "gemini": ":streamGenerateContent?alt=sse",
            "cohere": "/v2/chat",
            "mistral": "/mistral/v1/chat/completions",
            "openai-compatible": "/v1/chat/completions",
        }[kind]
    )
    request_id = response.headers["x-request-id"]
    rows = await trail.wait_rows(
        "SELECT * FROM requests WHERE request_id = ? AND status = 'completed'", request_id
    )
    assert (rows[0]["input_tokens"], rows[0]["cached_input_tokens"]) == (300, 100)
    assert rows[0]["output_tokens"] == 40


async def test_chat_non_stream_text(translated) -> None:  # type: ignore[no-untyped-def]
    client, fake, _, _ = translated
    fake.enqueue(Reply(items=(Text(text="translated hello"),)))
    body = {
        "model": "gpt-5.5",
        "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
    }
    response = await client.post("/v1/chat/completions", json=body, headers=auth())
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["choices"][0]["message"]["content"] == "translated hello"
    assert document["choices"][0]["finish_reason"] == "stop"
    assert document["usage"]["prompt_tokens"] > 0


async def test_chat_stream_text(translated) -> None:  # type: ignore[no-untyped-def]
    client, fake, _, _ = translated
    fake.enqueue(Reply(items=(Text(text="streamed words here"),)))
    body = {"model": "gpt-5.5", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    response = await client.post("/v1/chat/completions", json=body, headers=auth())
    chunks = _data(response.text)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "streamed words here"
    assert response.text.rstrip().endswith("data: [DONE]")


async def test_rate_limit_before_the_stream_keeps_retry_after(translated) -> None:  # type: ignore[no-untyped-def]
    client, fake, _, _ = translated
    fake.enqueue(Fault(status=429, retry_after="2"))
    body = {"model": "gpt-5.5", "stream": True, "input": "hi"}
    response = await client.post("/v1/responses", json=body, headers=auth())
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert response.json()["error"]["code"] == "rate_limit_exceeded"


async def test_failure_inside_the_stream_becomes_response_failed(translated) -> None:  # type: ignore[no-untyped-def]
    client, fake, _, _ = translated
    fake.enqueue(Fault(failed_event=("overloaded", "upstream overloaded mid-answer")))
    body = {"model": "gpt-5.5", "stream": True, "input": "hi"}
    response = await client.post("/v1/responses", json=body, headers=auth())
    assert response.status_code == 200
    kinds = [event["type"] for event in _data(response.text)]
    assert kinds[-1] == "response.failed"
    assert "response.completed" not in kinds
