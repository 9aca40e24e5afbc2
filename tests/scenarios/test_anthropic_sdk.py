"""The official ``anthropic`` SDK, pointed at the gateway's Messages endpoints, served by
upstreams of other formats (OpenAI-compatible Chat, Gemini) and by Anthropic itself:
streaming and not, a thinking block, a tool turn and the round trip of its result; the
trail records each request under the ``anthropic`` client format."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import anthropic
import pytest
import trio

from fakes import FakeProviderServer, FunctionCall, Reasoning, Reply, Text
from tests.gateway_rig import VIRTUAL_KEY, Trail, config_yaml, make_config, running_gateway
from tests.scenarios.translation_rig import provider_for

KINDS = ["openai-compatible", "gemini", "anthropic"]
BASH = {
    "name": "Bash",
    "description": "Run a shell command",
    "input_schema": {
        "type": "object",
        "properties": {"command": {"type": "string"}},
        "required": ["command"],
    },
}


@dataclass
class SdkRig:
    client: anthropic.Anthropic
    fake: FakeProviderServer
    trail: Trail
    kind: str
    base_url: str


@pytest.fixture(params=KINDS)
async def sdk(
    request: pytest.FixtureRequest, fake: FakeProviderServer, tmp_path: Path
) -> AsyncIterator[SdkRig]:
    kind = request.param
    db = tmp_path / "t.db"
    config = make_config(config_yaml([provider_for(kind, fake)], db_path=db))
    async with running_gateway(config) as gateway:
        client = anthropic.Anthropic(
            base_url=gateway.base_url, api_key=VIRTUAL_KEY, max_retries=0, timeout=20
        )
        yield SdkRig(client, fake, Trail(db), kind, gateway.base_url)
        client.close()


def _thinking_then_call() -> Reply:
    return Reply(
        items=(
            Reasoning(summary="I should list the files."),
            Text(text="Let me look."),
            FunctionCall(name="Bash", arguments='{"command": "ls"}', call_id="call_1"),
        ),
        finish="tool_calls",
    )


def _expected_blocks(kind: str) -> list[str]:
    """Chat Completions carries no reasoning text (the fake's Chat wire sends none), so a
    Chat upstream's answer has no thinking block; Gemini's thoughts and Anthropic's
    thinking come back as one, and Gemini's ``thoughtSignature`` on its function call as
    a signed thinking block of its own just before the call (it must go back with it)."""
    if kind == "openai-compatible":
        return ["text", "tool_use"]
    if kind == "gemini":
        return ["thinking", "text", "thinking", "tool_use"]
    return ["thinking", "text", "tool_use"]


def _conversation(first: anthropic.types.Message) -> list[dict[str, object]]:
    """The next turn's messages: the assistant turn as received, then the tool result."""
    call = next(block for block in first.content if block.type == "tool_use")
    return [
        {"role": "user", "content": "What is here?"},
        {"role": "assistant", "content": [block.model_dump() for block in first.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "a.txt\nb.txt"}],
        },
    ]


