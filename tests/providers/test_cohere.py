"""Cohere v2 adapter: decoding the recorded replies, and the error mapping."""

from __future__ import annotations

import json

import pytest
import yaml

from messages.chat import (
    FinishReason,
    ReasoningDelta,
    StreamFailure,
    TextDelta,
    ToolCallArgs,
    ToolKind,
    ToolSpec,
    UsageReport,
)
from messages.errors import ErrorKind
from messages.usage import Usage
from providers.cohere.adapter import ADAPTER
from tests.providers.anthropic_support import fold
from tests.providers.chat_family_support import cohere_events, decode, fixture_bytes, sse_of

APPLY_PATCH = ToolSpec(name="apply_patch", kind=ToolKind.CUSTOM)
PATCH = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch\n"

# --- recorded streams ---------------------------------------------------------------------


def test_text_stream() -> None:
    seen = fold(decode(ADAPTER, cohere_events("stream-text.chunks.jsonl")))
    assert (seen.text, seen.finish, seen.failures) == (
        "The capital of France is Paris.",
        [FinishReason.STOP],
        [],
    )
    # billed units, cache hits capped at the billed input (they count the raw prompt)
    assert seen.usage == Usage(input_tokens=12, cached_input_tokens=12, output_tokens=7)


def test_docs_stream_without_cache_field() -> None:
    seen = fold(decode(ADAPTER, cohere_events("docs-chat-stream.events.yaml")))
    assert seen.text.startswith("LLMs stand for Large Language Models,")
    assert seen.usage == Usage(input_tokens=5, output_tokens=26)


def test_thinking_stream_is_reasoning() -> None:
    deltas = decode(ADAPTER, cohere_events("stream-thinking.chunks.jsonl"))
    seen = fold(deltas)
    assert seen.reasoning_text.startswith("The user is asking for the sum of 2 and 2.")
    [done] = seen.reasoning_done
    assert (done.reasoning.provider, done.reasoning.signature) == ("cohere", None)
    assert done.reasoning.text == seen.reasoning_text
    assert seen.text == "The answer to 2 + 2 is 4."
    assert deltas.index(done) < next(i for i, d in enumerate(deltas) if isinstance(d, TextDelta))
    assert seen.usage == Usage(input_tokens=8, cached_input_tokens=8, output_tokens=50)


def test_tool_plan_and_parallel_calls() -> None:
    deltas = decode(ADAPTER, cohere_events("stream-tool-call.chunks.jsonl"))
    seen = fold(deltas)
    assert seen.text == ""  # the plan is reasoning, not answer text
    plan = "I will use the weather tool to find the weather in San Francisco and the"
    assert seen.reasoning_text.startswith(plan)
    [done] = seen.reasoning_done
    assert (done.reasoning.provider, done.reasoning.signature) == ("cohere", "tool_plan")
    assert [(c.id, c.name) for c in seen.calls] == [
        ("weather_e8p4pn45zt0t", "weather"),
        ("cityAttractions_pyxssbwnq9fq", "cityAttractions"),
    ]
    assert seen.calls[0].fragments == ['{"', "location", '":', ' "', "San", " Francisco", '"}']
    assert json.loads(seen.calls[1].arguments) == {"city": "San Francisco"}
    assert (seen.finish, seen.failures) == ([FinishReason.TOOL_CALLS], [])
    assert seen.usage == Usage(input_tokens=119, cached_input_tokens=119, output_tokens=44)


def test_tool_call_without_arguments_gives_empty_object() -> None:
    deltas = decode(ADAPTER, cohere_events("stream-empty-tool-call.chunks.jsonl"))
    assert [d for d in deltas if isinstance(d, ToolCallArgs)] == [
        ToolCallArgs(index=0, fragment="{}")
    ]
    assert fold(deltas).finish == [FinishReason.TOOL_CALLS]


