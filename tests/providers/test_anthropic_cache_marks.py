"""Anthropic prompt-cache breakpoints (``cache_control``) placed by the adapter."""

from __future__ import annotations

import json
from typing import Any

import pytest

from messages.chat import Message, Reasoning, Role, TextPart, ToolSpec
from providers.anthropic._cache_marks import MAX_BREAKPOINTS, count_marks, mark_breakpoints
from providers.client_formats.chat_format import decode_chat_request
from providers.client_formats.request_fields import RequestInvalid
from tests.providers.anthropic_support import (
    body_of,
    call,
    codex_like_conversation,
    request,
    tool_result,
    user,
)

EPHEMERAL = {"type": "ephemeral"}


def _marked_paths(body: dict[str, Any]) -> list[str]:
    """Where the marks are, as short paths (``tools[1]``, ``system[0]``, ``messages[2][0]``)."""
    paths = [f"tools[{i}]" for i, t in enumerate(body.get("tools", [])) if "cache_control" in t]
    system = body.get("system")
    if isinstance(system, list):
        paths += [f"system[{i}]" for i, b in enumerate(system) if "cache_control" in b]
    for m, message in enumerate(body["messages"]):
        content = message["content"]
        for b, block in enumerate(content if isinstance(content, list) else []):
            if "cache_control" in block:
                paths.append(f"messages[{m}][{b}]")
    return paths


def _tools(count: int) -> tuple[ToolSpec, ...]:
    return tuple(ToolSpec(name=f"tool_{n}", parameters={"type": "object"}) for n in range(count))


def test_codex_turn_marks_tools_system_and_the_latest_point() -> None:
    body = body_of(codex_like_conversation(), prompt_cache=True)
    assert _marked_paths(body) == ["tools[0]", "system[0]", "messages[0][0]", "messages[2][1]"]
    assert body["system"] == [
        {"type": "text", "text": "You are Codex.", "cache_control": EPHEMERAL}
    ]
    # the latest point: the last tool result of the final user turn
    assert body["messages"][2]["content"][1]["tool_use_id"] == "call_2"


def test_a_later_turn_also_marks_the_end_of_the_previous_user_turn() -> None:
    conversation = request(
        Message(role=Role.SYSTEM, content=(TextPart(text="Be brief."),)),
        user("first question"),
        Message(role=Role.ASSISTANT, content=(TextPart(text="first answer"),)),
        user("second question"),
        Message(role=Role.ASSISTANT, content=(), tool_calls=(call("c1", "{}", "tool_1"),)),
        tool_result("c1", "ok"),
        tools=_tools(3),
    )
    body = body_of(conversation, prompt_cache=True)
    assert _marked_paths(body) == ["tools[2]", "system[0]", "messages[2][0]", "messages[4][0]"]
    assert body["messages"][2]["content"] == [
        {"type": "text", "text": "second question", "cache_control": EPHEMERAL}
    ]


def test_off_sends_no_marks_and_keeps_the_plain_shapes() -> None:
    conversation = codex_like_conversation()
    body = body_of(conversation, prompt_cache=False)
    assert "cache_control" not in json.dumps(body)
    assert body["system"] == "You are Codex."


@pytest.mark.parametrize("user_turns", [1, 2, 3, 8])
@pytest.mark.parametrize("tools", [0, 1, 5])
@pytest.mark.parametrize("system", [True, False])
def test_never_more_than_four_marks(user_turns: int, tools: int, system: bool) -> None:
    messages: list[Message] = []
    if system:
        messages.append(Message(role=Role.SYSTEM, content=(TextPart(text="sys"),)))
    for n in range(user_turns):
        messages += [
            user(f"question {n}"),
            Message(role=Role.ASSISTANT, content=(TextPart(text=f"a{n}"),)),
        ]
    messages.append(user("last"))
    body = body_of(request(*messages, tools=_tools(tools)), prompt_cache=True)
    paths = _marked_paths(body)
    assert len(paths) == count_marks(body) <= MAX_BREAKPOINTS
    expected = 1 + (tools > 0) + system + (user_turns >= 1)
    assert len(paths) == expected
    assert paths[-1] == f"messages[{len(body['messages']) - 1}][0]"


def test_client_marks_are_kept_and_counted() -> None:
    body: dict[str, Any] = {
        "tools": [{"name": "a"}, {"name": "b", "cache_control": EPHEMERAL}],
        "system": [
            {"type": "text", "text": "one", "cache_control": EPHEMERAL},
            {"type": "text", "text": "two", "cache_control": EPHEMERAL},
        ],
        "messages": [{"role": "user", "content": "hi"}],
    }
    assert count_marks(body) == 3
    assert mark_breakpoints(body) == 1  # room for one: the latest point of the conversation
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "hi", "cache_control": EPHEMERAL}
    ]
    assert count_marks(body) == MAX_BREAKPOINTS
    assert mark_breakpoints(body) == 0  # full: nothing added, nothing moved
    assert body["tools"][0] == {"name": "a"}


