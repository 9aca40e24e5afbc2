"""The Chat fakes (OpenAI's ``CHAT``, ``MISTRAL``) decoded by the Chat family adapters."""

from __future__ import annotations

import json
import re

import pytest
import trio

from fakes.mistral_wire import MISTRAL, mistral_answer, mistral_stream, rejection
from fakes.openai_wire import CHAT
from fakes.script import CustomToolCall, FakeUsage, Fault, FunctionCall, Reasoning, Reply, Text
from fakes.server import open_fake_provider
from fakes.wire import WireContext, WireFormat
from messages.chat import (
    ChatRequest,
    FinishReason,
    Message,
    Role,
    StreamDelta,
    StreamFailure,
    TextPart,
    ToolKind,
    ToolSpec,
)
from messages.errors import ErrorInfo, ErrorKind
from messages.usage import Usage
from providers import mistral, openai_chat_upstream, openai_compatible
from providers.adapter import ProviderAdapter
from tests.providers.anthropic_support import Folded, call, fold, tool_result, user
from tests.providers.chat_family_support import body_of, call_fake, decode_bytes

USAGE = FakeUsage(input_tokens=1000, cached_tokens=400, output_tokens=50, reasoning_tokens=7)
OUR_USAGE = Usage(input_tokens=1000, cached_input_tokens=400, output_tokens=50, reasoning_tokens=7)
TOOLS = (
    ToolSpec(name="exec_command", parameters={"type": "object"}),
    ToolSpec(name="apply_patch", kind=ToolKind.CUSTOM),
)
PATCH = '*** Begin Patch\n*** Update File: a.py\n@@\n-x = "1"\n+x = "2"\n*** End Patch\n'
WITH_USAGE = {"stream_options": {"include_usage": True}}
NINE = re.compile(r"[A-Za-z0-9]{9}")
WATCHDOG_S = 10
PAIRS = [
    pytest.param(openai_chat_upstream.ADAPTER, CHAT, id="openai"),
    pytest.param(mistral.ADAPTER, MISTRAL, id="mistral"),
]


def ctx(request: dict[str, object] | None = None) -> WireContext:
    return WireContext(
        model="m", token="abc123def456", created=1, usage=USAGE, request=request or {}
    )


def streamed(adapter: ProviderAdapter, wire: WireFormat, reply: Reply, **options: object) -> Folded:
    failure = options.get("failure")
    events = wire.stream_events(reply, ctx(WITH_USAGE), failure=failure)  # type: ignore[arg-type]
    return fold(decode_bytes(adapter, events, TOOLS))


def whole(adapter: ProviderAdapter, wire: WireFormat, reply: Reply) -> Folded:
    return fold(adapter.parse_reply(wire.complete_answer(reply, ctx(), failure=None).body, TOOLS))


@pytest.mark.parametrize(("adapter", "wire"), PAIRS)
def test_text_and_usage(adapter: ProviderAdapter, wire: WireFormat) -> None:
    for seen in (
        streamed(adapter, wire, Reply(items=(Text(text="Hello there, friend."),))),
        whole(adapter, wire, Reply(items=(Text(text="Hello there, friend."),))),
    ):
        assert (seen.text, seen.finish, seen.failures) == (
            "Hello there, friend.",
            [FinishReason.STOP],
            [],
        )
        assert seen.usage is not None
        assert (
            seen.usage.input_tokens,
            seen.usage.cached_input_tokens,
            seen.usage.output_tokens,
        ) == (
            1000,
            400,
            50,
        )


@pytest.mark.parametrize(("adapter", "wire"), PAIRS)
def test_parallel_calls_and_empty_arguments(adapter: ProviderAdapter, wire: WireFormat) -> None:
    reply = Reply(
        items=(
            Text(text="Running them."),
            FunctionCall(name="exec_command", arguments='{"cmd": "ls -la"}'),
            FunctionCall(name="exec_command", arguments=""),
        )
    )
    for seen in (streamed(adapter, wire, reply), whole(adapter, wire, reply)):
        assert seen.text == "Running them."
        assert [(c.name, c.arguments) for c in seen.calls] == [
            ("exec_command", '{"cmd": "ls -la"}'),
            ("exec_command", "{}"),
        ]
        assert len({c.id for c in seen.calls}) == 2
        assert seen.finish == [FinishReason.TOOL_CALLS]


