"""Decoding Responses requests: the real Codex 0.169 captures first, then the edges."""

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
from providers.client_formats.reasoning_state import wrap
from providers.client_formats.responses_format import RequestInvalid, decode_responses_request

CODEX = Path(__file__).parent / "fixtures" / "codex"
CAPTURES = sorted(CODEX.glob("*.body.json"))


def codex_body(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((CODEX / f"{name}.body.json").read_text())
    return body


def test_there_are_codex_captures() -> None:
    assert len(CAPTURES) == 5


@pytest.mark.parametrize("path", CAPTURES, ids=lambda path: path.stem)
def test_every_codex_capture_decodes(path: Path) -> None:
    body = json.loads(path.read_text())
    request = decode_responses_request(body)

    assert request.model == "gpt-5.5"
    assert request.stream is True
    assert request.parallel_tool_calls is True
    assert request.reasoning_effort == "medium"
    assert request.tool_choice == ToolChoice(mode=ToolChoiceMode.AUTO)
    first, second = request.messages[:2]
    assert first.role is Role.SYSTEM
    assert first.text.startswith("You are Codex, a coding agent")
    assert second.role is Role.SYSTEM
    assert second.text.startswith("<skills_instructions>")
    users = [m for m in request.messages if m.role is Role.USER]
    assert users[0].text.startswith("<environment_context>")
    assert users[-1].text == "create out.txt containing hello"

    by_name = {tool.name: tool for tool in request.tools}
    assert by_name["exec_command"].kind is ToolKind.FUNCTION
    assert by_name["exec_command"].parameters is not None
    assert by_name["exec_command"].strict is False
    patch = by_name["apply_patch"]
    assert patch.kind is ToolKind.CUSTOM
    assert patch.parameters is None
    assert "FREEFORM" in patch.description
    assert "lark grammar" in patch.description
    assert "begin_patch hunk+ end_patch" in patch.description
    assert len(request.tools) == len(body["tools"]) - 2
    assert set(request.dropped) == {"tool:web_search", "tool:tool_search"}


def test_reasoning_roundtrip_turn_two_groups_into_assistant_and_tool() -> None:
    body = codex_body("reasoning-roundtrip-002")
    request = decode_responses_request(body)

    *_, user, assistant, tool = request.messages
    assert user.role is Role.USER
    assert assistant.role is Role.ASSISTANT
    assert assistant.content == ()
    assert assistant.reasoning == (
        Reasoning(
            provider="openai",
            text="**Plan** stub reasoning summary",
            signature="gAAAAStubOpaqueEncryptedReasoning_9893eb4ec95a4e62b296e765a872e16d",
            id="rs_b8c7b1b71f844da6ae41212d",
        ),
    )
    (call,) = assistant.tool_calls
    assert call.id == "call_c1b36277ceb546bca31f69e8"
    assert call.name == "exec_command"
    assert json.loads(call.arguments) == {"cmd": "echo hello > out.txt"}
    assert call.kind is ToolKind.FUNCTION
    assert tool.role is Role.TOOL
    assert tool.tool_call_id == call.id
    assert tool.tool_name == "exec_command"
    assert tool.tool_kind is ToolKind.FUNCTION
    assert tool.text.startswith("Chunk ID: e6cdad")


@pytest.mark.parametrize("name", ["final-check-002", "http429-retry-after-004"])
def test_turn_two_without_reasoning(name: str) -> None:
    request = decode_responses_request(codex_body(name))
    *_, assistant, tool = request.messages
    assert assistant.reasoning == ()
    assert [c.name for c in assistant.tool_calls] == ["exec_command"]
    assert tool.tool_name == "exec_command"
    assert tool.tool_call_id == assistant.tool_calls[0].id


def test_namespace_tools_are_flattened_and_calls_keep_their_namespace() -> None:
    # The shape Codex sends for an unknown model slug (NOTES §3): a namespace tool.
    body = {
        "model": "my-model",
        "input": [
            {"type": "message", "role": "user", "content": "spawn one"},
            {
                "type": "function_call",
                "call_id": "call_1",
                "name": "spawn_agent",
                "namespace": "multi_agent_v1",
                "arguments": "",
            },
            {"type": "function_call_output", "call_id": "call_1", "output": "ok"},
        ],
        "tools": [
            {
                "type": "namespace",
                "name": "multi_agent_v1",
                "description": "Agents",
                "tools": [
                    {"type": "function", "name": "spawn_agent", "parameters": {"type": "object"}},
                    {"type": "function", "name": "wait", "description": "Wait."},
                    {"type": "web_search"},
                ],
            }
        ],
    }
    request = decode_responses_request(body)
    assert [(t.namespace, t.name) for t in request.tools] == [
        ("multi_agent_v1", "spawn_agent"),
        ("multi_agent_v1", "wait"),
    ]
    assert request.dropped == ("tool:web_search",)
    _, assistant, tool = request.messages
    assert assistant.tool_calls[0].namespace == "multi_agent_v1"
    assert assistant.tool_calls[0].arguments == "{}"
    assert tool.tool_name == "spawn_agent"


def test_custom_tool_call_and_output_round_trip() -> None:
    patch = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch\n"
    body = {
        "model": "m",
        "input": [
            {"role": "user", "content": "add a.txt"},
            {"type": "custom_tool_call", "call_id": "c1", "name": "apply_patch", "input": patch},
            {"type": "custom_tool_call_output", "call_id": "c1", "output": "Done!"},
        ],
    }
    _, assistant, tool = decode_responses_request(body).messages
    (call,) = assistant.tool_calls
    assert (call.kind, call.name, call.arguments) == (ToolKind.CUSTOM, "apply_patch", patch)
    assert (tool.tool_kind, tool.tool_name, tool.text) == (ToolKind.CUSTOM, "apply_patch", "Done!")


def test_consecutive_assistant_items_merge_into_one_message() -> None:
    body = {
        "model": "m",
        "instructions": "Be brief.",
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
            {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "enc"},
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Let me look."}],
            },
            {"type": "function_call", "call_id": "a", "name": "ls", "arguments": "{}"},
            {"type": "function_call", "call_id": "b", "name": "cat", "arguments": '{"f":1}'},
            {"type": "function_call_output", "call_id": "b", "output": "B"},
            {"type": "function_call_output", "call_id": "a", "output": "A"},
            {"type": "message", "role": "assistant", "content": "Done."},
        ],
    }
    request = decode_responses_request(body)
    roles = [m.role for m in request.messages]
    assert roles == [Role.SYSTEM, Role.USER, Role.ASSISTANT, Role.TOOL, Role.TOOL, Role.ASSISTANT]
    assert request.messages[0].text == "Be brief."
    turn = request.messages[2]
    assert turn.text == "Let me look."
    assert [c.id for c in turn.tool_calls] == ["a", "b"]
    assert turn.reasoning[0].signature == "enc"
    assert [m.tool_name for m in request.messages[3:5]] == ["cat", "ls"]
    assert request.messages[5].text == "Done."


