"""Anthropic adapter: the IR conversation → Anthropic ``system`` + ``messages``."""

from __future__ import annotations

import json

import pytest

from messages.chat import (
    ImagePart,
    Message,
    Reasoning,
    Role,
    TextPart,
    ToolKind,
    ToolSpec,
)
from providers.adapter import CallTarget
from providers.anthropic.adapter import ADAPTER
from tests.providers.anthropic_support import (
    APPLY_PATCH,
    PATCH,
    WEATHER,
    body_of,
    call,
    codex_like_conversation,
    fixture_json,
    request,
    tool_result,
    user,
)


def test_http_call_shape() -> None:
    target = CallTarget(
        model="claude-haiku-4-5", api_key="sk-ant-test", stream=True, prompt_cache=False
    )
    http = ADAPTER.build_call(request(user("hi")), target)
    assert (http.method, http.path) == ("POST", "/messages")
    assert dict(http.headers) == {
        "x-api-key": "sk-ant-test",
        "anthropic-version": "2023-06-01",
        "content-type": "application/json",
    }
    body = json.loads(http.body)
    assert (body["model"], body["stream"], body["messages"]) == (
        "claude-haiku-4-5",
        True,
        [{"role": "user", "content": "hi"}],
    )
    assert "stream" not in body_of(request(user("hi")))


def test_reproduces_the_recorded_second_turn() -> None:
    recorded = fixture_json("turn2-tool-use-flow.request.json")
    assert isinstance(recorded, dict)
    for message in recorded["messages"]:
        for block in message["content"] if isinstance(message["content"], list) else []:
            block.pop("caller", None)  # programmatic tool calling metadata, not ours
    conversation = request(
        user("What's the weather in SF in Celsius?"),
        Message(
            role=Role.ASSISTANT,
            tool_calls=(
                call("toolu_013DU6hV4C1M8dJ32ybQFAFi", '{"location": "SF", "units": "c"}'),
            ),
        ),
        tool_result(
            "toolu_013DU6hV4C1M8dJ32ybQFAFi",
            '{"location": "SF", "temperature": "20\\u00b0C", "condition": "Sunny"}',
        ),
        tools=(WEATHER,),
        max_output_tokens=1024,
    )
    assert body_of(conversation, "claude-haiku-4-5") == recorded


def test_codex_like_conversation_structure() -> None:
    body = body_of(codex_like_conversation(reasoning_effort="medium"))
    assert body["system"] == "You are Codex."
    assert body["max_tokens"] == 64000
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assistant = body["messages"][1]["content"]
    assert assistant == [
        {"type": "thinking", "thinking": "I should run ls.", "signature": "EvQB-sig"},
        {"type": "text", "text": "Running both."},
        {"type": "tool_use", "id": "call_1", "name": "exec_command", "input": {"cmd": "ls"}},
        {"type": "tool_use", "id": "call_2", "name": "exec_command", "input": {}},
    ]
    assert "gAAAA-openai" not in json.dumps(body)
    assert body["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "call_1", "content": "a.txt"},
        {"type": "tool_result", "tool_use_id": "call_2", "content": "b.txt"},
    ]
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 8192}


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ("{}", {}),
        ("", {}),
        ('{"a": [1, 2]}', {"a": [1, 2]}),
        ("{oops", {"input": "{oops"}),
        ("[1]", {"input": "[1]"}),
    ],
)
def test_tool_call_arguments_become_an_object(arguments: str, expected: object) -> None:
    body = body_of(
        request(
            user("go"),
            Message(role=Role.ASSISTANT, tool_calls=(call("c1", arguments),)),
            tool_result("c1", "ok"),
        )
    )
    assert body["messages"][1]["content"][0]["input"] == expected


