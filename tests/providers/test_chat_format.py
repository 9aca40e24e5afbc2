"""Decoding Chat Completions requests, built around the recorded OpenAI replies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from messages.chat import (
    ImagePart,
    Reasoning,
    Role,
    TextPart,
    ToolChoice,
    ToolChoiceMode,
    ToolKind,
)
from providers.client_formats.chat_format import (
    CHAT_REASONING,
    RequestInvalid,
    chat_include_usage,
    decode_chat_request,
)

CHAT = Path(__file__).parent / "fixtures" / "openai-chat"

WEATHER_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "GetWeatherArgs",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            "strict": True,
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_stock_price",
            "description": "Fetch the latest price.",
            "parameters": {"type": "object", "properties": {"ticker": {"type": "string"}}},
        },
    },
]


def recorded_message(name: str) -> dict[str, Any]:
    reply = json.loads((CHAT / f"{name}.response.json").read_text())
    message: dict[str, Any] = reply["choices"][0]["message"]
    return message


def test_recorded_parallel_calls_come_back_as_history() -> None:
    """The next turn of openai-python's parallel-tools recording, as a client sends it."""
    assistant = recorded_message("nonstream-parallel-tool-calls")
    calls = assistant["tool_calls"]
    body = {
        "model": "gpt-4o-2024-08-06",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "What's the weather in Edinburgh and AAPL?"},
            assistant,
            {"role": "tool", "tool_call_id": calls[1]["id"], "content": '{"price": 1}'},
            {
                "role": "tool",
                "tool_call_id": calls[0]["id"],
                "content": [{"type": "text", "text": "9C"}],
            },
        ],
        "tools": WEATHER_TOOLS,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    request = decode_chat_request(body)

    roles = [m.role for m in request.messages]
    assert roles == [Role.SYSTEM, Role.USER, Role.ASSISTANT, Role.TOOL, Role.TOOL]
    turn = request.messages[2]
    assert turn.content == ()
    assert [(c.id, c.name) for c in turn.tool_calls] == [
        ("call_fdNz3vOBKYgOIpMdWotB9MjY", "GetWeatherArgs"),
        ("call_h1DWI1POMJLb0KwIyQHWXD4p", "get_stock_price"),
    ]
    assert json.loads(turn.tool_calls[0].arguments)["city"] == "Edinburgh"
    stock, weather = request.messages[3:]
    assert (stock.tool_name, stock.text) == ("get_stock_price", '{"price": 1}')
    assert (weather.tool_name, weather.text) == ("GetWeatherArgs", "9C")
    assert [t.name for t in request.tools] == ["GetWeatherArgs", "get_stock_price"]
    assert request.tools[0].strict is True
    assert request.tools[1].description == "Fetch the latest price."
    assert request.stream is True
    assert chat_include_usage(body) is True
    assert request.dropped == ()


def test_recorded_single_call_message() -> None:
    assistant = recorded_message("nonstream-tool-call")
    request = decode_chat_request({"model": "gpt-4o", "messages": [assistant]})
    (call,) = request.messages[0].tool_calls
    assert call.kind is ToolKind.FUNCTION
    assert json.loads(call.arguments)


