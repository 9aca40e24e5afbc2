"""The Cohere fake (``fakes.cohere_wire``) decoded by the Cohere adapter."""

from __future__ import annotations

import json

import pytest
import trio
import yaml

from fakes.cohere_wire import (
    COHERE,
    cohere_answer,
    cohere_stream,
    error_body,
    read_conversation,
)
from fakes.script import CustomToolCall, FakeUsage, Fault, FunctionCall, Reasoning, Reply, Text
from fakes.server import open_fake_provider
from fakes.wire import WireContext, cut_in_half
from messages.chat import ChatRequest, FinishReason, Message, Role, TextPart, ToolKind, ToolSpec
from messages.errors import ErrorInfo, ErrorKind
from messages.usage import Usage
from providers.cohere.adapter import ADAPTER
from tests.providers.anthropic_support import Folded, call, fold, tool_result, user
from tests.providers.chat_family_support import (
    body_of,
    call_fake,
    decode_bytes,
    fixture_bytes,
    sse_of,
)

USAGE = FakeUsage(input_tokens=1000, cached_tokens=400, output_tokens=50)
OUR_USAGE = Usage(input_tokens=1000, cached_input_tokens=400, output_tokens=50)
TOOLS = (
    ToolSpec(name="exec_command", parameters={"type": "object"}),
    ToolSpec(name="apply_patch", kind=ToolKind.CUSTOM),
)
PATCH = '*** Begin Patch\n*** Update File: a.py\n@@\n-x = "1"\n+x = "2"\n*** End Patch\n'
CTX = WireContext(
    model="command-a-03-2025", token="0123456789abcdef", created=1, usage=USAGE, request={}
)
WATCHDOG_S = 10


def stream_of(reply: Reply, failure: tuple[str, str] | None = None) -> Folded:
    return fold(decode_bytes(ADAPTER, cohere_stream(reply, CTX, failure=failure), TOOLS))


def whole_of(reply: Reply) -> Folded:
    return fold(ADAPTER.parse_reply(cohere_answer(reply, CTX).body, TOOLS))


def test_the_fake_speaks_the_recorded_grammar() -> None:
    recorded = [
        json.loads(line)
        for line in fixture_bytes("cohere", "stream-tool-call.chunks.jsonl").splitlines()
    ]
    reply = Reply(items=(FunctionCall(name="weather", arguments='{"location": "SF"}'),))
    ours = [json.loads(e.data) for e in sse_of(b"".join(cohere_stream(reply, CTX)))]
    kinds = [e["type"] for e in ours]
    assert kinds == [
        "message-start",
        "tool-call-start",
        *["tool-call-delta"] * (kinds.count("tool-call-delta")),
        "tool-call-end",
        "message-end",
    ]
    by_type = {e["type"]: e for e in recorded}
    for event in ours:  # each event carries the same keys as the recorded one
        assert sorted(event) == sorted(by_type[event["type"]]), event["type"]
    assert set(ours[-1]["delta"]["usage"]) == set(by_type["message-end"]["delta"]["usage"])
    assert [e.event for e in sse_of(b"".join(cohere_stream(reply, CTX)))] == kinds


def test_text_and_reasoning_round_trip() -> None:
    reply = Reply(items=(Reasoning(summary="Think first."), Text(text="Hello there, friend.")))
    for seen in (stream_of(reply), whole_of(reply)):
        assert (seen.reasoning_text, seen.text) == ("Think first.", "Hello there, friend.")
        assert [d.reasoning.provider for d in seen.reasoning_done] == ["cohere"]
        assert (seen.finish, seen.usage, seen.failures) == ([FinishReason.STOP], OUR_USAGE, [])


def test_parallel_calls_and_empty_arguments() -> None:
    reply = Reply(
        items=(
            FunctionCall(name="exec_command", arguments='{"cmd": "ls -la"}', call_id="exec_1"),
            FunctionCall(name="exec_command", arguments=""),
        )
    )
    for seen in (stream_of(reply), whole_of(reply)):
        assert [(c.name, c.arguments) for c in seen.calls] == [
            ("exec_command", '{"cmd": "ls -la"}'),
            ("exec_command", "{}"),
        ]
        assert seen.calls[0].id == "exec_1"
        assert seen.finish == [FinishReason.TOOL_CALLS]
    assert len(stream_of(reply).calls[0].fragments) >= 2


def test_custom_apply_patch_round_trip() -> None:
    reply = Reply(items=(CustomToolCall(name="apply_patch", input=PATCH),))
    for seen in (stream_of(reply), whole_of(reply)):
        assert [(c.kind, c.name, c.fragments) for c in seen.calls] == [
            ("custom", "apply_patch", [PATCH])
        ]


