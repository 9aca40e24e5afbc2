"""Gemini adapter: encoding requests (contents, tools, schemas, configuration)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

import pytest

from messages.chat import (
    ChatRequest,
    ImagePart,
    Message,
    Reasoning,
    ReasoningDone,
    Role,
    TextPart,
    ToolCall,
    ToolCallStart,
    ToolChoice,
    ToolChoiceMode,
    ToolKind,
    ToolSpec,
)
from providers._gemini_request import SIGNATURE_BYPASS
from providers._gemini_schema import gemini_parameters
from providers.adapter import CallTarget
from providers.gemini import ADAPTER
from tests.providers.gemini_support import arguments, chunk, codex_tool_specs, decode_stream, sse

MODEL = "gemini-3-pro-preview"
ALLOWED_KEYS = {
    "type", "format", "description", "nullable", "enum", "items", "properties", "required",
    "anyOf", "minItems", "maxItems", "minimum", "maximum", "minLength", "maxLength",
    "pattern", "minProperties", "maxProperties",
}  # fmt: skip
GEMINI_TYPES = {"STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT"}


def body_of(request: ChatRequest, *, model: str = MODEL, stream: bool = False) -> dict[str, object]:
    call = ADAPTER.build_call(request, CallTarget(model=model, api_key="k-secret", stream=stream))
    decoded = json.loads(call.body)
    assert isinstance(decoded, dict)
    return decoded


def user(text: str) -> Message:
    return Message(role=Role.USER, content=(TextPart(text=text),))


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


def assistant_from(deltas: list[object]) -> Message:
    """The assistant message a client would store from a decoded reply."""
    calls = [d for d in deltas if isinstance(d, ToolCallStart)]
    args = arguments(deltas)  # type: ignore[arg-type]
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
    model_part, result_part = body["contents"][1]["parts"][0], body["contents"][2]["parts"][0]  # type: ignore[index]
    assert model_part == {"functionCall": {"name": "f", "args": {}}, "thoughtSignature": "S"}
    assert result_part == {"functionResponse": {"name": "f", "response": {"result": "ok"}}}


def test_gemini_ids_are_echoed_back() -> None:
    turn = assistant_from(
        decode_stream(sse(chunk({"functionCall": {"name": "f", "id": "g-1"}}, finish="STOP")))
    )
    (call,) = turn.tool_calls
    body = body_of(
        ChatRequest(model="m", messages=(user("go"), turn, tool_result(call, '{"ok": true}')))
    )
    contents = body["contents"]
    assert contents[1]["parts"][0]["functionCall"]["id"] == "g-1"  # type: ignore[index]
    assert contents[2]["parts"][0]["functionResponse"] == {  # type: ignore[index]
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
    assert "thoughtSignature" not in contents[1]["parts"][0]  # type: ignore[index]
    # the result of the old call and the second user text share one user content
    assert [p.keys() for p in contents[2]["parts"]] == [{"functionResponse"}, {"text"}]  # type: ignore[index]
    assert contents[3]["parts"][0]["thoughtSignature"] == SIGNATURE_BYPASS  # type: ignore[index]
    assert "thoughtSignature" not in contents[3]["parts"][1]  # type: ignore[index]
    older = body_of(ChatRequest(model="m", messages=messages), model="gemini-2.5-flash")
    assert SIGNATURE_BYPASS not in json.dumps(older)


def test_custom_tool_round_trip() -> None:
    tools = (ToolSpec(name="apply_patch", description="Edit files.", kind=ToolKind.CUSTOM),)
    request = ChatRequest(model="m", messages=(user("patch it"),), tools=tools)
    (declaration,) = body_of(request)["tools"][0]["functionDeclarations"]  # type: ignore[index]
    assert declaration["name"] == "apply_patch"
    assert declaration["description"].startswith("Edit files.\n\n")
    assert declaration["parameters"] == {
        "type": "OBJECT",
        "properties": {"input": {"type": "STRING", "description": "The complete free-form input."}},
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
    }  # type: ignore[index]
    assert contents[2]["parts"][0]["functionResponse"]["name"] == "apply_patch"  # type: ignore[index]


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
    assert body["tools"][0]["functionDeclarations"][0]["name"] == "docs__search"  # type: ignore[index]
    assert body["contents"][1]["parts"][0]["functionCall"]["name"] == "docs__search"  # type: ignore[index]
    assert body["contents"][2]["parts"][0]["functionResponse"]["name"] == "docs__search"  # type: ignore[index]
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
    ][0]["parts"]  # type: ignore[index]
    assert parts == [
        {"text": "look"},
        {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
        {"fileData": {"fileUri": "https://example.com/cat.PNG?x=1", "mimeType": "image/png"}},
        {"fileData": {"fileUri": "https://example.com/photo", "mimeType": "image/jpeg"}},
        {"inlineData": {"mimeType": "text/plain", "data": "aGkgdGhlcmU="}},
    ]


# ---- schemas ----------------------------------------------------------------------------


def nodes(schema: object, path: str = "$") -> Iterator[tuple[str, Mapping[str, object]]]:
    """Every schema node of a converted schema, with its path."""
    assert isinstance(schema, Mapping), path
    yield path, schema
    for name, child in (schema.get("properties") or {}).items():  # type: ignore[attr-defined]
        yield from nodes(child, f"{path}.{name}")
    if "items" in schema:
        yield from nodes(schema["items"], f"{path}[]")
    for index, branch in enumerate(schema.get("anyOf") or []):  # type: ignore[arg-type]
        yield from nodes(branch, f"{path}|{index}")


def assert_gemini_accepts(schema: object) -> None:
    for path, node in nodes(schema):
        assert set(node) <= ALLOWED_KEYS, (path, set(node) - ALLOWED_KEYS)
        assert node.get("type") in GEMINI_TYPES or "anyOf" in node, path
        if node.get("type") == "ARRAY":
            assert "items" in node, path
        if "enum" in node:
            assert node["type"] == "STRING", path
            assert all(isinstance(v, str) for v in node["enum"]), path  # type: ignore[attr-defined]
        if "properties" in node or "required" in node:
            assert node["type"] == "OBJECT", path
            assert node["properties"], path
            assert set(node.get("required", [])) <= set(node["properties"]), path  # type: ignore[arg-type, call-overload]


def test_codex_tools_convert_to_schemas_gemini_accepts() -> None:
    specs = codex_tool_specs()
    declarations = body_of(ChatRequest(model="m", messages=(user("x"),), tools=specs))["tools"][0][
        "functionDeclarations"
    ]  # type: ignore[index]
    by_name = {d["name"]: d for d in declarations}
    assert set(by_name) == {s.name for s in specs}
    for declaration in declarations:
        if "parameters" in declaration:
            assert_gemini_accepts(declaration["parameters"])
    exec_command = by_name["exec_command"]["parameters"]
    assert exec_command["required"] == ["cmd"]
    assert exec_command["properties"]["sandbox_permissions"]["enum"] == [
        "use_default",
        "require_escalated",
    ]
    assert exec_command["properties"]["prefix_rule"]["items"] == {"type": "STRING"}
    assert exec_command["properties"]["yield_time_ms"]["type"] == "NUMBER"
    assert "parameters" not in by_name["get_goal"]
    assert by_name["apply_patch"]["parameters"]["properties"]["input"]["type"] == "STRING"
    questions = by_name["request_user_input"]["parameters"]["properties"]["questions"]
    assert questions["items"]["properties"]["options"]["items"]["required"] == [
        "label",
        "description",
    ]


def test_schema_conversion_of_awkward_json_schema() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": False,
        "$defs": {"node": {"type": "object", "properties": {
            "child": {"$ref": "#/$defs/node"}, "v": {"type": "integer", "format": "int64"}}}},
        "properties": {
            "tree": {"$ref": "#/$defs/node", "description": "A tree."},
            "maybe": {"type": ["string", "null"], "format": "uri", "default": "x",
                      "examples": ["y"]},
            "either": {"type": ["string", "integer"], "minLength": 1, "minimum": 0},
            "pick": {"oneOf": [{"type": "string"}, {"type": "null"}]},
            "fixed": {"const": "yes"},
            "level": {"type": "integer", "enum": [1, 2, 3], "description": "Level."},
            "merged": {"allOf": [{"properties": {"a": {"type": "string"}}, "required": ["a"]},
                                 {"properties": {"b": {"type": "boolean"}}}]},
            "bare": {"type": "array"},
            "anything": {},
        },
        "required": ["tree", "ghost"],
        "strict": True,
    }  # fmt: skip
    converted = gemini_parameters(schema)
    assert_gemini_accepts(converted)
    assert converted is not None
    props = converted["properties"]
    assert isinstance(props, dict)
    assert converted["required"] == ["tree"]
    assert props["tree"]["description"] == "A tree."
    assert props["tree"]["properties"]["v"] == {"type": "INTEGER", "format": "int64"}
    assert props["maybe"] == {"type": "STRING", "nullable": True}
    assert props["either"] == {
        "anyOf": [{"type": "STRING", "minLength": 1}, {"type": "INTEGER", "minimum": 0}]
    }
    assert props["pick"] == {"type": "STRING", "nullable": True}
    assert props["fixed"] == {"type": "STRING", "enum": ["yes"]}
    assert props["level"] == {"type": "INTEGER", "description": "Level. Allowed values: 1, 2, 3."}
    assert props["merged"]["required"] == ["a"]
    assert set(props["merged"]["properties"]) == {"a", "b"}
    assert props["bare"] == {"type": "ARRAY", "items": {"type": "STRING"}}
    assert props["anything"] == {"type": "STRING"}
    depth = 0
    node = props["tree"]
    while "properties" in node:
        node, depth = node["properties"]["child"], depth + 1
    assert node == {"type": "OBJECT"}
    assert depth <= 8


def test_tools_without_parameters_omit_them() -> None:
    assert gemini_parameters(None) is None
    assert gemini_parameters({"type": "object", "properties": {}}) is None
    assert gemini_parameters({"type": "object"}) is None