async def test_streamed_tool_turn_with_thinking(sdk: SdkRig) -> None:
    sdk.fake.enqueue(_thinking_then_call(), Reply(items=(Text(text="Two files."),)))

    def consume() -> tuple[anthropic.types.Message, anthropic.types.Message, list[str]]:
        kinds: list[str] = []
        with sdk.client.messages.stream(
            model="claude-sonnet-4-5",
            max_tokens=20000,
            system=[{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
            messages=[{"role": "user", "content": "What is here?"}],
            tools=[BASH],  # type: ignore[list-item]
            thinking={"type": "enabled", "budget_tokens": 4096},
        ) as stream:
            for event in stream:
                kinds.append(event.type)
            first = stream.get_final_message()
        with sdk.client.messages.stream(
            model="claude-sonnet-4-5",
            max_tokens=20000,
            messages=_conversation(first),  # type: ignore[arg-type]
            tools=[BASH],  # type: ignore[list-item]
            thinking={"type": "enabled", "budget_tokens": 4096},
        ) as stream:
            second = stream.get_final_message()
        return first, second, kinds

    first, second, kinds = await trio.to_thread.run_sync(consume)
    types = [block.type for block in first.content]
    assert types == _expected_blocks(sdk.kind)
    call = first.content[-1]
    if types[0] == "thinking":
        thinking = first.content[0]
        assert thinking.thinking == "I should list the files."  # type: ignore[union-attr]
        assert thinking.signature  # type: ignore[union-attr]
    assert call.name == "Bash" and call.input == {"command": "ls"}  # type: ignore[union-attr]
    assert first.stop_reason == "tool_use"
    assert first.usage.output_tokens > 0
    assert kinds[0] == "message_start" and "content_block_delta" in kinds
    assert second.content[0].text == "Two files."  # type: ignore[union-attr]
    assert second.stop_reason == "end_turn"
    _assert_result_reached_upstream(sdk, call.id)  # type: ignore[union-attr]
    await _assert_trail(sdk, stream=True)


def _assert_result_reached_upstream(sdk: SdkRig, call_id: str) -> None:
    """The second upstream request carries the call and its result, in its own format."""
    sent = json.dumps(sdk.fake.requests[-1].body)
    assert "a.txt" in sent and "Bash" in sent
    if sdk.kind == "gemini":  # the call's thoughtSignature went back with the call
        assert "thoughtSignature" in sent
    if sdk.kind == "anthropic":  # Anthropic's own signature went back to Anthropic
        body = sdk.fake.requests[-1].body
        assert isinstance(body, dict)
        assistant = body["messages"][1]["content"]
        assert assistant[0]["type"] == "thinking" and assistant[0]["signature"]
        assert not assistant[0]["signature"].startswith("swy1")
    else:
        assert call_id in sent or sdk.kind == "gemini"  # Gemini pairs by name


async def _assert_trail(sdk: SdkRig, *, stream: bool) -> None:
    with trio.fail_after(10):
        while True:
            rows = sdk.trail.rows("SELECT * FROM requests ORDER BY started_at")
            if len(rows) >= 2 and all(row["status"] == "completed" for row in rows):
                break
            await trio.sleep(0.05)
    for row in rows:
        assert row["client_format"] == "anthropic"
        assert row["endpoint"] == "/v1/messages"
        assert row["http_status"] == 200 and row["input_tokens"] > 0
        assert bool(row["stream"]) is stream


async def test_non_streamed_tool_turn(sdk: SdkRig) -> None:
    sdk.fake.enqueue(_thinking_then_call(), Reply(items=(Text(text="Two files."),)))

    def consume() -> tuple[anthropic.types.Message, anthropic.types.Message]:
        first = sdk.client.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=20000,
            messages=[{"role": "user", "content": "What is here?"}],
            tools=[BASH],  # type: ignore[list-item]
            tool_choice={"type": "auto"},
            thinking={"type": "enabled", "budget_tokens": 4096},
        )
        second = sdk.client.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=20000,
            messages=_conversation(first),  # type: ignore[arg-type]
            tools=[BASH],  # type: ignore[list-item]
        )
        return first, second

    first, second = await trio.to_thread.run_sync(consume)
    assert [block.type for block in first.content] == _expected_blocks(sdk.kind)
    assert first.content[-1].input == {"command": "ls"}  # type: ignore[union-attr]
    assert first.stop_reason == "tool_use"
    assert first.id.startswith("msg_")
    assert second.content[0].text == "Two files."  # type: ignore[union-attr]
    _assert_result_reached_upstream(sdk, first.content[-1].id)  # type: ignore[union-attr]
    await _assert_trail(sdk, stream=False)


async def test_image_and_mid_conversation_system(sdk: SdkRig) -> None:
    """Claude Code's ``system`` message inside ``messages`` and an image block are
    placed for the upstream, not rejected."""
    sdk.fake.enqueue(Reply(items=(Text(text="A red dot."),)))
    pixel = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8AAAAMBAQDJ/pLv"
    pixel += "AAAAAElFTkSuQmCC"
    image = {"type": "base64", "media_type": "image/png", "data": pixel}

    def consume() -> anthropic.types.Message:
        return sdk.client.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=1000,
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is this?"},
                        {"type": "image", "source": image},
                    ],
                },
                {"role": "system", "content": "Answer in four words."},  # type: ignore[list-item]
            ],
        )

    message = await trio.to_thread.run_sync(consume)
    assert message.content[0].text == "A red dot."  # type: ignore[union-attr]
    sent = json.dumps(sdk.fake.requests[-1].body)
    assert pixel in sent and "Answer in four words." in sent