def test_custom_and_namespaced_tools_on_the_wire() -> None:
    spawn = ToolSpec(
        name="spawn",
        namespace="multi_agent_v1",
        description="Spawn.",
        parameters={"type": "object"},
    )
    body = body_of(
        request(
            user("patch it"),
            Message(
                role=Role.ASSISTANT,
                tool_calls=(
                    call("c1", PATCH, "apply_patch", kind=ToolKind.CUSTOM),
                    call("c2", '{"task": "x"}', "spawn", namespace="multi_agent_v1"),
                ),
            ),
            tool_result("c1", "Done!", ToolKind.CUSTOM),
            tool_result("c2", "spawned"),
            tools=(APPLY_PATCH, spawn),
        )
    )
    patch_tool, spawn_tool = body["tools"]
    assert patch_tool["name"] == "apply_patch"
    assert patch_tool["description"].startswith("Edit files.")
    assert patch_tool["input_schema"] == {
        "type": "object",
        "properties": {"input": {"type": "string", "description": "The free-form input."}},
        "required": ["input"],
    }
    assert spawn_tool == {
        "name": "multi_agent_v1__spawn",
        "description": "Spawn.",
        "input_schema": {"type": "object"},
    }
    uses = body["messages"][1]["content"]
    assert uses[0]["input"] == {"input": PATCH}
    assert uses[1]["name"] == "multi_agent_v1__spawn"


def test_system_messages_anywhere_join_the_system_prompt() -> None:
    system = Message(role=Role.SYSTEM, content=(TextPart(text="Be brief."),))
    late = Message(role=Role.SYSTEM, content=(TextPart(text="Now answer in French."),))
    body = body_of(
        request(
            system,
            user("hi"),
            Message(role=Role.ASSISTANT, content=(TextPart(text="Hello"),)),
            late,
            user("again"),
        )
    )
    assert body["system"] == "Be brief.\n\nNow answer in French."
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]


def test_turns_alternate_and_start_with_user() -> None:
    body = body_of(
        request(
            Message(role=Role.ASSISTANT, content=(TextPart(text="Earlier answer."),)),
            user("one"),
            user("two"),
            Message(
                role=Role.ASSISTANT,
                reasoning=(Reasoning(provider="anthropic", text="t", signature="s"),),
            ),
        )
    )
    assert body["messages"] == [
        {"role": "user", "content": "(continued)"},
        {"role": "assistant", "content": "Earlier answer."},
        {
            "role": "user",
            "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}],
        },
    ]


def test_tool_results_pairing_repairs() -> None:
    body = body_of(
        request(
            user("go"),
            Message(role=Role.ASSISTANT, tool_calls=(call("c1", "{}"), call("c2", "{}"))),
            user("also, hurry"),
            tool_result("c1", "one"),
            tool_result("zz", "stray"),
        )
    )
    assert body["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "c1", "content": "one"},
        {
            "type": "tool_result",
            "tool_use_id": "c2",
            "content": "No result was provided for this tool call.",
            "is_error": True,
        },
        {"type": "text", "text": "also, hurry"},
        {"type": "text", "text": "Result of tool call zz:\nstray"},
    ]


def test_reasoning_kept_only_when_signed_by_anthropic() -> None:
    reasoning = (
        Reasoning(provider="anthropic", text="unsigned"),
        Reasoning(provider="anthropic", signature="REDACTED-DATA", redacted=True),
        Reasoning(provider="gemini", text="g", signature="gsig"),
    )
    body = body_of(
        request(
            user("q"),
            Message(role=Role.ASSISTANT, content=(TextPart(text="a"),), reasoning=reasoning),
            user("q2"),
        )
    )
    assert body["messages"][1]["content"] == [
        {"type": "redacted_thinking", "data": "REDACTED-DATA"},
        {"type": "text", "text": "a"},
    ]


def test_images_and_unsafe_ids() -> None:
    picture = Message(
        role=Role.USER,
        content=(
            TextPart(text="What is this?"),
            ImagePart(url="data:image/png;base64,iVBORw0KGgo="),
            ImagePart(url="https://example.com/cat.jpg"),
        ),
    )
    screenshot = Message(
        role=Role.TOOL,
        tool_call_id="fc.1/x",
        content=(ImagePart(url="data:image/jpeg;base64,/9j/"),),
    )
    body = body_of(
        request(
            picture, Message(role=Role.ASSISTANT, tool_calls=(call("fc.1/x", "{}"),)), screenshot
        )
    )
    assert body["messages"][0]["content"][1:] == [
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
        },
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
    ]
    assert body["messages"][1]["content"][0]["id"] == "fc_1_x"
    assert body["messages"][2]["content"] == [
        {
            "type": "tool_result",
            "tool_use_id": "fc_1_x",
            "content": [
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/"},
                }
            ],
        }
    ]
