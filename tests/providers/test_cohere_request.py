"""Cohere v2 adapter: the IR request → a ``/chat`` body."""

from __future__ import annotations

import json

import pytest

from messages.chat import (
    ImagePart,
    Message,
    Reasoning,
    Role,
    TextPart,
    ToolChoice,
    ToolChoiceMode,
    ToolKind,
    ToolSpec,
)
from providers.adapter import CallTarget
from providers.cohere.adapter import ADAPTER
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
from tests.providers.chat_family_support import body_of, fixture_json


def test_http_call_shape() -> None:
    target = CallTarget(model="command-a-03-2025", api_key="co-key", stream=True)
    http = ADAPTER.build_call(request(user("hi")), target)
    assert (http.method, http.path) == ("POST", "/chat")
    assert dict(http.headers) == {
        "authorization": "Bearer co-key",
        "content-type": "application/json",
        "accept": "text/event-stream",
    }
    assert json.loads(http.body) == {
        "model": "command-a-03-2025",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
    }
    assert "stream" not in body_of(ADAPTER, request(user("hi")))


def test_reproduces_the_documented_tool_result_turn() -> None:
    recorded = fixture_json("cohere", "docs-chat-tool-result-turn.request.json")
    search = ToolSpec(
        name="search_docs",
        description="Search documentation and return relevant snippets as documents.",
        parameters=recorded["tools"][0]["function"]["parameters"],
    )
    document = recorded["messages"][2]["content"][0]["document"]["data"]
    conversation = request(
        user("How does tool use work in Cohere? Please cite your sources."),
        Message(
            role=Role.ASSISTANT,
            reasoning=(
                Reasoning(
                    provider="cohere",
                    text="I will search the docs for how tool use works in Cohere.",
                    signature="tool_plan",
                ),
            ),
            tool_calls=(
                call(
                    "search_docs_1byjy32y4hvq",
                    '{"query":"tool use Cohere","top_k":3}',
                    "search_docs",
                ),
            ),
        ),
        tool_result("search_docs_1byjy32y4hvq", document),
        tools=(search,),
    )
    assert body_of(ADAPTER, conversation, "command-a-plus-05-2026") == recorded


def test_codex_like_two_turn_conversation() -> None:
    conversation = codex_like_conversation()
    second_turn = request(
        *conversation.messages,
        Message(role=Role.ASSISTANT, content=(TextPart(text="Both listed."),)),
        user("Now remove b.txt"),
        tools=conversation.tools,
    )
    body = body_of(ADAPTER, second_turn, "command-a-03-2025")
    assert [m["role"] for m in body["messages"]] == [
        "system",
        "user",
        "assistant",
        "tool",
        "tool",
        "assistant",
        "user",
    ]
    assistant = body["messages"][2]
    assert assistant == {  # OpenAI's and Anthropic's reasoning are dropped
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
    }
    result = body["messages"][3]
    assert result["tool_call_id"] == "call_1"
    [document] = result["content"]
    assert document["type"] == "document"
    assert json.loads(document["document"]["data"]) == {"output": "a.txt"}
    assert body["tools"] == [
        {"type": "function", "function": {"name": "exec_command", "parameters": {"type": "object"}}}
    ]


def test_json_tool_output_goes_as_it_is() -> None:
    output = '{"temperature": 20, "unit": "c"}'
    body = body_of(ADAPTER, request(user("x"), tool_result("c1", output)))
    assert body["messages"][1]["content"][0]["document"]["data"] == output


def test_cohere_reasoning_goes_back_where_it_came_from() -> None:
    thinking = Message(
        role=Role.ASSISTANT,
        content=(TextPart(text="4"),),
        reasoning=(
            Reasoning(provider="cohere", text="2 and 2 make 4."),
            Reasoning(provider="gemini", text="other", signature="sig"),
        ),
    )
    planned = Message(
        role=Role.ASSISTANT,
        reasoning=(Reasoning(provider="cohere", text="I will look.", signature="tool_plan"),),
        tool_calls=(call("weather_1", '{"location": "SF"}', "get_weather"),),
    )
    body = body_of(
        ADAPTER,
        request(user("2+2?"), thinking, user("weather?"), planned, tool_result("weather_1", "20C")),
    )
    assert body["messages"][1]["content"] == [
        {"type": "thinking", "thinking": "2 and 2 make 4."},
        {"type": "text", "text": "4"},
    ]
    assert body["messages"][3]["tool_plan"] == "I will look."
    assert "content" not in body["messages"][3]


