"""Anthropic adapter: the top-level request fields (tools, max_tokens, thinking, sampling)."""

from __future__ import annotations

from typing import Any

import pytest

from messages.chat import ChatRequest, Message, Role, ToolChoice, ToolChoiceMode, ToolSpec
from tests.providers.anthropic_support import (
    WEATHER,
    body_of,
    codex_like_conversation,
    request,
    user,
)


@pytest.mark.parametrize(
    ("choice", "parallel", "expected"),
    [
        (None, None, None),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
        (ToolChoice(mode=ToolChoiceMode.AUTO), None, {"type": "auto"}),
        (ToolChoice(mode=ToolChoiceMode.NONE), False, {"type": "none"}),
        (ToolChoice(mode=ToolChoiceMode.REQUIRED), None, {"type": "any"}),
        (
            ToolChoice(mode=ToolChoiceMode.REQUIRED),
            False,
            {"type": "any", "disable_parallel_tool_use": True},
        ),
        (
            ToolChoice(mode=ToolChoiceMode.NAMED, name="spawn"),
            None,
            {"type": "tool", "name": "ns__spawn"},
        ),
    ],
)
def test_tool_choice(choice: ToolChoice | None, parallel: bool | None, expected: object) -> None:
    tools = (WEATHER, ToolSpec(name="spawn", namespace="ns"))
    body = body_of(
        request(user("hi"), tools=tools, tool_choice=choice, parallel_tool_calls=parallel)
    )
    assert body.get("tool_choice") == expected


def test_no_tools_means_no_tool_choice() -> None:
    body = body_of(request(user("hi"), tool_choice=ToolChoice(mode=ToolChoiceMode.REQUIRED)))
    assert "tools" not in body
    assert "tool_choice" not in body


@pytest.mark.parametrize(
    ("model", "asked", "expected"),
    [
        ("claude-opus-4-1-20250805", None, 32000),
        ("claude-opus-4-20250514", None, 32000),
        ("claude-sonnet-4-5-20250929", None, 64000),
        ("claude-opus-4-6", None, 128000),
        ("claude-3-5-haiku-latest", None, 8192),
        ("some-proxy-model", None, 8192),
        ("claude-haiku-4-5", 1000, 1000),
        ("claude-haiku-4-5", 10**6, 64000),
        ("some-proxy-model", 100000, 100000),
    ],
)
def test_max_tokens(model: str, asked: int | None, expected: int) -> None:
    assert body_of(request(user("hi"), max_output_tokens=asked), model)["max_tokens"] == expected


@pytest.mark.parametrize(
    ("model", "fields", "thinking", "output_config"),
    [
        (
            "claude-sonnet-4-5",
            {"reasoning_effort": "low"},
            {"type": "enabled", "budget_tokens": 2048},
            None,
        ),
        (
            "claude-sonnet-4-5",
            {"reasoning_effort": "high"},
            {"type": "enabled", "budget_tokens": 24576},
            None,
        ),
        (
            "claude-sonnet-4-5",
            {"reasoning_effort": "high", "max_output_tokens": 10000},
            {"type": "enabled", "budget_tokens": 8976},
            None,
        ),
        ("claude-sonnet-4-5", {"reasoning_effort": "high", "max_output_tokens": 2000}, None, None),
        ("claude-sonnet-4-5", {"reasoning_effort": "minimal"}, None, None),
        (
            "claude-opus-4-7",
            {"reasoning_effort": "medium"},
            {"type": "adaptive"},
            {"effort": "medium"},
        ),
        ("claude-3-5-sonnet-latest", {"reasoning_effort": "high"}, None, None),
        (
            "claude-sonnet-4-5",
            {"reasoning_effort": "high", "tool_choice": ToolChoice(mode=ToolChoiceMode.REQUIRED)},
            None,
            None,
        ),
    ],
)
def test_thinking(
    model: str, fields: dict[str, Any], thinking: object, output_config: object
) -> None:
    body = body_of(request(user("hi"), tools=(WEATHER,), temperature=0.3, **fields), model)
    assert body.get("thinking") == thinking
    assert body.get("output_config") == output_config
    if thinking is None:
        assert body["temperature"] == 0.3
    else:
        assert "temperature" not in body
        assert body["max_tokens"] > body["thinking"].get("budget_tokens", 0)


def test_thinking_off_when_last_tool_turn_has_no_signed_thinking() -> None:
    conversation = codex_like_conversation(reasoning_effort="high")
    assistant = conversation.messages[2]
    from_openai = Message(
        role=Role.ASSISTANT,
        tool_calls=assistant.tool_calls,
        reasoning=(assistant.reasoning[0],),
    )
    other = ChatRequest(
        model="m",
        messages=(*conversation.messages[:2], from_openai, *conversation.messages[3:]),
        tools=conversation.tools,
        reasoning_effort="high",
    )
    assert "thinking" in body_of(conversation)
    assert "thinking" not in body_of(other)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"temperature": 1.7}, {"temperature": 1.0}),
        ({"temperature": -0.5}, {"temperature": 0.0}),
        ({"temperature": 0.2, "top_p": 0.9}, {"temperature": 0.2}),
        ({"top_p": 0.9}, {"top_p": 0.9}),
        ({"stop": ("END", "  ", "\n\nHuman:")}, {"stop_sequences": ["END", "\n\nHuman:"]}),
    ],
)
def test_sampling(fields: dict[str, Any], expected: dict[str, object]) -> None:
    body = body_of(request(user("hi"), **fields))
    assert {k: body[k] for k in ("temperature", "top_p", "stop_sequences") if k in body} == expected