@pytest.mark.parametrize(("adapter", "wire"), PAIRS)
def test_custom_apply_patch(adapter: ProviderAdapter, wire: WireFormat) -> None:
    reply = Reply(items=(CustomToolCall(name="apply_patch", input=PATCH),))
    for seen in (streamed(adapter, wire, reply), whole(adapter, wire, reply)):
        assert [(c.kind, c.name, c.arguments) for c in seen.calls] == [
            ("custom", "apply_patch", PATCH)
        ]


@pytest.mark.parametrize(("adapter", "wire"), PAIRS)
def test_length_in_a_tool_call(adapter: ProviderAdapter, wire: WireFormat) -> None:
    reply = Reply(
        items=(
            Text(text="Writing."),
            FunctionCall(name="exec_command", arguments='{"cmd": "echo hi"}'),
        ),
        finish="length",
    )
    seen = streamed(adapter, wire, reply)
    assert (seen.finish, seen.failures) == ([FinishReason.LENGTH], [])
    custom = Reply(items=(CustomToolCall(name="apply_patch", input=PATCH),), finish="length")
    # Mistral sends calls whole, so a cut one never comes; native custom input (OpenAI)
    # streams through as it comes, so what came before the cut has been passed on
    arguments = [c.arguments for c in streamed(adapter, wire, custom).calls]
    if wire is MISTRAL:
        assert arguments == []
    else:
        assert PATCH.startswith(arguments[0]) and arguments[0] != PATCH


@pytest.mark.parametrize(("adapter", "wire"), PAIRS)
def test_failure_mid_stream(adapter: ProviderAdapter, wire: WireFormat) -> None:
    seen = streamed(
        adapter, wire, Reply(items=(Text(text="Hello"),)), failure=("server_error", "boom")
    )
    assert seen.text == "Hello"
    [failure] = seen.failures
    assert failure.error.kind is ErrorKind.UPSTREAM_ERROR
    answer = wire.complete_answer(Reply(items=()), ctx(), failure=("server_error", "boom"))
    assert adapter.map_error(answer.status, [], answer.body).kind is ErrorKind.UPSTREAM_ERROR


def test_mistral_stream_shape_is_mistrals() -> None:
    reply = Reply(
        items=(FunctionCall(name="f", arguments="{}"), FunctionCall(name="g", arguments="{}"))
    )
    *_, last, done = mistral_stream(reply, ctx())
    chunk = json.loads(last.removeprefix(b"data: "))
    [choice] = chunk["choices"]
    assert choice["finish_reason"] == "tool_calls" and "usage" in chunk  # usage without asking
    assert [sorted(c) for c in choice["delta"]["tool_calls"]] == [
        ["function", "id"],
        ["function", "id"],
    ]
    assert all(NINE.fullmatch(c["id"]) for c in choice["delta"]["tool_calls"])
    assert done == b"data: [DONE]\n\n"


def test_mistral_reasoning_round_trip() -> None:
    reply = Reply(items=(Reasoning(summary="Two plus two."), Text(text="4")))
    for seen in (
        streamed(mistral.ADAPTER, MISTRAL, reply),
        fold(mistral.ADAPTER.parse_reply(mistral_answer(reply, ctx()).body)),
    ):
        assert (seen.reasoning_text, seen.text) == ("Two plus two.", "4")
        [done] = seen.reasoning_done
        assert done.reasoning.provider == "mistral"
        turn = ChatRequest(
            model="m",
            messages=(
                user("2+2?"),
                Message(
                    role=Role.ASSISTANT, content=(TextPart(text="4"),), reasoning=(done.reasoning,)
                ),
            ),
        )
        assert body_of(mistral.ADAPTER, turn)["messages"][1]["content"][0]["type"] == "thinking"


def test_mistral_fake_rejects_ids_mistral_rejects() -> None:
    conversation = ChatRequest(
        model="m",
        messages=(
            user("x"),
            Message(role=Role.ASSISTANT, tool_calls=(call("call_abc", "{}"),)),
            tool_result("call_abc", "ok"),
        ),
    )
    foreign = {**body_of(openai_compatible.ADAPTER, conversation), "stream": True}
    assert not MISTRAL.wants_stream("/mistral/v1/chat/completions", foreign)
    answer = MISTRAL.complete_answer(Reply(items=()), ctx(foreign), failure=None)
    assert answer.status == 400
    error = mistral.ADAPTER.map_error(answer.status, [], answer.body)
    assert error.kind is ErrorKind.BAD_REQUEST and "call_abc" in error.message
    ours = body_of(mistral.ADAPTER, conversation, stream=True)
    assert MISTRAL.wants_stream("/mistral/v1/chat/completions", ours)