def test_custom_tool_is_emulated() -> None:
    conversation = request(
        user("patch"),
        Message(
            role=Role.ASSISTANT,
            tool_calls=(call("c1", PATCH, "apply_patch", kind=ToolKind.CUSTOM),),
        ),
        tool_result("c1", "Success.", ToolKind.CUSTOM),
        tools=(APPLY_PATCH,),
    )
    body = body_of(ADAPTER, conversation)
    [tool] = body["tools"]
    assert tool["function"]["parameters"]["required"] == ["input"]
    arguments = body["messages"][1]["tool_calls"][0]["function"]["arguments"]
    assert json.loads(arguments) == {"input": PATCH}


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (None, None),
        (ToolChoice(mode=ToolChoiceMode.AUTO), None),
        (ToolChoice(mode=ToolChoiceMode.NONE), "NONE"),
        (ToolChoice(mode=ToolChoiceMode.REQUIRED), "REQUIRED"),
        (ToolChoice(mode=ToolChoiceMode.NAMED, name="get_weather"), "REQUIRED"),
    ],
)
def test_tool_choice(choice: ToolChoice | None, expected: str | None) -> None:
    body = body_of(ADAPTER, request(user("x"), tools=(WEATHER,), tool_choice=choice))
    assert body.get("tool_choice") == expected


def test_named_tool_becomes_a_note_after_the_system_messages() -> None:
    system = Message(role=Role.SYSTEM, content=(TextPart(text="Be brief."),))
    choice = ToolChoice(mode=ToolChoiceMode.NAMED, name="read")
    spec = ToolSpec(name="read", namespace="fs", parameters={"type": "object"})
    body = body_of(ADAPTER, request(system, user("x"), tools=(spec,), tool_choice=choice))
    assert body["messages"][:2] == [
        {"role": "system", "content": "Be brief."},
        {"role": "system", "content": "Answer by calling the tool `fs__read`."},
    ]
    assert body["tools"][0]["function"]["name"] == "fs__read"


def test_generation_settings() -> None:
    conversation = request(
        user("x"),
        max_output_tokens=300,
        temperature=1.7,
        top_p=1.0,
        stop=("a", "b", "c", "d", "e", "f"),
    )
    body = body_of(ADAPTER, conversation)
    assert (body["max_tokens"], body["temperature"], body["p"]) == (300, 1.0, 0.99)
    assert body["stop_sequences"] == ["a", "b", "c", "d", "e"]


@pytest.mark.parametrize(
    ("model", "effort", "thinking"),
    [
        ("command-a-reasoning-08-2025", "low", {"type": "enabled", "token_budget": 2048}),
        ("command-a-reasoning-08-2025", "medium", {"type": "enabled", "token_budget": 8192}),
        ("command-a-reasoning-08-2025", "high", {"type": "enabled"}),
        ("command-a-plus-05-2026", "minimal", {"type": "disabled"}),
        ("command-a-03-2025", "high", None),
        ("command-a-reasoning-08-2025", None, None),
    ],
)
def test_thinking(model: str, effort: str | None, thinking: object) -> None:
    body = body_of(ADAPTER, request(user("x"), reasoning_effort=effort), model)
    assert body.get("thinking") == thinking


def test_images_in_user_content() -> None:
    picture = Message(
        role=Role.USER,
        content=(TextPart(text="what?"), ImagePart(url="https://x/a.png", detail="auto")),
    )
    body = body_of(ADAPTER, request(picture))
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "what?"},
        {"type": "image_url", "image_url": {"url": "https://x/a.png", "detail": "auto"}},
    ]
