"""Anthropic adapter: decoding the recorded replies, and the error mapping."""

from __future__ import annotations

import json

import pytest

from messages.chat import (
    FinishReason,
    Reasoning,
    ReasoningDone,
    StreamFailure,
    ToolCallArgs,
    ToolKind,
    ToolSpec,
)
from messages.errors import ErrorKind
from messages.usage import Usage
from providers.anthropic.adapter import ADAPTER
from providers.sse import SseEvent
from tests.providers.anthropic_support import (
    decode_events,
    event,
    fixture_bytes,
    fixture_events,
    fixture_json,
    fold,
    sse_of,
)

# --- recorded streams --------------------------------------------------------------------


def test_basic_text_stream_with_ping() -> None:
    seen = fold(decode_events(fixture_events("stream-basic-text.sse")))
    assert seen.text == "Hello there!"
    assert seen.finish == [FinishReason.STOP]
    assert seen.usage == Usage(input_tokens=11, output_tokens=6)
    assert seen.failures == []


def test_text_then_tool_use_passes_fragments_through() -> None:
    deltas = decode_events(fixture_events("stream-text-then-tool-use.sse"))
    seen = fold(deltas)
    assert seen.text == "I'll check the current weather in Paris for you."
    [call] = seen.calls
    assert (call.id, call.name, call.kind) == (
        "toolu_01NRLabsLyVHZPKxbKvkfSMn",
        "get_weather",
        "function",
    )
    assert call.fragments == ['{"locati', 'on": "P', "ar", 'is"}']
    assert json.loads(call.arguments) == {"location": "Paris"}
    assert seen.finish == [FinishReason.TOOL_CALLS]
    assert seen.usage == Usage(input_tokens=377, output_tokens=65)


def test_max_tokens_mid_tool_call_is_length() -> None:
    seen = fold(decode_events(fixture_events("stream-max-tokens-truncated-tool-json.sse")))
    [call] = seen.calls
    assert call.name == "make_file"
    assert call.arguments.startswith('{"filename": "taxes.txt", "lines_of_text": [')
    assert call.arguments.endswith('\n"Filing taxes')  # cut, and no "{}" added
    assert seen.finish == [FinishReason.LENGTH]
    assert seen.usage == Usage(input_tokens=450, output_tokens=124)
    assert seen.failures == []


def test_midstream_overloaded_error() -> None:
    deltas = decode_events(fixture_events("stream-midstream-overloaded-error.sse"))
    seen = fold(deltas)
    assert seen.text == "Hello"
    assert seen.finish == []
    [failure] = seen.failures  # close() adds no second failure
    assert failure.error.kind is ErrorKind.OVERLOADED
    assert failure.error.status == 503
    assert failure.error.code == "overloaded_error"
    assert isinstance(deltas[-1], StreamFailure)


def test_refusal_is_content_filter() -> None:
    seen = fold(decode_events(fixture_events("stream-refusal.sse")))
    assert (seen.text, seen.finish) == ("", [FinishReason.CONTENT_FILTER])


def test_thinking_stream_keeps_text_and_signature() -> None:
    seen = fold(decode_events(fixture_events("stream-thinking-signature.chunks.jsonl")))
    thinking = "The previous result was 925. Now I need to divide that by 5.\n\n925 ÷ 5 = 185"
    assert seen.reasoning_text == thinking
    [done] = seen.reasoning_done
    assert done.reasoning.provider == "anthropic"
    assert done.reasoning.text == thinking
    assert done.reasoning.signature is not None
    assert done.reasoning.signature.startswith("EvQBCkYICxgCKkAxhD4N")
    assert seen.text == "925 ÷ 5 = 185"
    assert seen.finish == [FinishReason.STOP]
    assert seen.usage == Usage(input_tokens=69, output_tokens=53)


def test_tool_call_without_arguments_gives_empty_object() -> None:
    deltas = decode_events(fixture_events("stream-tool-use-no-args.chunks.jsonl"))
    seen = fold(deltas)
    [call] = seen.calls
    assert call.name == "updateIssueList"
    assert call.fragments == ["{}"]
    assert [d for d in deltas if isinstance(d, ToolCallArgs)] == [
        ToolCallArgs(index=0, fragment="{}")
    ]
    assert seen.finish == [FinishReason.TOOL_CALLS]