def test_a_client_with_four_or_more_marks_gets_none_added() -> None:
    system = [{"type": "text", "text": str(n), "cache_control": EPHEMERAL} for n in range(5)]
    body: dict[str, Any] = {"system": system, "messages": [{"role": "user", "content": "x"}]}
    assert mark_breakpoints(body) == 0
    assert body["messages"] == [{"role": "user", "content": "x"}]


def test_thinking_and_empty_text_never_carry_a_mark() -> None:
    body: dict[str, Any] = {
        "messages": [
            {"role": "user", "content": "q"},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "visible"},
                    {"type": "thinking", "thinking": "t", "signature": "s"},
                    {"type": "text", "text": "  "},
                ],
            },
        ],
        "system": "   ",
    }
    mark_breakpoints(body)
    assert body["messages"][1]["content"][0]["cache_control"] == EPHEMERAL
    assert "cache_control" not in body["messages"][1]["content"][1]
    assert "cache_control" not in body["messages"][1]["content"][2]
    assert body["system"] == "   "  # nothing to cache there


def test_marks_leave_the_reasoning_order_intact() -> None:
    conversation = request(
        user("go"),
        Message(
            role=Role.ASSISTANT,
            content=(TextPart(text="calling"),),
            reasoning=(Reasoning(provider="anthropic", text="think", signature="sig"),),
            tool_calls=(call("c1", "{}", "tool_0"),),
        ),
        tool_result("c1", "done"),
        tools=_tools(1),
    )
    body = body_of(conversation, prompt_cache=True)
    kinds = [block["type"] for block in body["messages"][1]["content"]]
    assert kinds == ["thinking", "text", "tool_use"]
    assert _marked_paths(body) == ["tools[0]", "messages[0][0]", "messages[2][0]"]


# --- a client's own marks (Chat Completions parts with Anthropic's cache_control) ----------


def _chat(*messages: dict[str, Any]) -> dict[str, Any]:
    return {"model": "claude", "messages": list(messages)}


def _text(text: str, *, mark: bool = False) -> dict[str, Any]:
    part: dict[str, Any] = {"type": "text", "text": text}
    if mark:
        part["cache_control"] = EPHEMERAL
    return part


def _encode(body: dict[str, Any], *, prompt_cache: bool = True) -> dict[str, Any]:
    return body_of(decode_chat_request(body), prompt_cache=prompt_cache)


def test_a_client_mark_travels_to_its_block_and_counts() -> None:
    body = _encode(
        _chat(
            {"role": "system", "content": [_text("You are terse.", mark=True)]},
            {"role": "user", "content": [_text("a long document", mark=True), _text("q1")]},
            {"role": "assistant", "content": "a1"},
            {"role": "user", "content": "q2"},
        )
    )
    # the client's two (system, the document) and two of ours (the latest point, the
    # previous user turn's end); no tools here
    assert _marked_paths(body) == [
        "system[0]",
        "messages[0][0]",
        "messages[0][1]",
        "messages[2][0]",
    ]
    assert body["messages"][0]["content"][0] == {
        "type": "text",
        "text": "a long document",
        "cache_control": EPHEMERAL,
    }


def test_more_than_four_client_marks_keep_the_last_four() -> None:
    parts = [_text(f"part {n}", mark=True) for n in range(6)]
    body = _encode(_chat({"role": "user", "content": parts}))
    assert _marked_paths(body) == [f"messages[0][{n}]" for n in range(2, 6)]


def test_off_drops_a_clients_marks_too() -> None:
    chat = _chat(
        {"role": "system", "content": [_text("sys", mark=True)]},
        {"role": "user", "content": [_text("q", mark=True)]},
    )
    body = _encode(chat, prompt_cache=False)
    assert "cache_control" not in json.dumps(body)
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "q"}]}]


@pytest.mark.parametrize(
    "value", ["ephemeral", 7, True, [], {}, {"type": "persistent"}, {"type": 5}]
)
def test_a_wrong_cache_control_is_a_400_naming_it(value: object) -> None:
    part = {"type": "text", "text": "q", "cache_control": value}
    with pytest.raises(RequestInvalid) as caught:
        decode_chat_request(_chat({"role": "user", "content": [part]}))
    assert caught.value.param == "messages[0].content[0].cache_control"
