"""The shared Chat Completions adapter, through OpenAI's quirks: the request body."""

from __future__ import annotations

import json

import pytest

from messages.chat import (
    ImagePart,
    Message,
    Role,
    TextPart,
    ToolChoice,
    ToolChoiceMode,
    ToolKind,
)
from providers.adapter import CallTarget
from providers.openai_chat_upstream import ADAPTER
from tests.providers.anthropic_support import (
    APPLY_PATCH,
    PATCH,
    WEATHER,
    call,
    codex_like_conversation,
    request,
    tool_result,
    user,
)
from tests.providers.chat_family_support import body_of


def test_http_call_shape() -> None:
    http = ADAPTER.build_call(
        request(user("hi")), CallTarget(model="gpt-4o", api_key="sk-1", stream=True)
    )
    assert (http.method, http.path) == ("POST", "/chat/completions")
    assert dict(http.headers) == {
        "authorization": "Bearer sk-1",
        "content-type": "application/json",
        "accept": "text/event-stream",
    }
    body = json.loads(http.body)
    assert body == {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_codex_like_two_turn_conversation() -> None:
    conversation = codex_like_conversation(reasoning_effort="medium", max_output_tokens=2048)
    second_turn = request(
        *conversation.messages,
        Message(role=Role.ASSISTANT, content=(TextPart(text="Both listed."),)),
        user("Now remove b.txt"),
        tools=conversation.tools,
        reasoning_effort="medium",
        max_output_tokens=2048,
    )
    body = body_of(ADAPTER, second_turn, "gpt-5.1-codex")
    assert body["messages"] == [
        {"role": "system", "content": "You are Codex."},
        {"role": "user", "content": "List the files, twice."},
        {
            "role": "assistant",
            "content": "Running both.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "exec_command", "arguments": '{"cmd": "ls"}'},
                },
                {
                    "id": "call_2",
                    "type": "function",
                    "function": {"name": "exec_command", "arguments": "{}"},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "a.txt"},
        {"role": "tool", "tool_call_id": "call_2", "content": "b.txt"},
        {"role": "assistant", "content": "Both listed."},
        {"role": "user", "content": "Now remove b.txt"},
    ]  # OpenAI's and Anthropic's reasoning both dropped: Chat has no field for either
    assert body["tools"] == [
        {"type": "function", "function": {"name": "exec_command", "parameters": {"type": "object"}}}
    ]
    assert (body["max_completion_tokens"], body["reasoning_effort"]) == (2048, "medium")
    assert "max_tokens" not in body and "stream" not in body


def test_reasoning_effort_only_for_reasoning_models() -> None:
    assert "reasoning_effort" not in body_of(
        ADAPTER, request(user("hi"), reasoning_effort="high"), "gpt-4o"
    )
    assert (
        body_of(ADAPTER, request(user("hi"), reasoning_effort="minimal"), "o4-mini")[
            "reasoning_effort"
        ]
        == "minimal"
    )


def test_custom_tool_is_emulated_both_ways() -> None:
    conversation = request(
        user("patch it"),
        Message(
            role=Role.ASSISTANT,
            tool_calls=(call("call_p", PATCH, "apply_patch", kind=ToolKind.CUSTOM),),
        ),
        tool_result("call_p", "Done!", ToolKind.CUSTOM),
        tools=(APPLY_PATCH,),
    )
    body = body_of(ADAPTER, conversation)
    [tool] = body["tools"]
    assert tool["function"]["name"] == "apply_patch"
    assert tool["function"]["parameters"]["required"] == ["input"]
    assert "free-form text" in tool["function"]["description"]
    [assistant_call] = body["messages"][1]["tool_calls"]
    assert json.loads(assistant_call["function"]["arguments"]) == {"input": PATCH}
    assert body["messages"][2] == {"role": "tool", "tool_call_id": "call_p", "content": "Done!"}


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (None, None),
        (ToolChoice(mode=ToolChoiceMode.AUTO), "auto"),
        (ToolChoice(mode=ToolChoiceMode.NONE), "none"),
        (ToolChoice(mode=ToolChoiceMode.REQUIRED), "required"),
        (
            ToolChoice(mode=ToolChoiceMode.NAMED, name="get_weather"),
            {"type": "function", "function": {"name": "get_weather"}},
        ),
    ],
)
def test_tool_choice(choice: ToolChoice | None, expected: object) -> None:
    body = body_of(
        ADAPTER, request(user("x"), tools=(WEATHER,), tool_choice=choice, parallel_tool_calls=False)
    )
    assert body.get("tool_choice") == expected
    assert body["parallel_tool_calls"] is False


def test_sampling_stop_and_images() -> None:
    picture = Message(
        role=Role.USER,
        content=(
            TextPart(text="what is it?"),
            ImagePart(url="data:image/png;base64,AAA", detail="low"),
        ),
    )
    body = body_of(ADAPTER, request(picture, temperature=0.2, top_p=0.9, stop=("END",)))
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "what is it?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAA", "detail": "low"}},
    ]
    assert (body["temperature"], body["top_p"], body["stop"]) == (0.2, 0.9, ["END"])


def test_empty_arguments_are_sent_as_an_empty_object() -> None:
    conversation = request(
        user("x"), Message(role=Role.ASSISTANT, tool_calls=(call("c", ""),)), tool_result("c", "ok")
    )
    assert (
        body_of(ADAPTER, conversation)["messages"][1]["tool_calls"][0]["function"]["arguments"]
        == "{}"
    )