def test_docs_stream_with_two_tools() -> None:
    seen = fold(decode(ADAPTER, cohere_events("docs-chat-stream-tools.events.yaml")))
    assert [json.loads(c.arguments) for c in seen.calls] == [
        {"day": "2023-09-29"},
        {"category": "Electronics"},
    ]
    assert seen.usage == Usage(input_tokens=126, output_tokens=84)


# --- recorded bodies ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "finish", "usage"),
    [
        (
            "nonstream-text.response.json",
            "The capital of France is Paris.",
            FinishReason.STOP,
            Usage(input_tokens=12, cached_input_tokens=12, output_tokens=7),
        ),
        (
            "nonstream-max-tokens.response.json",
            "**The History of",
            FinishReason.LENGTH,
            Usage(input_tokens=11, cached_input_tokens=11, output_tokens=4),
        ),
    ],
)
def test_text_bodies(name: str, text: str, finish: FinishReason, usage: Usage) -> None:
    seen = fold(ADAPTER.parse_reply(fixture_bytes("cohere", name)))
    assert (seen.text, seen.finish, seen.usage) == (text, [finish], usage)


def test_tool_call_body() -> None:
    seen = fold(ADAPTER.parse_reply(fixture_bytes("cohere", "nonstream-tool-call.response.json")))
    assert seen.reasoning_text.startswith("I will use the weather tool")
    assert [d.reasoning.signature for d in seen.reasoning_done] == ["tool_plan"]
    assert [(c.name, c.arguments) for c in seen.calls] == [
        ("weather", '{"location":"San Francisco"}'),
        ("cityAttractions", '{"city":"San Francisco"}'),
    ]
    assert seen.finish == [FinishReason.TOOL_CALLS]


def test_docs_body_with_thinking_and_calls() -> None:
    body = yaml.safe_load(fixture_bytes("cohere", "docs-chat-tools.response.yaml"))["body"]
    seen = fold(ADAPTER.parse_reply(json.dumps(body).encode()))
    assert seen.reasoning_text.startswith("I will first find the sales summary")
    assert [d.reasoning.signature for d in seen.reasoning_done] == [None]
    assert len(seen.calls) == 2
    assert seen.usage == Usage(input_tokens=127, output_tokens=69)


# --- shapes not in the recordings -------------------------------------------------------------


def _events(*documents: dict[str, object]) -> bytes:
    return b"".join(f"event: {d['type']}\ndata: {json.dumps(d)}\n\n".encode() for d in documents)


def _call_start(index: int, name: str) -> dict[str, object]:
    function = {"name": name, "arguments": ""}
    call = {"id": f"{name}_{index}", "type": "function", "function": function}
    return {"type": "tool-call-start", "index": index, "delta": {"message": {"tool_calls": call}}}


def _call_delta(index: int, fragment: str) -> dict[str, object]:
    call = {"function": {"arguments": fragment}}
    return {"type": "tool-call-delta", "index": index, "delta": {"message": {"tool_calls": call}}}


def _end(reason: str, **delta: object) -> dict[str, object]:
    return {"type": "message-end", "delta": {"finish_reason": reason, **delta}}


def test_custom_tool_is_unwrapped_at_its_end() -> None:
    wrapped = json.dumps({"input": PATCH})
    raw = _events(
        _call_start(0, "apply_patch"),
        _call_delta(0, wrapped[:7]),
        _call_delta(0, wrapped[7:]),
        {"type": "tool-call-end", "index": 0},
        _end("TOOL_CALL"),
    )
    seen = fold(decode(ADAPTER, sse_of(raw), (APPLY_PATCH,)))
    [patch_call] = seen.calls
    assert (patch_call.kind, patch_call.fragments) == ("custom", [PATCH])


def test_max_tokens_in_the_middle_of_tool_calls() -> None:
    raw = _events(
        _call_start(0, "exec_command"),
        _call_delta(0, '{"cmd": "ec'),
        _call_start(1, "apply_patch"),
        _call_delta(1, '{"input": "*** Be'),
        _end("MAX_TOKENS"),
    )
    seen = fold(decode(ADAPTER, sse_of(raw), (APPLY_PATCH,)))
    assert [c.arguments for c in seen.calls] == ['{"cmd": "ec', ""]  # no broken patch
    assert (seen.finish, seen.failures) == ([FinishReason.LENGTH], [])


