"""The official ``openai`` SDK, pointed at the gateway, consumes every stream the gateway
emits — Responses and Chat Completions, passthrough and translated — without error."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import openai
import pytest
import trio

from fakes import FakeProviderServer, FunctionCall, Reasoning, Reply, Text
from tests.gateway_rig import (
    VIRTUAL_KEY,
    config_yaml,
    make_config,
    openai_provider,
    running_gateway,
)
from tests.scenarios.translation_rig import provider_for

KINDS = ["openai", "anthropic", "gemini", "cohere", "mistral", "openai-compatible"]
TOOL = {
    "type": "function",
    "name": "exec_command",
    "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}},
}


@pytest.fixture(params=KINDS)
async def sdk(
    request: pytest.FixtureRequest, fake: FakeProviderServer, tmp_path: Path
) -> AsyncIterator[tuple[openai.OpenAI, FakeProviderServer]]:
    kind = request.param
    provider = openai_provider(fake.base_url) if kind == "openai" else provider_for(kind, fake)
    config = make_config(config_yaml([provider], db_path=tmp_path / "t.db"))
    async with running_gateway(config) as gateway:
        client = openai.OpenAI(
            base_url=gateway.base_url + "/v1", api_key=VIRTUAL_KEY, max_retries=0, timeout=20
        )
        yield client, fake
        client.close()


def _replies() -> list[Reply]:
    return [
        Reply(items=(Reasoning(summary="thinking it over"), Text(text="Hello from the SDK test."))),
        Reply(
            items=(
                FunctionCall(name="exec_command", arguments='{"cmd": "ls"}'),
                FunctionCall(name="exec_command", arguments='{"cmd": "pwd"}'),
            )
        ),
    ]


async def test_sdk_reads_responses_streams(sdk: tuple[openai.OpenAI, FakeProviderServer]) -> None:
    client, fake = sdk
    fake.enqueue(*_replies())

    def consume() -> list[object]:
        finals = []
        for _ in range(2):
            with client.responses.stream(model="gpt-5.5", input="hi", tools=[TOOL]) as stream:
                for _event in stream:
                    pass
                finals.append(stream.get_final_response())
        return finals

    text_response, call_response = await trio.to_thread.run_sync(consume)
    assert "Hello from the SDK test." in text_response.output_text  # type: ignore[attr-defined]
    calls = [item for item in call_response.output if item.type == "function_call"]  # type: ignore[attr-defined]
    assert [json.loads(call.arguments) for call in calls] == [{"cmd": "ls"}, {"cmd": "pwd"}]


async def test_sdk_reads_chat_streams(sdk: tuple[openai.OpenAI, FakeProviderServer]) -> None:
    client, fake = sdk
    fake.enqueue(*_replies())
    chat_tool = {
        "type": "function",
        "function": {"name": "exec_command", "parameters": TOOL["parameters"]},
    }

    def consume() -> list[object]:
        finals = []
        for _ in range(2):
            with client.chat.completions.stream(
                model="gpt-5.5",
                messages=[{"role": "user", "content": "hi"}],
                tools=[chat_tool],  # type: ignore[list-item]
            ) as stream:
                for _event in stream:
                    pass
                finals.append(stream.get_final_completion())
        return finals

    text, calls = await trio.to_thread.run_sync(consume)
    assert text.choices[0].message.content == "Hello from the SDK test."  # type: ignore[attr-defined]
    tool_calls = calls.choices[0].message.tool_calls  # type: ignore[attr-defined]
    assert [call.function.name for call in tool_calls] == ["exec_command", "exec_command"]
    assert calls.choices[0].finish_reason == "tool_calls"  # type: ignore[attr-defined]


async def test_sdk_reads_non_streaming_answers(
    sdk: tuple[openai.OpenAI, FakeProviderServer],
) -> None:
    client, fake = sdk
    fake.enqueue(Reply(items=(Text(text="whole answer"),)), Reply(items=(Text(text="whole chat"),)))

    def consume() -> tuple[object, object]:
        response = client.responses.create(model="gpt-5.5", input="hi")
        chat = client.chat.completions.create(
            model="gpt-5.5", messages=[{"role": "user", "content": "hi"}]
        )
        return response, chat

    response, chat = await trio.to_thread.run_sync(consume)
    assert response.output_text == "whole answer"  # type: ignore[attr-defined]
    assert chat.choices[0].message.content == "whole chat"  # type: ignore[attr-defined]