def test_latest_usage_field_wins() -> None:
    seen = fold(
        decode_events(fixture_events("stream-message-delta-with-input-tokens.chunks.jsonl"))
    )
    assert seen.text == "pong"
    assert seen.usage == Usage(input_tokens=61, output_tokens=2)


@pytest.mark.parametrize(
    ("name", "text", "arguments", "finish", "usage"),
    [
        (
            "stream-turn1-tool-use-flow.sse",
            "",
            {"location": "San Francisco, CA", "units": "f"},
            FinishReason.TOOL_CALLS,
            Usage(input_tokens=656, output_tokens=74),
        ),
        (
            "stream-turn2-tool-use-flow.sse",
            "The weather in San Francisco, CA is currently **68°F and Sunny**. It's a nice day!",
            None,
            FinishReason.STOP,
            Usage(input_tokens=770, output_tokens=27),
        ),
    ],
)
def test_two_turn_tool_flow_streams(
    name: str, text: str, arguments: object, finish: FinishReason, usage: Usage
) -> None:
    seen = fold(decode_events(fixture_events(name)))
    assert seen.text == text
    assert [json.loads(call.arguments) for call in seen.calls] == ([arguments] if arguments else [])
    assert (seen.finish, seen.usage, seen.failures) == ([finish], usage, [])


def test_stream_after_two_429s() -> None:
    interactions = fixture_json("cassette-429-rate-limit-then-stream.json")
    assert isinstance(interactions, list)
    body = interactions[2]["response"]["body"]
    seen = fold(decode_events(sse_of(body.encode())))
    assert (seen.text, seen.finish) == ("[12345,67890]", [FinishReason.STOP])


def test_usage_arithmetic_with_cache_read_and_write() -> None:
    start = {
        "type": "message_start",
        "message": {
            "usage": {
                "input_tokens": 100,
                "cache_read_input_tokens": 1000,
                "cache_creation_input_tokens": 50,
                "output_tokens": 1,
            }
        },
    }
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn"},
        "usage": {"output_tokens": 20},
    }
    seen = fold(decode_events([event(start), event(delta), event({"type": "message_stop"})]))
    assert seen.usage == Usage(
        input_tokens=1150, cached_input_tokens=1000, cache_write_tokens=50, output_tokens=20
    )
    assert seen.usage.total_tokens == 1170


@pytest.mark.parametrize("kept", [0, 1, 5, 8])
def test_stream_cut_before_message_stop_fails_on_close(kept: int) -> None:
    recorded = fixture_events("stream-basic-text.sse")
    assert recorded[-1].event == "message_stop"
    events = recorded[:kept]
    assert len(events) < len(recorded)
    [failure] = fold(decode_events(events)).failures
    assert failure.error.kind is ErrorKind.PROTOCOL
    assert failure.error.status == 502


def test_unreadable_event_is_protocol_failure() -> None:
    deltas = decode_events([SseEvent(event="content_block_delta", data="{not json", raw=b"")])
    [failure] = fold(deltas).failures
    assert failure.error.kind is ErrorKind.PROTOCOL


def test_unknown_events_and_server_tool_blocks_are_skipped() -> None:
    events = [
        event({"type": "message_start", "message": {"usage": {"input_tokens": 3}}}),
        event(
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {
                    "type": "server_tool_use",
                    "id": "srv",
                    "name": "web_search",
                    "input": {},
                },
            }
        ),
        event(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "input_json_delta", "partial_json": '{"q":1}'},
            }
        ),
        event({"type": "content_block_stop", "index": 0}),
        event({"type": "brand_new_event", "x": 1}),
        event(
            {
                "type": "content_block_start",
                "index": 1,
                "content_block": {"type": "tool_use", "id": "t1", "name": "f", "input": {}},
            }
        ),
        event(
            {
                "type": "content_block_delta",
                "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": '{"a":1}'},
            }
        ),
        event({"type": "content_block_stop", "index": 1}),
        event(
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn"},
                "usage": {"output_tokens": 9},
            }
        ),
        event({"type": "message_stop"}),
    ]
    seen = fold(decode_events(events))
    assert [(c.id, c.arguments) for c in seen.calls] == [("t1", '{"a":1}')]
    assert seen.finish == [FinishReason.TOOL_CALLS]  # said end_turn, but a tool was called