def test_length_mid_tool_call() -> None:
    reply = Reply(
        items=(
            Text(text="Writing."),
            FunctionCall(name="exec_command", arguments='{"cmd": "echo hello world"}'),
        ),
        finish="length",
    )
    assert b"tool-call-end" not in b"".join(cohere_stream(reply, CTX))
    seen = stream_of(reply)
    [cut] = seen.calls
    assert cut.arguments == cut_in_half('{"cmd": "echo hello world"}')
    assert (seen.finish, seen.failures) == ([FinishReason.LENGTH], [])
    assert whole_of(reply).calls == []
    patch = stream_of(
        Reply(items=(CustomToolCall(name="apply_patch", input=PATCH),), finish="length")
    )
    assert [c.fragments for c in patch.calls] == [[]]


def test_midstream_failure_round_trip() -> None:
    seen = stream_of(Reply(items=(Text(text="Hello"),)), failure=("server_error", "boom"))
    assert (seen.text, seen.finish) == ("Hello", [])
    [failure] = seen.failures
    assert (failure.error.kind, failure.error.message) == (ErrorKind.UPSTREAM_ERROR, "boom")
    failed = cohere_answer(Reply(items=()), CTX, failure=("server_error", "boom"))
    assert failed.status == 500
    assert ADAPTER.map_error(failed.status, [], failed.body).kind is ErrorKind.UPSTREAM_ERROR


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (429, ErrorKind.RATE_LIMITED),
        (401, ErrorKind.PROVIDER_AUTH),
        (402, ErrorKind.QUOTA_EXHAUSTED),
        (503, ErrorKind.OVERLOADED),
        (504, ErrorKind.TIMEOUT),
    ],
)
def test_error_bodies_round_trip(status: int, kind: ErrorKind) -> None:
    error = ADAPTER.map_error(status, [], error_body(status, Fault()))
    assert error.kind is kind and error.message


def test_fake_reads_our_request() -> None:
    conversation = ChatRequest(
        model="m",
        messages=(
            user("please run: ls"),
            Message(role=Role.ASSISTANT, tool_calls=(call("c1", '{"cmd": "ls"}', "exec_command"),)),
            tool_result("c1", "Output:\na.txt"),
        ),
        tools=TOOLS,
    )
    body = body_of(ADAPTER, conversation, stream=True)
    seen = read_conversation(body)
    assert (seen.last_user_text, seen.last_tool_output, seen.tool_names) == (
        "please run: ls",
        "Output:\na.txt",
        frozenset({"exec_command", "apply_patch"}),
    )
    assert COHERE.matches("POST", "/v2/chat") and not COHERE.matches("POST", "/v1/chat/completions")
    assert COHERE.wants_stream("/v2/chat", body)
    recorded = fixture_bytes("cohere", "docs-chat-tool-result-turn.request.json")
    assert read_conversation(json.loads(recorded)).last_tool_output.startswith('{"title"')  # type: ignore[union-attr]
    assert yaml.safe_load(fixture_bytes("cohere", "docs-chat-stream.events.yaml"))["stream"]


# --- over HTTP, through the fake server ------------------------------------------------------


async def test_fake_server_speaks_cohere_end_to_end() -> None:
    chat = ChatRequest(
        model="m",
        messages=(Message(role=Role.USER, content=(TextPart(text="Hi there"),)),),
        tools=TOOLS,
    )
    with trio.fail_after(WATCHDOG_S):
        async with trio.open_nursery() as nursery:
            server = await open_fake_provider(nursery)
            base = server.origin + "/v2"
            server.enqueue(
                Fault(status=429, retry_after="3"),
                Reply(items=(Text(text="Streamed."),), usage=USAGE),
                Reply(items=(CustomToolCall(name="apply_patch", input=PATCH),), usage=USAGE),
                Fault(cut_after_events=3),
            )
            _, _, limited = await call_fake(ADAPTER, base, chat, stream=True)
            assert isinstance(limited, ErrorInfo)
            assert (limited.kind, limited.retry_after) == (ErrorKind.RATE_LIMITED, 3.0)
            _, _, streamed = await call_fake(ADAPTER, base, chat, stream=True)
            assert isinstance(streamed, list)
            seen = fold(streamed)
            assert (seen.text, seen.finish, seen.usage) == (
                "Streamed.",
                [FinishReason.STOP],
                OUR_USAGE,
            )
            _, _, whole = await call_fake(ADAPTER, base, chat, stream=False)
            assert isinstance(whole, list)
            assert [(c.kind, c.arguments) for c in fold(whole).calls] == [("custom", PATCH)]
            _, _, cut = await call_fake(ADAPTER, base, chat, stream=True)
            assert isinstance(cut, list)
            assert [f.error.kind for f in fold(cut).failures] == [ErrorKind.PROTOCOL]
            _, _, default = await call_fake(ADAPTER, base, chat, stream=True)
            assert isinstance(default, list)
            assert fold(default).text == "Hello from the fake provider. You said: Hi there"
            assert server.requests[0].path == "/v2/chat"
            assert server.requests[0].header("authorization") == "Bearer sk-test"
            nursery.cancel_scope.cancel()