def test_developer_images_reasoning_and_custom_tools() -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "developer", "content": [{"type": "text", "text": "Rules."}]},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "look"},
                    {
                        "type": "image_url",
                        "image_url": {"url": "https://x/a.png", "detail": "high"},
                    },
                    {"type": "input_audio", "input_audio": {"data": "", "format": "wav"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "reasoning_content": "Let me patch.",
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "custom",
                        "custom": {"name": "apply_patch", "input": "*** Begin Patch"},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "ok"},
        ],
        "tools": [
            {
                "type": "custom",
                "custom": {
                    "name": "apply_patch",
                    "description": "Edit files.",
                    "format": {
                        "type": "grammar",
                        "grammar": {"syntax": "lark", "definition": "start: X"},
                    },
                },
            }
        ],
        "tool_choice": {"type": "custom", "custom": {"name": "apply_patch"}},
        "max_tokens": 50,
        "stop": "END",
        "reasoning_effort": "low",
        "response_format": {"type": "json_object"},
    }
    request = decode_chat_request(body)
    system, user, assistant, tool = request.messages
    assert system.role is Role.SYSTEM
    assert system.text == "Rules."
    assert user.content == (TextPart(text="look"), ImagePart(url="https://x/a.png", detail="high"))
    assert assistant.reasoning == (Reasoning(provider=CHAT_REASONING, text="Let me patch."),)
    assert assistant.tool_calls[0].kind is ToolKind.CUSTOM
    assert (tool.tool_kind, tool.tool_name) == (ToolKind.CUSTOM, "apply_patch")
    (spec,) = request.tools
    assert spec.kind is ToolKind.CUSTOM
    assert spec.description.startswith("Edit files.\n\n")
    assert "lark grammar:\nstart: X" in spec.description
    assert request.tool_choice == ToolChoice(mode=ToolChoiceMode.NAMED, name="apply_patch")
    assert request.max_output_tokens == 50
    assert request.stop == ("END",)
    assert request.reasoning_effort == "low"
    assert request.dropped == ("content:input_audio", "response_format:json_object")
    assert chat_include_usage(body) is False


def test_max_completion_tokens_wins_and_function_choice() -> None:
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "x"}],
        "max_tokens": 10,
        "max_completion_tokens": 20,
        "stop": ["a", "b"],
        "tool_choice": {"type": "function", "function": {"name": "f"}},
        "temperature": 0,
        "parallel_tool_calls": False,
    }
    request = decode_chat_request(body)
    assert request.max_output_tokens == 20
    assert request.stop == ("a", "b")
    assert request.tool_choice == ToolChoice(mode=ToolChoiceMode.NAMED, name="f")
    assert request.temperature == 0.0
    assert request.parallel_tool_calls is False


def _messages(*messages: object) -> dict[str, object]:
    return {"model": "m", "messages": list(messages)}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ("text", None),
        ({"messages": [{"role": "user", "content": "x"}]}, "model"),
        ({"model": "m"}, "messages"),
        ({"model": "m", "messages": []}, "messages"),
        (_messages("hi"), "messages[0]"),
        (_messages({"role": "robot", "content": "x"}), "messages[0].role"),
        (_messages({"role": "user"}), "messages[0].content"),
        (_messages({"role": "user", "content": [{"type": "text"}]}), "messages[0].content[0].text"),
        (
            _messages(
                {
                    "role": "assistant",
                    "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": {}}}],
                }
            ),
            "messages[0].tool_calls[0].function.arguments",
        ),
        (
            _messages({"role": "assistant", "tool_calls": [{"function": {}}]}),
            "messages[0].tool_calls[0].id",
        ),
        (_messages({"role": "assistant", "tool_calls": {}}), "messages[0].tool_calls"),
        (_messages({"role": "assistant", "reasoning_content": 5}), "messages[0].reasoning_content"),
        (
            _messages({"role": "user", "content": "x"}, {"role": "tool", "content": "r"}),
            "messages[1].tool_call_id",
        ),
        ({**_messages({"role": "user", "content": "x"}), "stop": [1]}, "stop"),
        ({**_messages({"role": "user", "content": "x"}), "n": 2}, "n"),
        (
            {**_messages({"role": "user", "content": "x"}), "tools": [{"type": "web"}]},
            "tools[0].type",
        ),
        (
            {**_messages({"role": "user", "content": "x"}), "tools": [{"type": "function"}]},
            "tools[0].function",
        ),
        (
            {**_messages({"role": "user", "content": "x"}), "tool_choice": {"type": "x"}},
            "tool_choice.type",
        ),
        ({**_messages({"role": "user", "content": "x"}), "max_tokens": -1}, "max_tokens"),
    ],
)
def test_bad_requests_name_the_param(body: object, param: str | None) -> None:
    with pytest.raises(RequestInvalid) as caught:
        decode_chat_request(body)
    assert caught.value.param == param