def test_redacted_thinking_in_a_stream() -> None:
    events = [
        event({"type": "message_start", "message": {"usage": {"input_tokens": 3}}}),
        event(
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "redacted_thinking", "data": "ENCRYPTED"},
            }
        ),
        event({"type": "content_block_stop", "index": 0}),
        event(
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn"},
                "usage": {"output_tokens": 9},
            }
        ),
        event({"type": "message_stop"}),
    ]
    [done] = fold(decode_events(events)).reasoning_done
    assert done == ReasoningDone(
        reasoning=Reasoning(provider="anthropic", signature="ENCRYPTED", redacted=True)
    )


# --- recorded non-streamed bodies ----------------------------------------------------------


def test_nonstream_text() -> None:
    seen = fold(ADAPTER.parse_reply(fixture_bytes("nonstream-text.response.json")))
    assert seen.text.startswith("Hello! I'm doing well")
    assert (seen.finish, seen.usage) == (
        [FinishReason.STOP],
        Usage(input_tokens=12, output_tokens=29),
    )


def test_nonstream_thinking_with_reasoning_tokens() -> None:
    seen = fold(ADAPTER.parse_reply(fixture_bytes("nonstream-thinking.response.json")))
    [done] = seen.reasoning_done
    assert seen.reasoning_text == done.reasoning.text
    assert done.reasoning.text.startswith("I need to find all roots")
    assert done.reasoning.signature is not None
    assert done.reasoning.signature.startswith("CAISqwQK")
    assert seen.text.startswith("## Step 1")
    assert seen.usage == Usage(input_tokens=51, output_tokens=1699, reasoning_tokens=139)


def test_nonstream_tool_use_without_arguments() -> None:
    seen = fold(ADAPTER.parse_reply(fixture_bytes("nonstream-tool-use-no-args.response.json")))
    [call] = seen.calls
    assert (call.name, call.arguments) == ("updateIssueList", "{}")
    assert seen.finish == [FinishReason.TOOL_CALLS]


def test_nonstream_refusal() -> None:
    seen = fold(ADAPTER.parse_reply(fixture_bytes("nonstream-refusal.response.json")))
    assert (seen.text, seen.calls, seen.finish) == ("", [], [FinishReason.CONTENT_FILTER])


def test_nonstream_tool_use_and_server_tool() -> None:
    seen = fold(ADAPTER.parse_reply(fixture_bytes("turn1-tool-use-flow.response.json")))
    assert [json.loads(c.arguments) for c in seen.calls] == [{"location": "SF", "units": "c"}]
    interactions = fixture_json("cassette-parallel-tool-use-sf-ny-london.json")
    assert isinstance(interactions, list)
    body = json.dumps(interactions[0]["response"]["body"]).encode()
    seen = fold(ADAPTER.parse_reply(body))
    assert [(c.id, c.name) for c in seen.calls] == [
        ("toolu_011MDRpaZRMRRjtFkJizD6nS", "get_weather")
    ]
    assert seen.usage == Usage(input_tokens=3182, output_tokens=237)


def test_nonstream_custom_and_namespaced_calls_resolve_with_tools() -> None:
    body = {
        "type": "message",
        "content": [
            {
                "type": "tool_use",
                "id": "t1",
                "name": "apply_patch",
                "input": {"input": "*** Begin Patch\n"},
            },
            {
                "type": "tool_use",
                "id": "t2",
                "name": "multi_agent_v1__spawn",
                "input": {"task": "x"},
            },
        ],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 1, "output_tokens": 2},
    }
    tools = (
        ToolSpec(name="apply_patch", kind=ToolKind.CUSTOM),
        ToolSpec(name="spawn", namespace="multi_agent_v1", parameters={"type": "object"}),
    )
    seen = fold(ADAPTER.parse_reply(json.dumps(body).encode(), tools))
    first, second = seen.calls
    assert (first.kind, first.name, first.arguments) == (
        "custom",
        "apply_patch",
        "*** Begin Patch\n",
    )
    assert (second.name, second.namespace, second.arguments) == (
        "spawn",
        "multi_agent_v1",
        '{"task":"x"}',
    )


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]"])
def test_unreadable_body_is_protocol_failure(body: bytes) -> None:
    [failure] = fold(ADAPTER.parse_reply(body)).failures
    assert failure.error.kind is ErrorKind.PROTOCOL