@pytest.mark.parametrize(
    ("reason", "kind", "status"),
    [("ERROR", ErrorKind.UPSTREAM_ERROR, 502), ("TIMEOUT", ErrorKind.TIMEOUT, 504)],
)
def test_failed_generation_mid_stream(reason: str, kind: ErrorKind, status: int) -> None:
    text = {"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "Hi"}}}}
    raw = _events(text, _end(reason, error="internal failure"))
    deltas = decode(ADAPTER, sse_of(raw))
    seen = fold(deltas)
    [failure] = seen.failures
    assert (failure.error.kind, failure.error.status) == (kind, status)
    assert seen.finish == []
    if reason == "ERROR":
        assert failure.error.message == "internal failure"


def test_stream_cut_before_message_end_is_a_failure() -> None:
    events = cohere_events("stream-text.chunks.jsonl")[:-1]
    deltas = decode(ADAPTER, events)
    assert isinstance(deltas[-1], StreamFailure)
    assert deltas[-1].error.kind is ErrorKind.PROTOCOL
    complete = decode(ADAPTER, cohere_events("stream-text.chunks.jsonl"), close=True)
    assert isinstance(complete[-1], UsageReport)  # the whole stream: no failure at close


def test_done_line_and_unknown_events_are_ignored() -> None:
    raw = (
        _events(
            {"type": "debug", "prompt": "<BOS>"},
            {"type": "tool-plan-delta", "delta": {"message": {"tool_plan": "Plan."}}},
            _end("COMPLETE"),
        )
        + b"data: [DONE]\n\n"
    )
    deltas = decode(ADAPTER, sse_of(raw))
    assert [type(d).__name__ for d in deltas] == ["ReasoningDelta", "ReasoningDone", "Finish"]
    assert deltas[0] == ReasoningDelta(text="Plan.")


# --- errors ---------------------------------------------------------------------------------


def _error(message: str) -> bytes:
    return json.dumps({"id": "e1", "message": message}).encode()


@pytest.mark.parametrize(
    ("status", "kind", "client_status"),
    [
        (400, ErrorKind.BAD_REQUEST, 400),
        (401, ErrorKind.PROVIDER_AUTH, 502),
        (402, ErrorKind.QUOTA_EXHAUSTED, 429),
        (404, ErrorKind.NOT_FOUND, 404),
        (422, ErrorKind.BAD_REQUEST, 400),
        (429, ErrorKind.RATE_LIMITED, 429),
        (499, ErrorKind.UPSTREAM_ERROR, 502),
        (500, ErrorKind.UPSTREAM_ERROR, 502),
        (503, ErrorKind.OVERLOADED, 503),
        (504, ErrorKind.TIMEOUT, 504),
    ],
)
def test_error_statuses(status: int, kind: ErrorKind, client_status: int) -> None:
    error = ADAPTER.map_error(status, [], _error("something"))
    assert (error.kind, error.status, error.message) == (kind, client_status, "something")


def test_rate_limit_keeps_retry_after() -> None:
    error = ADAPTER.map_error(429, [("Retry-After", "7")], _error("Trial key limit"))
    assert (error.kind, error.retry_after) == (ErrorKind.RATE_LIMITED, 7.0)


def test_context_too_long_from_its_message() -> None:
    message = "too many tokens: total number of tokens in the prompt cannot exceed 128000"
    assert ADAPTER.map_error(400, [], _error(message)).kind is ErrorKind.CONTEXT_TOO_LONG


def test_unreadable_error_body_keeps_a_snippet() -> None:
    error = ADAPTER.map_error(502, [], b"<html>bad gateway</html>")
    assert (error.kind, error.status) == (ErrorKind.UPSTREAM_ERROR, 502)
    assert "bad gateway" in error.message
