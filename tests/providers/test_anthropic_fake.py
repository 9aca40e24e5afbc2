"""The Anthropic fake (``fakes.anthropic_wire``) decoded by the Anthropic adapter."""

from __future__ import annotations

import json

import pytest
import trio

from fakes.anthropic_wire import (
    ANTHROPIC,
    anthropic_answer,
    anthropic_stream,
    error_body,
    read_conversation,
)
from fakes.script import CustomToolCall, FakeUsage, Fault, FunctionCall, Reasoning, Reply, Text
from fakes.server import open_fake_provider
from fakes.wire import WireContext, cut_in_half
from http11.client import UpstreamPool, UpstreamReadError
from messages.chat import ChatRequest, FinishReason, Message, Role, TextPart, ToolKind, ToolSpec
from messages.errors import ErrorKind
from messages.usage import Usage
from providers.adapter import CallTarget
from providers.anthropic.adapter import ADAPTER
from providers.sse import SseParser
from tests.providers.anthropic_support import Folded, decode_events, fold, sse_of

USAGE = FakeUsage(input_tokens=1000, cached_tokens=600, output_tokens=50, reasoning_tokens=7)
OUR_USAGE = Usage(input_tokens=1000, cached_input_tokens=600, output_tokens=50)
TOOLS = (
    ToolSpec(name="exec_command", parameters={"type": "object"}),
    ToolSpec(name="apply_patch", kind=ToolKind.CUSTOM),
)
PATCH = '*** Begin Patch\n*** Update File: a.py\n@@\n-x = "1"\n+x = "2"\n*** End Patch\n'
CTX = WireContext(model="claude-sonnet-4-5", token="abc123", created=1, usage=USAGE, request={})
WATCHDOG_S = 10


def stream_of(reply: Reply, failure: tuple[str, str] | None = None) -> Folded:
    raw = b"".join(anthropic_stream(reply, CTX, failure=failure))
    return fold(decode_events(sse_of(raw), TOOLS))


def test_text_reply_round_trip() -> None:
    seen = stream_of(Reply(items=(Text(text="Hello there, friend."),)))
    assert (seen.text, seen.finish, seen.usage, seen.failures) == (
        "Hello there, friend.",
        [FinishReason.STOP],
        OUR_USAGE,
        [],
    )


def test_reasoning_text_and_parallel_calls_round_trip() -> None:
    reply = Reply(
        items=(
            Reasoning(summary="Two commands are needed.", encrypted_content="EvQBsigned"),
            Text(text="Running them."),
            FunctionCall(name="exec_command", arguments='{"cmd": "ls -la"}', call_id="toolu_1"),
            FunctionCall(name="exec_command", arguments="{}"),
        )
    )
    seen = stream_of(reply)
    assert seen.reasoning_text == "Two commands are needed."
    [done] = seen.reasoning_done
    assert (done.reasoning.provider, done.reasoning.signature) == ("anthropic", "EvQBsigned")
    assert seen.text == "Running them."
    assert [(c.id, c.name, c.arguments) for c in seen.calls] == [
        ("toolu_1", "exec_command", '{"cmd": "ls -la"}'),
        (CTX.mint_id("toolu", 3, sep="_01"), "exec_command", "{}"),
    ]
    assert len(seen.calls[0].fragments) >= 2
    assert seen.finish == [FinishReason.TOOL_CALLS]


def test_custom_apply_patch_round_trip() -> None:
    seen = stream_of(Reply(items=(CustomToolCall(name="apply_patch", input=PATCH),)))
    [call] = seen.calls
    assert (call.kind, call.name, call.fragments) == ("custom", "apply_patch", [PATCH])
    assert seen.finish == [FinishReason.TOOL_CALLS]
    whole = fold(
        ADAPTER.parse_reply(
            anthropic_answer(
                Reply(items=(CustomToolCall(name="apply_patch", input=PATCH),)), CTX
            ).body,
            TOOLS,
        )
    )
    assert [(c.kind, c.arguments) for c in whole.calls] == [("custom", PATCH)]


def test_length_mid_tool_call() -> None:
    reply = Reply(
        items=(
            Text(text="Writing."),
            FunctionCall(name="exec_command", arguments='{"cmd": "echo hello world"}'),
        ),
        finish="length",
    )
    raw = anthropic_stream(reply, CTX)
    assert b'"content_block_stop","index":1' not in b"".join(raw)
    seen = stream_of(reply)
    [call] = seen.calls
    assert call.arguments == cut_in_half('{"cmd": "echo hello world"}') == '{"cmd": "echo '
    assert seen.finish == [FinishReason.LENGTH]
    assert seen.failures == []


def test_length_mid_custom_call_sends_no_broken_patch() -> None:
    seen = stream_of(
        Reply(items=(CustomToolCall(name="apply_patch", input=PATCH),), finish="length")
    )
    [call] = seen.calls
    assert (call.kind, call.fragments, seen.finish) == ("custom", [], [FinishReason.LENGTH])


def test_midstream_failure_round_trip() -> None:
    seen = stream_of(Reply(items=(Text(text="Hello"),)), failure=("overloaded_error", "Overloaded"))
    assert seen.text == "Hello"
    assert seen.finish == []
    [failure] = seen.failures
    assert (failure.error.kind, failure.error.status) == (ErrorKind.OVERLOADED, 503)


