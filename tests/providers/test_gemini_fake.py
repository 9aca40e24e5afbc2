"""The Gemini fake (``fakes.gemini_wire``) against the Gemini adapter, purely and over HTTP."""

from __future__ import annotations

import json

import httpx
import pytest
import trio

from fakes import CustomToolCall, FakeUsage, Fault, FunctionCall, Reasoning, Reply, Text
from fakes.gemini_wire import GEMINI, error_body, gemini_answer, gemini_stream, read_conversation
from fakes.server import open_fake_provider
from fakes.wire import WireContext
from messages.chat import (
    ChatRequest,
    FinishReason,
    Message,
    Role,
    TextPart,
    ToolCall,
    ToolKind,
    ToolSpec,
)
from messages.errors import ErrorKind
from messages.usage import Usage
from providers.adapter import CallTarget
from providers.gemini.adapter import ADAPTER
from tests.providers.gemini_support import (
    arguments,
    decode_stream,
    dones,
    failure_of,
    finish_of,
    fixture_bytes,
    last_usage,
    reasoning_text,
    starts,
    text_of,
)

USAGE = FakeUsage(input_tokens=120, cached_tokens=20, output_tokens=30, reasoning_tokens=10)
OURS = Usage(input_tokens=120, cached_input_tokens=20, output_tokens=30, reasoning_tokens=10)
REQUEST = ChatRequest(
    model="m",
    messages=(Message(role=Role.USER, content=(TextPart(text="hi"),)),),
    tools=(
        ToolSpec(name="exec_command", parameters={"type": "object"}),
        ToolSpec(name="apply_patch", kind=ToolKind.CUSTOM),
    ),
)
CALLING = Reply(
    items=(
        Reasoning(summary="Plan: list files.", encrypted_content="SIG-A"),
        Text(text="Let me look."),
        FunctionCall(name="exec_command", arguments='{"cmd": "ls"}'),
        CustomToolCall(name="apply_patch", input="*** Begin Patch\n*** End Patch\n"),
    ),
    usage=USAGE,
)


def context() -> WireContext:
    return WireContext(model="gemini-fake", token="tok123", created=0, usage=USAGE, request={})


def stream_bytes(reply: Reply, failure: tuple[str, str] | None = None) -> bytes:
    return b"".join(gemini_stream(reply, context(), failure=failure))


def test_stream_framing_is_crlf_data_lines_only() -> None:
    events = gemini_stream(CALLING, context())
    assert all(e.startswith(b"data: {") and e.endswith(b"}\r\n\r\n") for e in events)
    assert b"event:" not in b"".join(events)
    assert b"[DONE]" not in b"".join(events)
    documents = [json.loads(e[6:]) for e in events]
    assert ["usageMetadata" in d for d in documents] == [False] * (len(events) - 1) + [True]
    assert documents[-1]["candidates"][0]["finishReason"] == "STOP"
    assert all(
        "id" not in p.get("functionCall", {})
        for d in documents
        for p in d["candidates"][0]["content"]["parts"]
    )


@pytest.mark.parametrize("streamed", [True, False])
def test_calling_reply_round_trips(streamed: bool) -> None:
    if streamed:
        deltas = decode_stream(stream_bytes(CALLING), REQUEST)
    else:
        answer = gemini_answer(CALLING, context())
        assert answer.status == 200
        deltas = list(ADAPTER.parse_reply(answer.body, REQUEST.tools))
    assert reasoning_text(deltas) == "Plan: list files."
    assert text_of(deltas) == "Let me look."
    call, custom = starts(deltas)
    assert (call.name, custom.name, custom.kind) == ("exec_command", "apply_patch", ToolKind.CUSTOM)
    assert arguments(deltas) == {0: '{"cmd":"ls"}', 1: "*** Begin Patch\n*** End Patch\n"}
    signed = [d.reasoning for d in dones(deltas) if d.reasoning.signature]
    assert [(r.signature, r.id) for r in signed] == [("SIG-A", call.id)]
    assert last_usage(deltas).usage == OURS
    assert finish_of(deltas).reason is FinishReason.TOOL_CALLS


