"""A Messages-API client served by an Anthropic upstream: the request goes up as the
client wrote it (prompt-cache marks, ``top_k``, ``context_management``, the
``anthropic-beta`` header) with only the model, the capped ``max_tokens``, the key and
other providers' thinking changed, and the events come back byte for byte; the trail
still gets the usage and the Message."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import trio

from fakes import FakeProviderServer, FakeUsage, Fault, Reply, Text, Turn
from tests.gateway_rig import (
    PROVIDER_KEY,
    VIRTUAL_KEY,
    Trail,
    config_yaml,
    make_config,
    running_gateway,
)
from tests.scenarios.conftest import Rig
from tests.scenarios.translation_rig import MODELS, provider_for

BETA = "claude-code-20250219,context-management-2025-06-27"
HEADERS = {"x-api-key": VIRTUAL_KEY, "anthropic-version": "2023-06-01", "anthropic-beta": BETA}
BODY: dict[str, Any] = {
    "model": "claude-opus-5-5",
    "max_tokens": 128000,
    "system": [{"type": "text", "text": "sys", "cache_control": {"type": "ephemeral"}}],
    "messages": [
        {"role": "user", "content": "hi"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "gem", "signature": "swy1:gemini:abc"},
                {"type": "thinking", "thinking": "mine", "signature": "EqAnthropicSig"},
                {"type": "text", "text": "hello"},
            ],
        },
        {
            "role": "user",
            "content": [{"type": "text", "text": "again", "cache_control": {"type": "ephemeral"}}],
        },
    ],
    "top_k": 7,
    "metadata": {"user_id": "user_1"},
    "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
}


@pytest.fixture
async def anthropic_rig(fake: FakeProviderServer, tmp_path: Path) -> AsyncIterator[Rig]:
    db = tmp_path / "trail.db"
    config = make_config(config_yaml([provider_for("anthropic", fake)], db_path=db))
    async with running_gateway(config) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as client:
            yield Rig(fake=fake, gateway=gateway, client=client, trail=Trail(db))


def _sent(rig: Rig) -> dict[str, Any]:
    body = rig.fake.requests[-1].body
    assert isinstance(body, dict)
    return body


@pytest.mark.parametrize("stream", [False, True])
async def test_the_request_goes_up_as_written(anthropic_rig: Rig, stream: bool) -> None:
    rig = anthropic_rig
    usage = FakeUsage(input_tokens=50, output_tokens=5)
    rig.fake.enqueue(Reply(items=(Text(text="as is"),), usage=usage))
    response = await rig.client.post(
        "/v1/messages", json={**BODY, "stream": stream}, headers=HEADERS
    )
    assert response.status_code == 200, response.text
    upstream = rig.fake.requests[-1]
    assert upstream.header("x-api-key") == PROVIDER_KEY
    assert upstream.header("anthropic-beta") == BETA
    sent = _sent(rig)
    assert sent["model"] == MODELS["anthropic"]
    assert sent["max_tokens"] == 64000  # the model's ceiling, as the budget estimate holds
    for kept in ("system", "top_k", "metadata", "context_management"):
        assert sent[kept] == BODY[kept]
    assert sent["messages"][2] == BODY["messages"][2]  # its cache mark too
    thinking = [b for b in sent["messages"][1]["content"] if b["type"] == "thinking"]
    assert [b["signature"] for b in thinking] == ["EqAnthropicSig"]  # Gemini's left out
    if stream:
        assert response.text.startswith("event: message_start")
        assert response.text.rstrip().endswith('data: {"type":"message_stop"}')
    else:
        assert response.json()["content"] == [{"type": "text", "text": "as is"}]

    with trio.fail_after(5):
        while not (rows := rig.trail.rows("SELECT * FROM requests WHERE status = 'completed'")):
            await trio.sleep(0.02)
    (row,) = rows
    assert row["client_format"] == "anthropic" and row["provider"] == "fake-anthropic"
    assert row["input_tokens"] == 50 and row["output_tokens"] == 5
    stored = rig.trail.body(row["request_id"], "response.completed")
    assert stored is not None and b"as is" in stored


async def test_a_cut_stream_ends_with_an_error_event(anthropic_rig: Rig) -> None:
    rig = anthropic_rig
    reply = Reply(items=(Text(text="a long answer " * 5),))
    rig.fake.enqueue(Turn(reply=reply, fault=Fault(cut_after_events=3)))
    body = {**BODY, "stream": True}
    response = await rig.client.post("/v1/messages", json=body, headers=HEADERS)
    assert response.status_code == 200
    assert response.text.startswith("event: message_start")
    last = response.text.rstrip().split("\n\n")[-1]
    assert last.startswith("event: error\ndata: ")
    error = orjson.loads(last.split("data: ", 1)[1])
    assert error["type"] == "error" and error["error"]["type"] == "api_error"
    with trio.fail_after(5):
        while not (rows := rig.trail.rows("SELECT * FROM requests WHERE status = 'failed'")):
            await trio.sleep(0.02)
    assert rows[0]["error_kind"] in ("protocol", "upstream_error")  # cut: the body ends early


async def test_an_upstream_error_keeps_anthropics_words(anthropic_rig: Rig) -> None:
    rig = anthropic_rig
    rig.fake.enqueue(
        Fault(status=400, error_type="invalid_request_error", error_message="top_k: bad")
    )
    response = await rig.client.post("/v1/messages", json=BODY, headers=HEADERS)
    assert response.status_code == 400
    document = response.json()
    assert document["error"] == {"type": "invalid_request_error", "message": "top_k: bad"}
