"""Gemini adapter: encoding requests (contents, tools, schemas, configuration)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from messages.chat import (
    ChatRequest,
    ImagePart,
    Message,
    Reasoning,
    ReasoningDone,
    Role,
    StreamDelta,
    TextPart,
    ToolCall,
    ToolCallStart,
    ToolChoice,
    ToolChoiceMode,
    ToolKind,
    ToolSpec,
)
from providers.adapter import CallTarget
from providers.gemini._request import SIGNATURE_BYPASS
from providers.gemini.adapter import ADAPTER
from tests.providers.gemini_support import (
    arguments,
    body_of,
    chunk,
    codex_tool_specs,
    decode_stream,
    sse,
    user,
)


def tool_result(call: ToolCall, output: str, kind: ToolKind = ToolKind.FUNCTION) -> Message:
    return Message(
        role=Role.TOOL,
        tool_call_id=call.id,
        tool_name=call.name,
        tool_kind=kind,
        content=(TextPart(text=output),),
    )


def exec_part(cmd: str, signature: str | None = None) -> dict[str, object]:
    part: dict[str, object] = {"functionCall": {"name": "exec_command", "args": {"cmd": cmd}}}
    if signature is not None:
        part["thoughtSignature"] = signature
    return part


def result_part(output: str) -> dict[str, object]:
    return {"functionResponse": {"name": "exec_command", "response": {"result": output}}}


def assistant_from(deltas: Sequence[StreamDelta]) -> Message:
    """The assistant message a client would store from a decoded reply."""
    calls = [d for d in deltas if isinstance(d, ToolCallStart)]
    args = arguments(deltas)
    return Message(
        role=Role.ASSISTANT,
        tool_calls=tuple(
            ToolCall(id=c.id, name=c.name, arguments=args[c.index], kind=c.kind) for c in calls
        ),
        reasoning=tuple(d.reasoning for d in deltas if isinstance(d, ReasoningDone)),
    )


# ---- the call ---------------------------------------------------------------------------


def test_build_call_path_and_headers_keep_the_key_out_of_the_url() -> None:
    request = ChatRequest(model="client-model", messages=(user("hi"),))
    call = ADAPTER.build_call(
        request, CallTarget(model="models/gemini-2.5-pro", api_key="k-1", stream=True)
    )
    assert call.method == "POST"
    assert call.path == "/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
    assert ("x-goog-api-key", "k-1") in call.headers
    assert "k-1" not in call.path
    whole = ADAPTER.build_call(
        request, CallTarget(model="gemini-2.5-pro", api_key="k", stream=False)
    )
    assert whole.path == "/models/gemini-2.5-pro:generateContent"
    assert json.loads(whole.body) == {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}


# ---- a Codex-like conversation ----------------------------------------------------------


def test_two_turn_codex_conversation_round_trips_calls_and_signatures() -> None:
    first_reply = decode_stream(
        sse(
            chunk(exec_part("ls", "SIG1")),
            chunk({"text": ""}, finish="STOP"),
        )
    )  # fmt: skip
    first = assistant_from(first_reply)
    (call,) = first.tool_calls
    first = Message(
        role=Role.ASSISTANT,
        tool_calls=first.tool_calls,
        reasoning=(Reasoning(provider="openai", signature="ENC", id="rs_1"), *first.reasoning),
    )
    second_reply = decode_stream(
        sse(
            chunk(exec_part("a", "SIG3"), exec_part("b"), response_id="resp-2"),
            chunk({"text": ""}, finish="STOP", response_id="resp-2"),
        )
    )  # fmt: skip
    second = assistant_from(second_reply)
    call_a, call_b = second.tool_calls
    done = Message(
        role=Role.ASSISTANT,
        content=(TextPart(text="Done."),),
        reasoning=(Reasoning(provider="gemini", signature="SIG2"),),
    )
    request = ChatRequest(
        model="gpt-5.5",
        messages=(
            Message(role=Role.SYSTEM, content=(TextPart(text="You are Codex."),)),
            user("run: ls"),
            first,
            tool_result(call, "Output:\nREADME.md"),
            done,
            user("run a and b"),
            second,
            tool_result(call_b, "B"),
            tool_result(call_a, "A"),
        ),
        tools=codex_tool_specs(),
    )
    body = body_of(request)
    assert body["systemInstruction"] == {"parts": [{"text": "You are Codex."}]}
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "run: ls"}]},
        {"role": "model", "parts": [exec_part("ls", "SIG1")]},
        {"role": "user", "parts": [result_part("Output:\nREADME.md")]},
        {"role": "model", "parts": [{"text": "Done.", "thoughtSignature": "SIG2"}]},
        {"role": "user", "parts": [{"text": "run a and b"}]},
        {"role": "model", "parts": [exec_part("a", "SIG3"), exec_part("b")]},
        {"role": "user", "parts": [result_part("A"), result_part("B")]},
    ]  # fmt: skip
    assert "ENC" not in json.dumps(body)


def test_ids_are_consistent_across_turns() -> None:
    raw = sse(
        chunk({"functionCall": {"name": "f", "args": {}}, "thoughtSignature": "S"}, finish="STOP")
    )
    turn = assistant_from(decode_stream(raw))
    again = assistant_from(decode_stream(raw))
    assert turn.tool_calls == again.tool_calls
    assert turn.tool_calls[0].arguments == "{}"
    (call,) = turn.tool_calls
    body = body_of(ChatRequest(model="m", messages=(user("go"), turn, tool_result(call, "ok"))))
    model_part, result_part = body["contents"][1]["parts"][0], body["contents"][2]["parts"][0]
    assert model_part == {"functionCall": {"name": "f", "args": {}}, "thoughtSignature": "S"}
    assert result_part == {"functionResponse": {"name": "f", "response": {"result": "ok"}}}


def test_signatures_kept_apart_from_their_calls_still_find_them() -> None:
    call = ToolCall(id="call_1", name="exec_command", arguments='{"cmd": "ls"}')
    messages = (
        user("go"),
        Message(role=Role.ASSISTANT, reasoning=(Reasoning(provider="gemini", signature="LOOSE"),)),
        Message(role=Role.ASSISTANT, content=(TextPart(text="Looking."),)),
        Message(
            role=Role.ASSISTANT,
            reasoning=(Reasoning(provider="gemini", signature="S1", id="call_1"),),
        ),
        Message(role=Role.ASSISTANT, tool_calls=(call,)),
        tool_result(call, "x"),
    )
    contents = body_of(ChatRequest(model="m", messages=messages))["contents"]
    assert contents[1] == {
        "role": "model",
        "parts": [
            {"text": "Looking.", "thoughtSignature": "LOOSE"},
            # an id not minted by the gateway is echoed
            {
                "functionCall": {"name": "exec_command", "args": {"cmd": "ls"}, "id": "call_1"},
                "thoughtSignature": "S1",
            },
        ],
    }


def test_gemini_ids_are_echoed_back() -> None:
    turn = assistant_from(
        decode_stream(sse(chunk({"functionCall": {"name": "f", "id": "g-1"}}, finish="STOP")))
    )
    (call,) = turn.tool_calls
    body = body_of(
        ChatRequest(model="m", messages=(user("go"), turn, tool_result(call, '{"ok": true}')))
    )
    contents = body["contents"]
    assert contents[1]["parts"][0]["functionCall"]["id"] == "g-1"
    assert contents[2]["parts"][0]["functionResponse"] == {
        "name": "f",
        "response": {"ok": True},
        "id": "g-1",
    }


def test_foreign_history_gets_the_bypass_signature_on_gemini_3_only() -> None:
    old = ToolCall(id="call_old", name="f", arguments="{}")
    new = ToolCall(id="call_new", name="f", arguments='{"x": 1}')
    later = ToolCall(id="call_later", name="g", arguments="{}")
    messages = (
        user("first"),
        Message(role=Role.ASSISTANT, tool_calls=(old,)),
        tool_result(old, "1"),
        user("second"),
        Message(role=Role.ASSISTANT, tool_calls=(new, later)),
        tool_result(new, "2"),
        tool_result(later, "3"),
    )
    contents = body_of(ChatRequest(model="m", messages=messages))["contents"]
    assert "thoughtSignature" not in contents[1]["parts"][0]
    # the result of the old call and the second user text share one user content
    assert [p.keys() for p in contents[2]["parts"]] == [{"functionResponse"}, {"text"}]
    assert contents[3]["parts"][0]["thoughtSignature"] == SIGNATURE_BYPASS
    assert "thoughtSignature" not in contents[3]["parts"][1]
    older = body_of(ChatRequest(model="m", messages=messages), model="gemini-2.5-flash")
    assert SIGNATURE_BYPASS not in json.dumps(older)


def test_custom_tool_round_trip() -> None:
    tools = (ToolSpec(name="apply_patch", description="Edit files.", kind=ToolKind.CUSTOM),)
    request = ChatRequest(model="m", messages=(user("patch it"),), tools=tools)
    (declaration,) = body_of(request)["tools"][0]["functionDeclarations"]
    assert declaration["name"] == "apply_patch"
    assert declaration["description"].startswith("Edit files.\n\n")
    assert declaration["parameters"] == {
        "type": "OBJECT",
        "properties": {"input": {"type": "STRING", "description": "The free-form input."}},
        "required": ["input"],
    }
    patch = "*** Begin Patch\n*** End Patch\n"
    reply = decode_stream(
        sse(
            chunk(
                {"functionCall": {"name": "apply_patch", "args": {"input": patch}}}, finish="STOP"
            )
        ),
        request,
    )
    turn = assistant_from(reply)
    (call,) = turn.tool_calls
    assert (call.kind, call.arguments) == (ToolKind.CUSTOM, patch)
    follow = ChatRequest(
        model="m",
        messages=(user("patch it"), turn, tool_result(call, "Done!", ToolKind.CUSTOM)),
        tools=tools,
    )
    contents = body_of(follow)["contents"]
    assert contents[1]["parts"][0]["functionCall"] == {
        "name": "apply_patch",
        "args": {"input": patch},
    }
    assert contents[2]["parts"][0]["functionResponse"]["name"] == "apply_patch"


def test_namespaced_tools_travel_flattened() -> None:
    spec = ToolSpec(
        name="search",
        namespace="docs",
        parameters={"type": "object", "properties": {"q": {"type": "string"}}},
    )
    call = ToolCall(id="call_x", name="search", namespace="docs", arguments='{"q": "a"}')
    messages = (user("q"), Message(role=Role.ASSISTANT, tool_calls=(call,)), tool_result(call, "r"))
    body = body_of(
        ChatRequest(
            model="m",
            messages=messages,
            tools=(spec,),
            tool_choice=ToolChoice(mode=ToolChoiceMode.NAMED, name="search"),
        )
    )
    assert body["tools"][0]["functionDeclarations"][0]["name"] == "docs__search"
    assert body["contents"][1]["parts"][0]["functionCall"]["name"] == "docs__search"
    assert body["contents"][2]["parts"][0]["functionResponse"]["name"] == "docs__search"
    assert body["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["docs__search"]}
    }


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        (ToolChoice(mode=ToolChoiceMode.AUTO), {"mode": "AUTO"}),
        (ToolChoice(mode=ToolChoiceMode.NONE), {"mode": "NONE"}),
        (ToolChoice(mode=ToolChoiceMode.REQUIRED), {"mode": "ANY"}),
        (
            ToolChoice(mode=ToolChoiceMode.NAMED, name="f"),
            {"mode": "ANY", "allowedFunctionNames": ["f"]},
        ),
    ],
)
def test_tool_choice(choice: ToolChoice, config: dict[str, object]) -> None:
    request = ChatRequest(
        model="m", messages=(user("x"),), tools=(ToolSpec(name="f"),), tool_choice=choice
    )
    assert body_of(request)["toolConfig"] == {"functionCallingConfig": config}


@pytest.mark.parametrize(
    ("effort", "summary", "max_tokens", "thinking"),
    [
        ("minimal", None, None, {"thinkingBudget": 512, "includeThoughts": True}),
        ("low", None, None, {"thinkingBudget": 1024, "includeThoughts": True}),
        ("medium", "auto", None, {"thinkingBudget": 8192, "includeThoughts": True}),
        ("high", None, None, {"thinkingBudget": 24576, "includeThoughts": True}),
        ("high", None, 4000, {"thinkingBudget": 2000, "includeThoughts": True}),
        (None, "auto", None, {"includeThoughts": True}),
        (None, None, None, None),
    ],
)
def test_generation_config(
    effort: str | None, summary: str | None, max_tokens: int | None, thinking: object
) -> None:
    request = ChatRequest(
        model="m", messages=(user("x"),), max_output_tokens=max_tokens, temperature=0.2, top_p=0.9,
        stop=("END",), reasoning_effort=effort, reasoning_summary=summary,
    )  # fmt: skip
    config = body_of(request)["generationConfig"]
    assert isinstance(config, dict)
    assert (config["temperature"], config["topP"], config["stopSequences"]) == (0.2, 0.9, ["END"])
    assert config.get("maxOutputTokens") == max_tokens
    assert config.get("thinkingConfig") == thinking


def test_images() -> None:
    content = (
        TextPart(text="look"),
        ImagePart(url="data:image/png;base64,iVBORw0KGgo="),
        ImagePart(url="https://example.com/cat.PNG?x=1"),
        ImagePart(url="https://example.com/photo"),
        ImagePart(url="data:text/plain,hi%20there"),
    )
    parts = body_of(ChatRequest(model="m", messages=(Message(role=Role.USER, content=content),)))[
        "contents"
    ][0]["parts"]
    assert parts == [
        {"text": "look"},
        {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
        {"fileData": {"fileUri": "https://example.com/cat.PNG?x=1", "mimeType": "image/png"}},
        {"fileData": {"fileUri": "https://example.com/photo", "mimeType": "image/jpeg"}},
        {"inlineData": {"mimeType": "text/plain", "data": "aGkgdGhlcmU="}},
    ]