@pytest.mark.parametrize("streamed", [True, False])
def test_text_reply_with_reasoning_signs_the_last_part(streamed: bool) -> None:
    reply = Reply(items=(Reasoning(summary="Think."), Text(text="Hello there world")), usage=USAGE)
    if streamed:
        deltas = decode_stream(stream_bytes(reply))
    else:
        deltas = list(ADAPTER.parse_reply(gemini_answer(reply, context()).body))
    assert text_of(deltas) == "Hello there world"
    signed = [d.reasoning for d in dones(deltas) if d.reasoning.signature]
    assert len(signed) == 1
    assert signed[0].id is None
    assert finish_of(deltas).reason is FinishReason.STOP


def test_length_cut_drops_a_half_call_and_halves_text() -> None:
    cut_call = Reply(
        items=(Text(text="abcd"), FunctionCall(name="f", arguments='{"a": 1}')), finish="length"
    )
    deltas = decode_stream(stream_bytes(cut_call))
    assert (text_of(deltas), starts(deltas)) == ("abcd", [])
    assert finish_of(deltas).reason is FinishReason.LENGTH
    cut_text = Reply(items=(Text(text="abcdefgh"),), finish="length")
    body = gemini_answer(cut_text, context()).body
    assert text_of(ADAPTER.parse_reply(body)) == "abcd"
    assert finish_of(list(ADAPTER.parse_reply(body))).reason is FinishReason.LENGTH


def test_failed_event_and_cut_stream() -> None:
    deltas = decode_stream(stream_bytes(CALLING, failure=("overloaded", "try later")))
    failure = failure_of(deltas).error
    assert (failure.kind, failure.message) == (ErrorKind.OVERLOADED, "try later")
    cut = b"".join(gemini_stream(CALLING, context())[:-1])
    assert failure_of(decode_stream(cut)).error.kind is ErrorKind.UPSTREAM_ERROR
    answer = gemini_answer(CALLING, context(), failure=("server_error", "boom"))
    error = ADAPTER.map_error(answer.status, [], answer.body)
    assert (answer.status, error.kind, error.message) == (500, ErrorKind.UPSTREAM_ERROR, "boom")


@pytest.mark.parametrize(
    ("status", "fault", "kind", "retry_after"),
    [
        (429, Fault(retry_after="34.4"), ErrorKind.RATE_LIMITED, 34.4),
        (429, Fault(retry_after="44", error_code="insufficient_quota"), ErrorKind.QUOTA_EXHAUSTED,
         None),
        (400, Fault(error_code="context_length_exceeded"), ErrorKind.CONTEXT_TOO_LONG, None),
        (400, Fault(error_code="invalid_api_key"), ErrorKind.PROVIDER_AUTH, None),
        (400, Fault(), ErrorKind.BAD_REQUEST, None),
        (401, Fault(), ErrorKind.PROVIDER_AUTH, None),
        (404, Fault(), ErrorKind.NOT_FOUND, None),
        (500, Fault(), ErrorKind.UPSTREAM_ERROR, None),
        (503, Fault(), ErrorKind.OVERLOADED, None),
        (504, Fault(), ErrorKind.UPSTREAM_ERROR, None),
    ],
)  # fmt: skip
def test_error_bodies_map_back(
    status: int, fault: Fault, kind: ErrorKind, retry_after: float | None
) -> None:
    error = ADAPTER.map_error(status, [], error_body(status, fault))
    assert (error.kind, error.retry_after) == (kind, retry_after)


