"""Anthropic Messages requests into the IR (``anthropic_format``) and IR deltas back into
Anthropic's Message object and SSE grammar (``anthropic_encoder``)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from messages.chat import (
    Finish,
    FinishReason,
    ImagePart,
    Reasoning,
    ReasoningDelta,
    ReasoningDone,
    Role,
    StreamDelta,
    TextDelta,
    TextPart,
    ToolCallArgs,
    ToolCallStart,
    ToolChoice,
    ToolChoiceMode,
    UsageReport,
)
from messages.errors import ErrorInfo, ErrorKind
from messages.usage import Usage
from providers.client_formats.anthropic_encoder import AnthropicStreamEncoder
from providers.client_formats.anthropic_format import decode_anthropic_request
from providers.client_formats.request_fields import RequestInvalid

CLAUDE_CODE_LIKE: dict[str, Any] = {
    "model": "claude-opus-5-5",
    "max_tokens": 128000,
    "stream": True,
    "system": [
        {"type": "text", "text": "You are Claude Code."},
        {"type": "text", "text": "Be careful.", "cache_control": {"type": "ephemeral"}},
    ],
    "messages": [
        {"role": "user", "content": [{"type": "text", "text": "list files"}]},
        {"role": "system", "content": [{"type": "text", "text": "# Environment"}]},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "use ls", "signature": "EqQBsig"},
                {"type": "text", "text": "Listing."},
                {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "<system-reminder>x</system-reminder>"},
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "a.txt"},
            ],
        },
    ],
    "tools": [
        {
            "name": "Bash",
            "description": "Run a command",
            "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}},
            "defer_loading": False,
        },
        {"type": "web_search_20250305", "name": "web_search"},
    ],
    "metadata": {"user_id": "user_abc"},
    "thinking": {"type": "adaptive", "display": "omitted"},
    "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
    "output_config": {"effort": "medium"},
    "top_k": 5,
}


def test_claude_code_body_decodes_with_every_drop_noted() -> None:
    request = decode_anthropic_request(CLAUDE_CODE_LIKE)
    roles = [message.role for message in request.messages]
    assert roles == [Role.SYSTEM, Role.USER, Role.SYSTEM, Role.ASSISTANT, Role.TOOL, Role.USER]
    assert request.messages[0].text == "You are Claude Code.Be careful."
    assistant = request.messages[3]
    assert assistant.reasoning == (
        Reasoning(provider="anthropic", text="use ls", signature="EqQBsig"),
    )
    assert assistant.tool_calls[0].name == "Bash"
    assert orjson.loads(assistant.tool_calls[0].arguments) == {"command": "ls"}
    result = request.messages[4]  # the tool result first, then the turn's text
    assert result.tool_call_id == "toolu_1" and result.text == "a.txt"
    assert result.tool_name == "Bash"
    assert [tool.name for tool in request.tools] == ["Bash"]
    assert request.max_output_tokens == 128000
    assert request.reasoning_effort == "medium"
    assert request.stream is True
    assert set(request.dropped) == {
        "cache_control",
        "tools.defer_loading",
        "tool:web_search_20250305",
        "metadata",
        "context_management",
        "top_k",
    }


@pytest.mark.parametrize(
    ("thinking", "config", "effort"),
    [
        (None, None, None),
        ({"type": "disabled"}, None, None),
        ({"type": "enabled", "budget_tokens": 1024}, None, "low"),
        ({"type": "enabled", "budget_tokens": 8000}, None, "medium"),
        ({"type": "enabled", "budget_tokens": 32000}, None, "high"),
        ({"type": "adaptive"}, None, "high"),
        ({"type": "adaptive"}, {"effort": "low"}, "low"),
        ({"type": "adaptive"}, {"effort": "max"}, "high"),
    ],
)
def test_thinking_becomes_a_reasoning_effort(
    thinking: dict[str, Any] | None, config: dict[str, Any] | None, effort: str | None
) -> None:
    body: dict[str, Any] = {
        "model": "m",
        "max_tokens": 64000,
        "messages": [{"role": "user", "content": "hi"}],
    }
    if thinking is not None:
        body["thinking"] = thinking
    if config is not None:
        body["output_config"] = config
    assert decode_anthropic_request(body).reasoning_effort == effort


def test_images_tool_choice_and_wrapped_signatures() -> None:
    body = {
        "model": "m",
        "max_tokens": 10,
        "messages": [
            {
                "role": "user",
                "content": [
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": "AAA"},
                    },
                    {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}},
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "", "signature": "swy1:gemini:c2ln"},
                    {"type": "redacted_thinking", "data": "opaque"},
                    {"type": "text", "text": "ok"},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "x", "content": "no", "is_error": True}
                ],
            },
        ],
        "tool_choice": {"type": "tool", "name": "Bash", "disable_parallel_tool_use": True},
        "stop_sequences": ["END"],
    }
    request = decode_anthropic_request(body)
    assert request.messages[0].content == (
        ImagePart(url="data:image/png;base64,AAA"),
        ImagePart(url="https://x/y.png"),
    )
    reasoning = request.messages[1].reasoning
    assert reasoning[0].provider == "gemini" and reasoning[0].signature == "c2ln"
    assert reasoning[1] == Reasoning(provider="anthropic", signature="opaque", redacted=True)
    assert request.messages[2].content == (TextPart(text="Error: "), TextPart(text="no"))
    assert request.tool_choice == ToolChoice(mode=ToolChoiceMode.NAMED, name="Bash")
    assert request.parallel_tool_calls is False
    assert request.stop == ("END",)


def test_a_block_of_the_wrong_shape_names_its_place() -> None:
    body = {
        "model": "m",
        "max_tokens": 10,
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text"}]}
        ],
    }
    with pytest.raises(RequestInvalid) as raised:
        decode_anthropic_request(body)
    assert raised.value.param == "messages[0].content[1].text"


def _events(data: bytes) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in data.decode().split("\n\n"):
        if not block:
            continue
        name_line, data_line = block.split("\n")
        name = name_line.removeprefix("event: ")
        document = orjson.loads(data_line.removeprefix("data: "))
        assert document["type"] == name
        events.append((name, document))
    return events


def _reply() -> list[StreamDelta]:
    return [
        ReasoningDelta(text="think"),
        ReasoningDone(reasoning=Reasoning(provider="anthropic", text="think", signature="SIG")),
        TextDelta(text="Hel"),
        TextDelta(text="lo"),
        ToolCallStart(index=0, id="call_9", name="Bash"),
        ToolCallArgs(index=0, fragment='{"command":'),
        ToolCallArgs(index=0, fragment='"ls"}'),
        Finish(reason=FinishReason.TOOL_CALLS),
        UsageReport(usage=Usage(input_tokens=100, cached_input_tokens=40, output_tokens=7)),
    ]


def test_stream_follows_anthropics_grammar() -> None:
    encoder = AnthropicStreamEncoder(message_id="msg_1", model="m")
    data = encoder.start() + b"".join(encoder.feed(d) for d in _reply()) + encoder.finish()
    events = _events(data)
    names = [name for name, _ in events]
    assert names == [
        "message_start",
        "ping",
        "content_block_start",  # thinking
        "content_block_delta",
        "content_block_delta",  # signature
        "content_block_stop",
        "content_block_start",  # text
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",  # tool_use
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    deltas = [doc["delta"]["type"] for name, doc in events if name == "content_block_delta"]
    assert deltas == [
        "thinking_delta",
        "signature_delta",
        "text_delta",
        "text_delta",
        "input_json_delta",
        "input_json_delta",
    ]
    assert [doc["index"] for name, doc in events if name == "content_block_start"] == [0, 1, 2]
    final = events[-2][1]
    assert final["delta"]["stop_reason"] == "tool_use"
    assert final["usage"] == {
        "input_tokens": 60,
        "output_tokens": 7,
        "cache_read_input_tokens": 40,
        "cache_creation_input_tokens": 0,
    }


def test_the_same_deltas_make_the_message_object() -> None:
    encoder = AnthropicStreamEncoder(message_id="msg_1", model="m", streaming=False)
    assert encoder.start() == b""
    assert all(encoder.feed(d) == b"" for d in _reply())
    assert encoder.finish() == b""
    message = orjson.loads(encoder.response_json())
    assert message["type"] == "message" and message["role"] == "assistant"
    assert message["content"] == [
        {"type": "thinking", "thinking": "think", "signature": "SIG"},
        {"type": "text", "text": "Hello"},
        {"type": "tool_use", "id": "call_9", "name": "Bash", "input": {"command": "ls"}},
    ]
    assert message["stop_reason"] == "tool_use"


def test_other_providers_state_is_wrapped_and_unsigned_thinking_gets_a_tag() -> None:
    encoder = AnthropicStreamEncoder(message_id="msg_1", model="m", streaming=False)
    encoder.feed(ReasoningDone(reasoning=Reasoning(provider="gemini", signature="g")))
    encoder.feed(ReasoningDelta(text="loose thought"))
    encoder.feed(TextDelta(text="x"))
    encoder.finish()
    thinking = orjson.loads(encoder.response_json())["content"][:2]
    assert thinking[0]["signature"] == "swy1:gemini:g"
    assert thinking[1]["signature"] == "swy1:switchyard:"  # no provider will be sent it


def test_length_cut_and_failure() -> None:
    encoder = AnthropicStreamEncoder(message_id="msg_1", model="m")
    encoder.start()
    encoder.feed(TextDelta(text="partial"))
    encoder.feed(Finish(reason=FinishReason.LENGTH))
    assert b'"stop_reason":"max_tokens"' in encoder.finish()

    failing = AnthropicStreamEncoder(message_id="msg_2", model="m")
    failing.start()
    error = ErrorInfo(kind=ErrorKind.OVERLOADED, status=503, message="busy")
    out = failing.fail(error)
    assert _events(out) == [
        ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}})
    ]
    assert failing.finish() == b""  # nothing after the error
