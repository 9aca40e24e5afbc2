"""One behavioural contract, run against every adapter in the closed registry.

Each provider's fake (``fakes/<name>_wire.py``) renders a scripted reply in the
provider's exact wire format; the adapter must read it back into the same meaning:
text, tool calls (single, parallel, empty arguments), truncation, usage, errors, and a
stream that ends early. And a request the adapter builds must read, on the fake's side,
as the conversation that was sent.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
import pytest

from fakes import FakeUsage, Fault, FunctionCall, Reply, Text
from fakes.wire import WireContext, WireFormat
from messages.chat import (
    ChatRequest,
    Finish,
    FinishReason,
    Message,
    Role,
    StreamDelta,
    StreamFailure,
    TextDelta,
    TextPart,
    ToolCallArgs,
    ToolCallStart,
    ToolSpec,
    UsageReport,
)
from messages.errors import ErrorKind
from providers.adapter import CallTarget, ProviderAdapter
from providers.registry import REGISTRY
from providers.sse import SseParser
from tests.providers.contract_wires import TOOLLESS, WIRE_FOR_TYPE

TOOLS = (
    ToolSpec(
        name="exec_command",
        description="run",
        parameters={
            "type": "object",
            "properties": {"cmd": {"type": "string"}},
            "required": ["cmd"],
        },
    ),
    ToolSpec(name="list_dir", description="ls", parameters={"type": "object", "properties": {}}),
)
USAGE = FakeUsage(input_tokens=1000, cached_tokens=400, output_tokens=120, reasoning_tokens=0)


@pytest.fixture(params=sorted(REGISTRY))
def pair(request: pytest.FixtureRequest) -> tuple[ProviderAdapter, WireFormat]:
    assert request.param in WIRE_FOR_TYPE, f"no fake wire format for {request.param}"
    return REGISTRY[request.param], WIRE_FOR_TYPE[request.param]


def _context(request_body: object = None) -> WireContext:
    body = request_body if isinstance(request_body, dict) else {}
    return WireContext(
        model="model-x", token="c0ffee", created=1_700_000_000, usage=USAGE, request=body
    )


def _streamed(adapter: ProviderAdapter, wire: WireFormat, reply: Reply) -> list[StreamDelta]:
    parser = SseParser()
    decoder = adapter.new_stream_decoder(TOOLS)
    deltas: list[StreamDelta] = []
    for event in wire.stream_events(reply, _context(), failure=None):
        for sse in parser.feed(event):
            deltas.extend(decoder.feed(sse))
    deltas.extend(decoder.close())
    return deltas


def _whole(adapter: ProviderAdapter, wire: WireFormat, reply: Reply) -> list[StreamDelta]:
    answer = wire.complete_answer(reply, _context(), failure=None)
    return list(adapter.parse_reply(answer.body, TOOLS))


def _text(deltas: Sequence[StreamDelta]) -> str:
    return "".join(d.text for d in deltas if isinstance(d, TextDelta))


def _calls(deltas: Sequence[StreamDelta]) -> list[tuple[str, object]]:
    names = {d.index: d.name for d in deltas if isinstance(d, ToolCallStart)}
    args: dict[int, str] = {}
    for delta in deltas:
        if isinstance(delta, ToolCallArgs):
            args[delta.index] = args.get(delta.index, "") + delta.fragment
    return [(names[i], orjson.loads(args.get(i, "") or "null")) for i in sorted(names)]


def _finish(deltas: Sequence[StreamDelta]) -> FinishReason:
    finishes = [d.reason for d in deltas if isinstance(d, Finish)]
    assert finishes, deltas
    return finishes[-1]


def _usage(deltas: Sequence[StreamDelta]) -> tuple[int, int, int]:
    reports = [d.usage for d in deltas if isinstance(d, UsageReport)]
    assert reports, "no usage reported"
    last = reports[-1]
    return last.input_tokens, last.cached_input_tokens, last.output_tokens


@pytest.mark.parametrize("decode", [_streamed, _whole], ids=["stream", "whole"])
def test_text_reply(pair: tuple[ProviderAdapter, WireFormat], decode) -> None:  # type: ignore[no-untyped-def]
    deltas = decode(*pair, Reply(items=(Text(text="The answer is forty-two."),), usage=USAGE))
    assert _text(deltas) == "The answer is forty-two."
    assert _finish(deltas) is FinishReason.STOP
    assert not any(isinstance(d, StreamFailure) for d in deltas)


@pytest.mark.parametrize("decode", [_streamed, _whole], ids=["stream", "whole"])
def test_parallel_tool_calls_and_empty_arguments(pair, decode) -> None:  # type: ignore[no-untyped-def]
    reply = Reply(
        items=(
            FunctionCall(name="exec_command", arguments='{"cmd": "ls -la"}'),
            FunctionCall(name="list_dir", arguments="{}"),
        ),
        usage=USAGE,
    )
    deltas = decode(*pair, reply)
    assert _calls(deltas) == [("exec_command", {"cmd": "ls -la"}), ("list_dir", {})]
    assert _finish(deltas) is FinishReason.TOOL_CALLS
    starts = [d for d in deltas if isinstance(d, ToolCallStart)]
    assert [s.index for s in starts] == [0, 1]
    assert len({s.id for s in starts}) == 2 and all(s.id for s in starts)


@pytest.mark.parametrize("decode", [_streamed, _whole], ids=["stream", "whole"])
def test_usage_in_our_arithmetic(pair, decode) -> None:  # type: ignore[no-untyped-def]
    deltas = decode(*pair, Reply(items=(Text(text="hi"),), usage=USAGE))
    inputs, cached, outputs = _usage(deltas)
    assert outputs == USAGE.output_tokens
    assert inputs == USAGE.input_tokens  # the whole prompt, cached part included
    if cached:  # formats that report cache reads must report them in our field
        assert cached == USAGE.cached_tokens


def test_truncation_in_a_tool_call_is_length(pair) -> None:  # type: ignore[no-untyped-def]
    reply = Reply(
        items=(FunctionCall(name="exec_command", arguments='{"cmd": "echo long"}'),),
        usage=USAGE,
        finish="length",
    )
    assert _finish(_streamed(*pair, reply)) is FinishReason.LENGTH


def test_a_stream_that_ends_early_is_a_failure(pair) -> None:  # type: ignore[no-untyped-def]
    adapter, wire = pair
    events = wire.stream_events(
        Reply(items=(Text(text="cut short here"),), usage=USAGE), _context(), failure=None
    )
    parser = SseParser()
    decoder = adapter.new_stream_decoder(TOOLS)
    deltas: list[StreamDelta] = []
    for event in events[: max(1, len(events) // 2)]:
        for sse in parser.feed(event):
            deltas.extend(decoder.feed(sse))
    deltas.extend(decoder.close())
    assert any(isinstance(d, StreamFailure) for d in deltas)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (429, ErrorKind.RATE_LIMITED),
        (500, ErrorKind.UPSTREAM_ERROR),
        (401, ErrorKind.PROVIDER_AUTH),
        (400, ErrorKind.BAD_REQUEST),
    ],
)
def test_errors_map_into_the_vocabulary(pair, status: int, kind: ErrorKind) -> None:  # type: ignore[no-untyped-def]
    adapter, wire = pair
    fault = Fault(status=status, retry_after="3" if status == 429 else None)
    headers = [("retry-after", "3")] if status == 429 else []
    error = adapter.map_error(status, headers, wire.error_body(status, fault))
    assert error.kind is kind
    if status == 429:
        assert error.retry_after == pytest.approx(3.0, abs=1.0)


def test_built_request_reads_back_as_the_conversation(pair) -> None:  # type: ignore[no-untyped-def]
    adapter, wire = pair
    request = ChatRequest(
        model="model-x",
        messages=(
            Message(role=Role.SYSTEM, content=(TextPart(text="You are terse."),)),
            Message(role=Role.USER, content=(TextPart(text="please run: ls"),)),
        ),
        tools=TOOLS,
        stream=True,
    )
    call = adapter.build_call(request, CallTarget(model="model-x", api_key="k-secret", stream=True))
    assert b"k-secret" not in call.body
    assert any("k-secret" in value for _, value in call.headers)
    conversation = wire.conversation(orjson.loads(call.body))
    assert conversation.last_user_text == "please run: ls"
    if adapter.name in TOOLLESS:
        assert not conversation.tool_names
    else:
        assert {"exec_command", "list_dir"} <= set(conversation.tool_names)


@pytest.mark.parametrize("decode", [_streamed, _whole], ids=["stream", "whole"])
def test_custom_tool_round_trip(pair, decode) -> None:  # type: ignore[no-untyped-def]
    from fakes import CustomToolCall
    from messages.chat import ToolKind

    patch = '*** Begin Patch\n*** Add File: a.txt\n+hello "quoted"\n*** End Patch\n'
    adapter, wire = pair
    custom = ToolSpec(name="apply_patch", description="patch files", kind=ToolKind.CUSTOM)
    tools = (*TOOLS, custom)
    reply = Reply(items=(CustomToolCall(name="apply_patch", input=patch),), usage=USAGE)
    if decode is _whole:
        deltas = list(
            adapter.parse_reply(wire.complete_answer(reply, _context(), failure=None).body, tools)
        )
    else:
        parser, decoder, deltas = SseParser(), adapter.new_stream_decoder(tools), []
        for event in wire.stream_events(reply, _context(), failure=None):
            for sse in parser.feed(event):
                deltas.extend(decoder.feed(sse))
        deltas.extend(decoder.close())
    starts = [d for d in deltas if isinstance(d, ToolCallStart)]
    assert [(s.name, s.kind) for s in starts] == [("apply_patch", ToolKind.CUSTOM)]
    text = "".join(d.fragment for d in deltas if isinstance(d, ToolCallArgs))
    assert text == patch


def test_a_failure_inside_the_stream_is_reported(pair) -> None:  # type: ignore[no-untyped-def]
    adapter, wire = pair
    events = wire.stream_events(
        Reply(items=(Text(text="partial answer"),), usage=USAGE),
        _context(),
        failure=("overloaded", "the provider is overloaded"),
    )
    parser, decoder, deltas = SseParser(), adapter.new_stream_decoder(TOOLS), []
    for event in events:
        for sse in parser.feed(event):
            deltas.extend(decoder.feed(sse))
    deltas.extend(decoder.close())
    failures = [d for d in deltas if isinstance(d, StreamFailure)]
    assert failures
    assert not any(isinstance(d, Finish) and d.reason is FinishReason.STOP for d in deltas)