def test_nonstream_round_trip() -> None:
    reply = Reply(
        items=(
            Reasoning(summary="think"),
            Text(text="Answer."),
            FunctionCall(name="exec_command", arguments='{"cmd":"pwd"}'),
        )
    )
    answer = anthropic_answer(reply, CTX)
    seen = fold(ADAPTER.parse_reply(answer.body, TOOLS))
    assert (seen.reasoning_text, seen.text) == ("think", "Answer.")
    assert [c.arguments for c in seen.calls] == ['{"cmd":"pwd"}']
    assert (seen.finish, seen.usage) == ([FinishReason.TOOL_CALLS], OUR_USAGE)
    failed = anthropic_answer(reply, CTX, failure=("overloaded_error", "Overloaded"))
    assert failed.status == 529
    assert ADAPTER.map_error(failed.status, [], failed.body).kind is ErrorKind.OVERLOADED


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (429, ErrorKind.RATE_LIMITED),
        (529, ErrorKind.OVERLOADED),
        (401, ErrorKind.PROVIDER_AUTH),
        (413, ErrorKind.PAYLOAD_TOO_LARGE),
    ],
)
def test_error_bodies_round_trip(status: int, kind: ErrorKind) -> None:
    assert ADAPTER.map_error(status, [], error_body(status, Fault())).kind is kind


def test_fake_reads_our_request() -> None:
    conversation = ChatRequest(
        model="m",
        messages=(
            Message(role=Role.USER, content=(TextPart(text="run: ls"),)),
            Message(role=Role.ASSISTANT, tool_calls=()),
        ),
        tools=TOOLS,
    )
    body = json.loads(
        ADAPTER.build_call(
            conversation, CallTarget(model="claude-sonnet-4-5", api_key="k", stream=True)
        ).body
    )
    seen = read_conversation(body)
    assert (seen.last_user_text, seen.last_tool_output, seen.tool_names) == (
        "run: ls",
        None,
        frozenset({"exec_command", "apply_patch"}),
    )
    assert ANTHROPIC.matches("POST", "/v1/messages")
    assert ANTHROPIC.wants_stream("/v1/messages", body)


# --- over HTTP, through the fake server ------------------------------------------------------


async def call_fake(
    base_url: str, chat: ChatRequest, *, stream: bool
) -> tuple[int, list[tuple[str, str]], Folded]:
    http = ADAPTER.build_call(
        chat, CallTarget(model="claude-sonnet-4-5", api_key="sk-ant-test", stream=stream)
    )
    async with (
        UpstreamPool() as pool,
        pool.stream(http.method, base_url + http.path, http.headers, http.body) as response,
    ):
        if response.status != 200:
            body = await response.read()
            info = ADAPTER.map_error(response.status, response.headers, body)
            return (
                response.status,
                list(response.headers),
                Folded(failures=[], finish=[], text=info.kind.value + f":{info.retry_after}"),
            )
        if not stream:
            return (
                200,
                list(response.headers),
                fold(ADAPTER.parse_reply(await response.read(), chat.tools)),
            )
        parser, decoder, deltas = SseParser(), ADAPTER.new_stream_decoder(chat.tools), []
        try:
            async for chunk in response.iter_bytes():
                for event in parser.feed(chunk):
                    deltas.extend(decoder.feed(event))
        except UpstreamReadError:
            pass  # the worker's job; here the decoder must still report the missing end
        deltas.extend(decoder.close())
        return 200, list(response.headers), fold(deltas)


async def test_fake_server_speaks_anthropic_end_to_end() -> None:
    chat = ChatRequest(
        model="m",
        messages=(Message(role=Role.USER, content=(TextPart(text="Hi there"),)),),
        tools=TOOLS,
    )
    with trio.fail_after(WATCHDOG_S):
        async with trio.open_nursery() as nursery:
            server = await open_fake_provider(nursery)
            server.enqueue(
                Fault(status=429, retry_after="3"),
                Fault(status=529),
                Reply(items=(Text(text="Streamed."),), usage=USAGE),
                Reply(items=(CustomToolCall(name="apply_patch", input=PATCH),), usage=USAGE),
                Fault(cut_after_events=3),
            )
            assert (await call_fake(server.base_url, chat, stream=True))[
                2
            ].text == "rate_limited:3.0"
            assert (await call_fake(server.base_url, chat, stream=True))[
                2
            ].text == "overloaded:None"
            streamed = (await call_fake(server.base_url, chat, stream=True))[2]
            assert (streamed.text, streamed.finish, streamed.usage) == (
                "Streamed.",
                [FinishReason.STOP],
                OUR_USAGE,
            )
            whole = (await call_fake(server.base_url, chat, stream=False))[2]
            assert [(c.kind, c.arguments) for c in whole.calls] == [("custom", PATCH)]
            cut = (await call_fake(server.base_url, chat, stream=True))[2]
            assert [f.error.kind for f in cut.failures] == [ErrorKind.PROTOCOL]
            default = (await call_fake(server.base_url, chat, stream=True))[2]
            assert default.text == "Hello from the fake provider. You said: Hi there"
            assert server.requests[0].path == "/v1/messages"
            assert server.requests[0].header("x-api-key") == "sk-ant-test"
            assert server.requests[0].header("anthropic-version") == "2023-06-01"
            nursery.cancel_scope.cancel()