def test_mistral_fake_rejects_openai_only_fields() -> None:
    conversation = ChatRequest(model="m", messages=(user("x"),), max_output_tokens=5)
    openai_body = body_of(openai_chat_upstream.ADAPTER, conversation, stream=True)
    answer = MISTRAL.complete_answer(Reply(items=()), ctx(openai_body), failure=None)
    assert answer.status == 422
    assert mistral.ADAPTER.map_error(answer.status, [], answer.body).kind is ErrorKind.BAD_REQUEST
    assert rejection(body_of(mistral.ADAPTER, conversation, stream=True)) is None


def test_routes() -> None:
    assert MISTRAL.matches("POST", "/mistral/v1/chat/completions")
    assert not MISTRAL.matches("POST", "/v1/chat/completions")
    assert CHAT.matches("POST", "/v1/chat/completions")


# --- over HTTP, through the fake server ------------------------------------------------------


def folded(result: list[StreamDelta] | ErrorInfo) -> Folded:
    assert isinstance(result, list), result
    return fold(result)


async def test_mistral_over_http_across_two_turns() -> None:
    first_turn = ChatRequest(model="m", messages=(user("please run: ls"),), tools=TOOLS)
    with trio.fail_after(WATCHDOG_S):
        async with trio.open_nursery() as nursery:
            server = await open_fake_provider(nursery)
            base = server.origin + "/mistral/v1"
            server.enqueue(Fault(status=429, retry_after="2"))
            _, _, limited = await call_fake(mistral.ADAPTER, base, first_turn, stream=True)
            assert isinstance(limited, ErrorInfo) and (limited.kind, limited.retry_after) == (
                ErrorKind.RATE_LIMITED,
                2.0,
            )
            server.enqueue(
                Reply(items=(FunctionCall(name="exec_command", arguments='{"cmd": "ls"}'),))
            )
            _, _, first = await call_fake(mistral.ADAPTER, base, first_turn, stream=True)
            [made] = folded(first).calls
            assert NINE.fullmatch(made.id)
            # the second turn also carries a call another provider made (a foreign id)
            second_turn = ChatRequest(
                model="m",
                messages=(
                    *first_turn.messages,
                    Message(
                        role=Role.ASSISTANT,
                        tool_calls=(call("call_from_openai", '{"cmd": "pwd"}', "exec_command"),),
                    ),
                    tool_result("call_from_openai", "/tmp"),
                    Message(
                        role=Role.ASSISTANT,
                        tool_calls=(call(made.id, made.arguments, "exec_command"),),
                    ),
                    tool_result(made.id, "Output:\na.txt"),
                ),
                tools=TOOLS,
            )
            _, _, second = await call_fake(mistral.ADAPTER, base, second_turn, stream=False)
            assert folded(second).text == "Done. The command printed: a.txt"
            server.enqueue(Fault(cut_after_events=2))
            _, _, cut = await call_fake(mistral.ADAPTER, base, first_turn, stream=True)
            assert [f.error.kind for f in folded(cut).failures] == [ErrorKind.PROTOCOL]
            assert server.requests[1].path == "/mistral/v1/chat/completions"
            assert server.requests[1].header("authorization") == "Bearer sk-test"
            nursery.cancel_scope.cancel()


async def test_openai_compatible_over_http() -> None:
    chat = ChatRequest(model="m", messages=(user("Hi there"),), tools=TOOLS)
    with trio.fail_after(WATCHDOG_S):
        async with trio.open_nursery() as nursery:
            server = await open_fake_provider(nursery)
            server.enqueue(Reply(items=(Text(text="Streamed."),), usage=USAGE))
            _, _, result = await call_fake(
                openai_compatible.ADAPTER, server.base_url, chat, stream=True
            )
            seen = folded(result)
            assert (seen.text, seen.finish, seen.usage) == (
                "Streamed.",
                [FinishReason.STOP],
                OUR_USAGE,
            )
            assert server.requests[0].body["stream_options"] == {"include_usage": True}  # type: ignore[index]
            nursery.cancel_scope.cancel()


def test_no_failure_in_a_clean_stream() -> None:
    seen = streamed(openai_chat_upstream.ADAPTER, CHAT, Reply(items=(Text(text="x"),)))
    assert not [f for f in seen.failures if isinstance(f, StreamFailure)]
    assert seen.usage == OUR_USAGE