def test_reads_recorded_cookbook_requests() -> None:
    single = read_conversation(
        json.loads(fixture_bytes("cookbook-generatecontent-single-turn-function-call.request.json"))
    )
    assert single.last_user_text == "Which theaters in Mountain View show Barbie movie?"
    assert single.tool_names == {"find_movies", "find_theaters", "get_showtimes"}
    assert single.last_tool_output is None
    turn = read_conversation(
        json.loads(fixture_bytes("cookbook-generatecontent-function-response-turn.request.json"))
    )
    assert turn.last_tool_output is not None
    assert "AMC Mountain View 16" in turn.last_tool_output


def test_reads_what_the_adapter_sends() -> None:
    call = ToolCall(id="call_1", name="exec_command", arguments='{"cmd": "ls"}')
    request = ChatRequest(
        model="m",
        messages=(
            Message(role=Role.USER, content=(TextPart(text="run: ls"),)),
            Message(role=Role.ASSISTANT, tool_calls=(call,)),
            Message(role=Role.TOOL, tool_call_id="call_1", tool_name="exec_command",
                    content=(TextPart(text="Output:\nREADME"),)),
        ),
        tools=REQUEST.tools,
    )  # fmt: skip
    body = json.loads(
        ADAPTER.build_call(request, CallTarget(model="g", api_key="k", stream=False)).body
    )
    conversation = GEMINI.conversation(body)
    assert (conversation.last_user_text, conversation.last_tool_output) == (
        "run: ls",
        "Output:\nREADME",
    )
    assert conversation.tool_names == {"exec_command", "apply_patch"}


def test_routes() -> None:
    assert GEMINI.matches("POST", "/v1beta/models/gemini-2.5-pro:streamGenerateContent")
    assert GEMINI.matches("POST", "/v1beta/models/gemini-2.5-pro:generateContent")
    assert not GEMINI.matches("GET", "/v1beta/models/gemini-2.5-pro:generateContent")
    assert not GEMINI.matches("POST", "/v1/chat/completions")
    assert GEMINI.wants_stream("/v1beta/models/x:streamGenerateContent", {})
    assert GEMINI.requested_model("/v1beta/models/gemini-x:generateContent", {}) == "gemini-x"


async def test_over_http_with_the_fake_server(nursery: trio.Nursery) -> None:
    fake = await open_fake_provider(nursery)
    fake.enqueue(CALLING, Fault(status=429, retry_after="2.5"))
    base = f"{fake.origin}/v1beta"
    stream_call = ADAPTER.build_call(
        REQUEST, CallTarget(model="gemini-3-pro-preview", api_key="k-9", stream=True)
    )
    with trio.fail_after(10):
        async with httpx.AsyncClient(base_url=base) as client:
            response = await client.post(
                stream_call.path, content=stream_call.body, headers=dict(stream_call.headers)
            )
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert b"\r\n\r\n" in response.content
            deltas = decode_stream(response.content, REQUEST)
            limited = await client.post(
                stream_call.path, content=stream_call.body, headers=dict(stream_call.headers)
            )
            whole_call = ADAPTER.build_call(
                ChatRequest(
                    model="m",
                    messages=(Message(role=Role.USER, content=(TextPart(text="run: ls"),)),),
                    tools=REQUEST.tools,
                ),
                CallTarget(model="gemini-3-pro-preview", api_key="k-9", stream=False),
            )
            default = await client.post(
                whole_call.path, content=whole_call.body, headers=dict(whole_call.headers)
            )
    assert arguments(deltas)[0] == '{"cmd":"ls"}'
    assert finish_of(deltas).reason is FinishReason.TOOL_CALLS
    error = ADAPTER.map_error(limited.status_code, list(limited.headers.items()), limited.content)
    assert (error.kind, error.retry_after) == (ErrorKind.RATE_LIMITED, 2.5)
    default_deltas = list(ADAPTER.parse_reply(default.content, REQUEST.tools))
    assert [s.name for s in starts(default_deltas)] == ["exec_command"]
    recorded = fake.requests[0]
    assert recorded.path == "/v1beta/models/gemini-3-pro-preview:streamGenerateContent?alt=sse"
    assert recorded.header("x-goog-api-key") == "k-9"
    assert "k-9" not in recorded.path
