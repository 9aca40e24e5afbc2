"""The scripting model: its JSON form, the usage formula and the default behaviour."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fakes import (
    Conversation,
    CustomToolCall,
    FakeUsage,
    Fault,
    FunctionCall,
    Reasoning,
    Reply,
    ScriptError,
    Text,
    Turn,
    computed_usage,
    default_reply,
    turn_from_json,
    turn_to_json,
)
from fakes.openai_wire import CHAT, RESPONSES
from fakes.script import usage_of
from tests.fakes.recorded import load_json

PUBLIC_NAMES = [
    "CannedAnswers",
    "CannedProviderServer",
    "Conversation",
    "CustomToolCall",
    "FakeProviderServer",
    "FakeUsage",
    "Fault",
    "FunctionCall",
    "Item",
    "Reasoning",
    "RecordedRequest",
    "Reply",
    "ScriptError",
    "Scriptable",
    "Text",
    "Turn",
    "computed_usage",
    "default_reply",
    "open_fake_provider",
    "turn_from_json",
    "turn_to_json",
]

EVERYTHING = Turn(
    reply=Reply(
        items=(
            Reasoning(summary="think", encrypted_content="enc"),
            Text(text="hello"),
            FunctionCall(name="f", arguments="{}", call_id="call_1"),
            CustomToolCall(name="apply_patch", input="*** Begin Patch"),
        ),
        usage=FakeUsage(input_tokens=1, cached_tokens=2, output_tokens=3, reasoning_tokens=4),
        finish="length",
    ),
    fault=Fault(
        status=429,
        retry_after="2",
        error_code="rate_limit_exceeded",
        hang_before_headers_s=0.5,
        cut_after_events=3,
        failed_event=("server_error", "boom"),
        delay_between_events_s=0.01,
    ),
)


def test_public_surface() -> None:
    import fakes

    assert sorted(fakes.__all__) == PUBLIC_NAMES
    assert all(hasattr(fakes, name) for name in fakes.__all__)


def test_json_form_round_trips() -> None:
    doc = json.loads(json.dumps(turn_to_json(EVERYTHING)))
    assert turn_from_json(doc) == EVERYTHING
    assert turn_from_json({}) == Turn()
    assert turn_from_json({"fault": {"reset_before_response": True}}) == Turn(
        fault=Fault(reset_before_response=True)
    )


@pytest.mark.parametrize(
    "doc",
    [
        [],
        {"reply": {"items": [{"type": "video"}]}},
        {"reply": {"items": [{"type": "text"}]}},
        {"reply": {"items": [], "finish": "tool_calls"}},
        {"reply": {"items": [], "usage": {"tokens": 1}}},
        {"fault": {"status": "429"}},
        {"fault": {"hang": 1}},
        {"fault": {"failed_event": ["only-code"]}},
    ],
)
def test_bad_json_scripts_are_refused(doc: Any) -> None:
    with pytest.raises(ScriptError):
        turn_from_json(doc)


def test_usage_formula() -> None:
    reply = Reply(
        items=(
            Text(text="x" * 41),
            FunctionCall(name="f", arguments="y" * 20),
            CustomToolCall(name="c", input="z" * 3),
            Reasoning(summary="r" * 9),
        )
    )
    usage = computed_usage(reply, request_bytes=403)
    assert usage == FakeUsage(
        input_tokens=100, cached_tokens=0, output_tokens=18, reasoning_tokens=2
    )
    assert usage.total_tokens == 118  # (41 + 20 + 3) // 4 + 9 // 4 = 18 output
    scripted = Reply(items=(), usage=FakeUsage(input_tokens=7))
    assert usage_of(scripted, request_bytes=4000) == FakeUsage(input_tokens=7)


def conversation(
    user: str, *, tool_output: str | None = None, tools: set[str] | None = None
) -> Conversation:
    return Conversation(
        last_user_text=user, last_tool_output=tool_output, tool_names=frozenset(tools or ())
    )


def test_default_reply_runs_a_command_when_asked_and_exec_command_is_offered() -> None:
    reply = default_reply(
        conversation("please\nrun: ls -la | wc -l\nthanks", tools={"exec_command"})
    )
    [call] = reply.items
    assert isinstance(call, FunctionCall)
    assert call.name == "exec_command"
    assert json.loads(call.arguments) == {"cmd": "ls -la | wc -l"}


def test_default_reply_echoes_without_the_tool_or_the_request() -> None:
    assert default_reply(conversation("run: ls")).items == (
        Text(text="Hello from the fake provider. You said: run: ls"),
    )
    assert default_reply(conversation("hi\nthere", tools={"exec_command"})).items == (
        Text(text="Hello from the fake provider. You said: hi"),
    )


def test_default_reply_summarises_a_tool_result() -> None:
    codex_output = "Chunk ID: 5\nProcess exited with code 0\nOutput:\nhello\n"
    reply = default_reply(
        conversation("run: echo hello", tool_output=codex_output, tools={"exec_command"})
    )
    assert reply.items == (Text(text="Done. The command printed: hello"),)
    assert default_reply(conversation("", tool_output="  ")).items == (
        Text(text="Done. The command printed nothing."),
    )


def test_codex_requests_read_as_conversations() -> None:
    turn1 = load_json("codex/turn1.request.json")["body"]
    first = RESPONSES.conversation(turn1)
    assert first.last_user_text == "create out.txt containing hello"
    assert first.last_tool_output is None
    assert {"exec_command", "apply_patch", "write_stdin"} <= first.tool_names
    turn2 = load_json("codex/turn2.request.json")["body"]
    second = RESPONSES.conversation(turn2)
    assert second.last_tool_output is not None
    assert second.last_tool_output.startswith("Chunk ID:")


def test_chat_requests_read_as_conversations() -> None:
    body = {
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "run: pwd"}]},
            {"role": "assistant", "tool_calls": []},
            {"role": "tool", "tool_call_id": "call_1", "content": "Output:\n/tmp"},
        ],
        "tools": [{"type": "function", "function": {"name": "exec_command", "parameters": {}}}],
    }
    assert CHAT.conversation(body) == conversation(
        "run: pwd", tool_output="Output:\n/tmp", tools={"exec_command"}
    )
    assert RESPONSES.conversation({"input": "plain prompt"}) == conversation("plain prompt")


def test_the_hostile_faults_round_trip_through_json() -> None:
    fault = Fault(
        close_before_response=True,
        garbage="wrong_shape",
        garbage_event=-1,
        usage_value="1e20",
        oversize_bytes=100,
    )
    assert turn_from_json(turn_to_json(Turn(fault=fault))) == Turn(fault=fault)


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ({"garbage": 5}, "garbage must be a string"),
        ({"garbage_event": "last"}, "garbage_event must be an integer"),
        ({"usage_value": 1e20}, "usage_value must be a string"),
        ({"oversize_bytes": True}, "oversize_bytes must be an integer"),
    ],
)
def test_hostile_fault_fields_are_type_checked(fault: dict[str, object], message: str) -> None:
    with pytest.raises(ScriptError, match=message):
        turn_from_json({"fault": fault})
