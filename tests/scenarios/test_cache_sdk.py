"""A cached answer streamed back is consumed by the official ``openai`` SDK like a live
one — Responses and Chat Completions, from a passthrough (OpenAI) and from a
translated provider (Anthropic: reasoning with opaque state, tool calls)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import trio

from fakes import FakeProviderServer, FunctionCall, Reasoning, Reply, Text
from tests.gateway_rig import (
    ADMIN_KEY,
    VIRTUAL_KEY,
    admin_auth,
    config_yaml,
    make_config,
    openai_provider,
    running_gateway,
)
from tests.scenarios.translation_rig import provider_for

CACHE_ON = "cache:\n  policies:\n    - {level: account, id: dev, mode: exact}\n"
TOOL = {
    "type": "function",
    "name": "exec_command",
    "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}},
}
CHAT_TOOL = {
    "type": "function",
    "function": {"name": "exec_command", "parameters": TOOL["parameters"]},
}


@pytest.fixture(params=["openai", "anthropic"])
async def sdk(
    request: pytest.FixtureRequest, fake: FakeProviderServer, tmp_path: Path
) -> AsyncIterator[openai.OpenAI]:
    kind = request.param
    provider = openai_provider(fake.base_url) if kind == "openai" else provider_for(kind, fake)
    text = config_yaml(
        [provider], db_path=tmp_path / "t.db", extra_keys=CACHE_ON, admin_key=ADMIN_KEY
    )
    async with running_gateway(make_config(text)) as gateway:
        client = openai.OpenAI(
            base_url=gateway.base_url + "/v1", api_key=VIRTUAL_KEY, max_retries=0, timeout=20
        )
        yield client
        client.close()


def _answer() -> Reply:
    return Reply(
        items=(
            Reasoning(summary="let me look"),
            Text(text="Listing the files."),
            FunctionCall(name="exec_command", arguments='{"cmd": "ls"}'),
        )
    )


async def _until_kept(client: openai.OpenAI) -> None:
    """The cache actor takes the answer just after the client has it: wait for that."""
    base = str(client.base_url).removesuffix("/v1/")
    async with httpx.AsyncClient(base_url=base, headers=admin_auth()) as admin:
        with trio.fail_after(10):
            while (await admin.get("/healthz")).json()["cache"]["stored"] < 1:
                await trio.sleep(0.02)


async def test_sdk_reads_a_cached_responses_stream(
    sdk: openai.OpenAI, fake: FakeProviderServer
) -> None:
    fake.enqueue(_answer())

    def consume() -> Any:
        with sdk.responses.stream(model="gpt-5.5", input="what is here?", tools=[TOOL]) as stream:  # type: ignore[list-item]
            types = [event.type for event in stream]
            return types, stream.get_final_response()

    live_types, live = await trio.to_thread.run_sync(consume)
    await _until_kept(sdk)
    hit_types, hit = await trio.to_thread.run_sync(consume)
    assert len(fake.requests) == 1
    assert [t for t in hit_types if not t.endswith("delta")] == [
        t for t in live_types if not t.endswith("delta")
    ]
    assert hit.id != live.id and hit.status == "completed"
    assert hit.output_text == live.output_text == "Listing the files."
    live_call = next(item for item in live.output if item.type == "function_call")
    hit_call = next(item for item in hit.output if item.type == "function_call")
    assert json.loads(hit_call.arguments) == {"cmd": "ls"}
    assert hit_call.call_id != live_call.call_id  # fresh ids
    live_reasoning = next(item for item in live.output if item.type == "reasoning")
    hit_reasoning = next(item for item in hit.output if item.type == "reasoning")
    assert hit_reasoning.encrypted_content == live_reasoning.encrypted_content  # still its maker's


async def test_sdk_reads_a_cached_chat_stream(sdk: openai.OpenAI, fake: FakeProviderServer) -> None:
    fake.enqueue(_answer())

    def consume() -> Any:
        with sdk.chat.completions.stream(
            model="gpt-5.5",
            messages=[{"role": "user", "content": "what is here?"}],
            tools=[CHAT_TOOL],  # type: ignore[list-item]
            stream_options={"include_usage": True},
        ) as stream:
            for _event in stream:
                pass
            return stream.get_final_completion()

    live = await trio.to_thread.run_sync(consume)
    await _until_kept(sdk)
    hit = await trio.to_thread.run_sync(consume)
    assert len(fake.requests) == 1
    assert hit.id != live.id
    message = hit.choices[0].message
    assert message.content == live.choices[0].message.content == "Listing the files."
    [call] = message.tool_calls
    assert call.function.name == "exec_command" and json.loads(call.function.arguments) == {
        "cmd": "ls"
    }
    assert call.id != live.choices[0].message.tool_calls[0].id
    assert hit.choices[0].finish_reason == "tool_calls"
    assert hit.usage is not None and hit.usage.total_tokens == live.usage.total_tokens