def test_wrapped_reasoning_comes_back_to_its_provider() -> None:
    body = {
        "model": "m",
        "input": [
            {"role": "user", "content": "q"},
            {
                "type": "reasoning",
                "id": "rs_x",
                "summary": [{"type": "summary_text", "text": "thinking..."}],
                "encrypted_content": wrap("anthropic", "sig:with:colons"),
            },
            {
                "type": "reasoning",
                "id": "rs_y",
                "summary": [],
                "encrypted_content": wrap("anthropic", "opaque", redacted=True),
            },
        ],
    }
    first, second = decode_responses_request(body).messages[1].reasoning
    assert first == Reasoning(
        provider="anthropic", text="thinking...", signature="sig:with:colons", id="rs_x"
    )
    assert second == Reasoning(provider="anthropic", signature="opaque", id="rs_y", redacted=True)


def test_string_input_images_and_notes() -> None:
    request = decode_responses_request({"model": "m", "input": "hello", "stream": False})
    assert request.messages[0].role is Role.USER
    assert request.messages[0].content == (TextPart(text="hello"),)

    body = {
        "model": "m",
        "previous_response_id": "resp_1",
        "text": {"format": {"type": "json_schema", "name": "x", "schema": {}}},
        "input": [
            {
                "role": "user",
                "content": [
                    {
                        "type": "input_image",
                        "image_url": "data:image/png;base64,AAA",
                        "detail": "low",
                    },
                    {"type": "input_image", "file_id": "file_1"},
                    {"type": "input_file", "file_id": "file_2"},
                ],
            },
            {"type": "item_reference", "id": "msg_1"},
        ],
        "tools": [{"type": "file_search"}, {"type": "image_generation"}],
    }
    request = decode_responses_request(body)
    assert request.messages[0].content == (
        ImagePart(url="data:image/png;base64,AAA", detail="low"),
    )
    assert request.dropped == (
        "input_image:file_id",
        "content:input_file",
        "item:item_reference",
        "previous_response_id",
        "text.format:json_schema",
        "tool:file_search",
        "tool:image_generation",
    )


def test_tool_output_as_content_parts() -> None:
    body = {
        "model": "m",
        "input": [
            {"type": "function_call", "call_id": "c", "name": "view_image", "arguments": "{}"},
            {
                "type": "function_call_output",
                "call_id": "c",
                "output": [
                    {"type": "input_text", "text": "here"},
                    {"type": "input_image", "image_url": "https://x/y.png"},
                ],
            },
        ],
    }
    tool = decode_responses_request(body).messages[1]
    assert tool.content == (TextPart(text="here"), ImagePart(url="https://x/y.png"))


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("none", ToolChoice(mode=ToolChoiceMode.NONE)),
        ("required", ToolChoice(mode=ToolChoiceMode.REQUIRED)),
        ({"type": "function", "name": "f"}, ToolChoice(mode=ToolChoiceMode.NAMED, name="f")),
        (
            {"type": "custom", "name": "apply_patch"},
            ToolChoice(mode=ToolChoiceMode.NAMED, name="apply_patch"),
        ),
        (
            {"type": "allowed_tools", "mode": "required", "tools": []},
            ToolChoice(mode=ToolChoiceMode.REQUIRED),
        ),
        ({"type": "web_search_preview"}, None),
    ],
)
def test_tool_choice(choice: object, expected: ToolChoice | None) -> None:
    request = decode_responses_request({"model": "m", "input": "x", "tool_choice": choice})
    assert request.tool_choice == expected


def test_sampling_fields() -> None:
    body = {
        "model": "m",
        "input": "x",
        "max_output_tokens": 100,
        "temperature": 0.5,
        "top_p": 1,
        "reasoning": {"effort": "high", "summary": "auto"},
        "client_metadata": {"ignored": True},
    }
    request = decode_responses_request(body)
    assert (request.max_output_tokens, request.temperature, request.top_p) == (100, 0.5, 1.0)
    assert (request.reasoning_effort, request.reasoning_summary) == ("high", "auto")
    assert request.dropped == ()


def _item(**fields: object) -> dict[str, object]:
    return {"model": "m", "input": [fields]}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ([], None),
        ({"input": "x"}, "model"),
        ({"model": "m"}, "input"),
        ({"model": "m", "input": 5}, "input"),
        ({"model": "m", "input": ["text"]}, "input[0]"),
        (_item(type="function_call", name="f", arguments="{}"), "input[0].call_id"),
        (_item(type="function_call", call_id="c", name="f", arguments={}), "input[0].arguments"),
        (_item(type="function_call", call_id="c", arguments="{}"), "input[0].name"),
        (_item(type="custom_tool_call", call_id="c", name="f"), "input[0].input"),
        (_item(type="function_call_output", output="x"), "input[0].call_id"),
        (_item(type="function_call_output", call_id="c", output=7), "input[0].output"),
        (_item(type="message", role="robot", content="x"), "input[0].role"),
        (_item(type="message", role="user"), "input[0].content"),
        (_item(role="user", content=[{"type": "input_text"}]), "input[0].content[0].text"),
        (_item(type="reasoning", summary="x"), "input[0].summary"),
        (_item(type=3), "input[0].type"),
        ({"model": "m", "input": "x", "tools": {}}, "tools"),
        ({"model": "m", "input": "x", "tools": [{"type": "function"}]}, "tools[0].name"),
        ({"model": "m", "input": "x", "tools": [{"name": "f"}]}, "tools[0].type"),
        (
            {
                "model": "m",
                "input": "x",
                "tools": [{"type": "function", "name": "f", "parameters": 1}],
            },
            "tools[0].parameters",
        ),
        ({"model": "m", "input": "x", "tool_choice": "sometimes"}, "tool_choice"),
        ({"model": "m", "input": "x", "tool_choice": {"type": "function"}}, "tool_choice.name"),
        ({"model": "m", "input": "x", "max_output_tokens": "10"}, "max_output_tokens"),
        ({"model": "m", "input": "x", "max_output_tokens": 0}, "max_output_tokens"),
        ({"model": "m", "input": "x", "temperature": True}, "temperature"),
        ({"model": "m", "input": "x", "stream": "yes"}, "stream"),
        ({"model": "m", "input": "x", "reasoning": "high"}, "reasoning"),
    ],
)
def test_bad_requests_name_the_param(body: object, param: str | None) -> None:
    with pytest.raises(RequestInvalid) as caught:
        decode_responses_request(body)
    assert caught.value.param == param
    assert caught.value.message
