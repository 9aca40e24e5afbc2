"""Gemini adapter: decoding recorded and synthetic replies, usage, finish reasons, errors."""

from __future__ import annotations

import json

import pytest

from messages.chat import (
    ChatRequest,
    FinishReason,
    Message,
    ReasoningDelta,
    ReasoningDone,
    Role,
    StreamFailure,
    TextPart,
    ToolKind,
    ToolSpec,
)
from messages.errors import ErrorKind
from messages.usage import Usage
from providers.gemini.adapter import ADAPTER
from providers.sse import SseEvent
from tests.providers.gemini_support import (
    arguments,
    chunk,
    decode_stream,
    dones,
    failure_of,
    finish_of,
    fixture_bytes,
    kinds,
    last_usage,
    reasoning_text,
    sse,
    sse_from_jsonl,
    starts,
    text_of,
)

USAGE_29 = {"promptTokenCount": 29, "candidatesTokenCount": 15, "totalTokenCount": 848}


# ---- recorded streams -------------------------------------------------------------------

STOP, CALLS = FinishReason.STOP, FinishReason.TOOL_CALLS
STREAMS = {
    "stream-text.chunks.jsonl": ("text", STOP, (9, 208, 185)),
    "stream-thought-summaries.chunks.jsonl": ("text", STOP, (9, 285, 256)),
    "stream-function-call-thought-signature.chunks.jsonl": ("call", CALLS, (29, 60, 45)),
    "stream-function-call-gemini3.chunks.jsonl": ("call", CALLS, (29, 819, 804)),
    "stream-partial-function-call-args.chunks.jsonl": ("call", CALLS, (26, 155, 132)),
}


@pytest.mark.parametrize("name", sorted(STREAMS))
@pytest.mark.parametrize("newline", [b"\r\n", b"\n"])
def test_recorded_stream_decodes(name: str, newline: bytes) -> None:
    content, reason, (prompt, output, thoughts) = STREAMS[name]
    usage = Usage(input_tokens=prompt, output_tokens=output, reasoning_tokens=thoughts)
    raw = sse_from_jsonl(name, newline=newline)
    deltas = decode_stream(raw)
    assert finish_of(deltas).reason is reason
    assert last_usage(deltas).usage == usage
    assert not any(isinstance(d, StreamFailure) for d in deltas)
    if content == "text":
        assert "strawberry" in text_of(deltas)
        assert not starts(deltas)
    else:
        assert starts(deltas)
        assert text_of(deltas) == ""
    # byte-at-a-time feeding gives exactly the same deltas
    assert decode_stream(raw, chunk_size=7) == deltas


def test_text_stream_signature_rides_on_the_last_text_part() -> None:
    deltas = decode_stream(sse_from_jsonl("stream-text.chunks.jsonl"))
    assert kinds(deltas) == [
        "TextDelta",
        "TextDelta",
        "ReasoningDone",
        "UsageReport",
        "Finish",
    ]
    reasoning = dones(deltas)[0].reasoning
    assert reasoning.provider == "gemini"
    assert reasoning.id is None
    assert reasoning.signature is not None
    assert reasoning.signature.startswith("EqsFCqgF")


def test_function_call_signature_comes_before_its_call() -> None:
    deltas = decode_stream(sse_from_jsonl("stream-function-call-thought-signature.chunks.jsonl"))
    assert kinds(deltas)[:3] == ["ReasoningDone", "ToolCallStart", "ToolCallArgs"]
    (start,) = starts(deltas)
    assert dones(deltas)[0].reasoning.id == start.id
    assert start.name == "weather"
    assert start.index == 0
    assert start.id.startswith("call_")
    assert len(start.id) == 29
    assert arguments(deltas) == {0: '{"location":"San Francisco"}'}


def test_partial_function_call_arguments_are_assembled() -> None:
    deltas = decode_stream(sse_from_jsonl("stream-partial-function-call-args.chunks.jsonl"))
    assert [(s.index, s.name) for s in starts(deltas)] == [(0, "getWeather"), (1, "getWeather")]
    assert arguments(deltas) == {0: '{"location":"Boston"}', 1: '{"location":"San Francisco"}'}
    first, second = starts(deltas)
    assert first.id != second.id
    assert [d.reasoning.id for d in dones(deltas)] == [first.id]


def test_partial_arguments_of_every_value_kind_and_nested_paths() -> None:
    raw = sse(
        chunk({"functionCall": {"name": "f", "willContinue": True}}),
        chunk({"functionCall": {"partialArgs": [
            {"jsonPath": "$.a.b[1]", "stringValue": "x", "willContinue": True},
            {"jsonPath": "$.n", "numberValue": 2.5},
            {"jsonPath": "$.ok", "boolValue": True},
            {"jsonPath": "$.none", "nullValue": "NULL_VALUE"},
            {"jsonPath": "weird", "stringValue": "ignored"},
        ], "willContinue": True}}),
        chunk({"functionCall": {"partialArgs": [{"jsonPath": "$.a.b[1]", "stringValue": "yz"}]}}),
        chunk({"text": ""}, finish="STOP"),
    )  # fmt: skip
    deltas = decode_stream(raw)
    assert json.loads(arguments(deltas)[0]) == {
        "a": {"b": [None, "xyz"]},
        "n": 2.5,
        "ok": True,
        "none": None,
    }
    assert finish_of(deltas).reason is FinishReason.TOOL_CALLS


# ---- recorded bodies --------------------------------------------------------------------

COOKBOOK = "cookbook-generatecontent-"
BODIES = {
    "nonstream-text.response.json": (STOP, "strawberry", []),
    "nonstream-thought-summaries.response.json": (STOP, "strawberry", []),
    "nonstream-function-call.response.json": (CALLS, "", ["weather"]),
    COOKBOOK + "function-response-turn.response.json": (STOP, "Barbie", []),
    COOKBOOK + "multi-turn-second-call.response.json": (CALLS, "", ["find_movies"]),
    COOKBOOK + "single-turn-function-call.response.json": (CALLS, "", ["find_theaters"]),
}


@pytest.mark.parametrize("name", sorted(BODIES))
def test_recorded_body_decodes(name: str) -> None:
    reason, text, calls = BODIES[name]
    deltas = ADAPTER.parse_reply(fixture_bytes(name))
    assert finish_of(deltas).reason is reason
    assert text in text_of(deltas)
    assert [s.name for s in starts(deltas)] == calls
    for index in range(len(calls)):
        assert json.loads(arguments(deltas)[index])


def test_body_usage_adds_thoughts_to_output() -> None:
    deltas = ADAPTER.parse_reply(fixture_bytes("nonstream-function-call.response.json"))
    assert last_usage(deltas).usage == Usage(
        input_tokens=29, output_tokens=908, reasoning_tokens=893
    )


def test_same_reply_gives_the_same_ids() -> None:
    body = fixture_bytes("nonstream-function-call.response.json")
    assert starts(ADAPTER.parse_reply(body)) == starts(ADAPTER.parse_reply(body))
    other = json.loads(body)
    other["responseId"] = "another-response"
    second = starts(ADAPTER.parse_reply(json.dumps(other).encode()))
    assert second[0].id != starts(ADAPTER.parse_reply(body))[0].id


def test_gemini_call_id_is_used_as_is() -> None:
    raw = sse(chunk({"functionCall": {"name": "f", "args": {}, "id": "gem-7"}}, finish="STOP"))
    (start,) = starts(decode_stream(raw))
    assert start.id == "gem-7"


# ---- synthetic replies ------------------------------------------------------------------


def test_thought_parts_stream_as_reasoning_then_close_with_the_signature() -> None:
    raw = sse(
        chunk({"text": "Let me ", "thought": True}),
        chunk({"text": "think.", "thought": True}),
        chunk({"functionCall": {"name": "f", "args": {"x": 1}}, "thoughtSignature": "SIG"},
              {"functionCall": {"name": "g"}}),
        chunk({"text": ""}, finish="STOP", usage=USAGE_29),
    )  # fmt: skip
    deltas = decode_stream(raw)
    assert kinds(deltas)[:5] == [
        "ReasoningDelta",
        "ReasoningDelta",
        "ReasoningDone",
        "ReasoningDone",
        "ToolCallStart",
    ]
    assert reasoning_text(deltas) == "Let me think."
    thoughts, signed = (d.reasoning for d in dones(deltas))
    first, second = starts(deltas)
    # the thought run closes on its own; the call's signature is a block of its own
    assert (thoughts.text, thoughts.signature, thoughts.id) == ("Let me think.", None, None)
    assert (signed.text, signed.signature, signed.id) == ("", "SIG", first.id)
    assert (first.index, second.index) == (0, 1)
    assert arguments(deltas) == {0: '{"x":1}', 1: "{}"}


def test_thoughts_before_text_close_without_signature() -> None:
    raw = sse(chunk({"text": "hmm", "thought": True}), chunk({"text": "Hi"}, finish="STOP"))
    deltas = decode_stream(raw)
    assert kinds(deltas) == ["ReasoningDelta", "ReasoningDone", "TextDelta", "Finish"]
    assert dones(deltas)[0].reasoning.signature is None


def test_usage_with_thoughts_and_cache_latest_wins() -> None:
    early = {"promptTokenCount": 1000, "candidatesTokenCount": 1}
    final = {
        "promptTokenCount": 1000,
        "cachedContentTokenCount": 600,
        "candidatesTokenCount": 40,
        "thoughtsTokenCount": 100,
        "toolUsePromptTokenCount": 5,
        "totalTokenCount": 1145,
    }
    raw = sse(chunk({"text": "a"}, usage=early), chunk({"text": "b"}, finish="STOP", usage=final))
    deltas = decode_stream(raw)
    assert kinds(deltas) == ["TextDelta", "TextDelta", "UsageReport", "Finish"]
    assert last_usage(deltas).usage == Usage(
        input_tokens=1005, cached_input_tokens=600, output_tokens=140, reasoning_tokens=100
    )


@pytest.mark.parametrize(
    ("gemini", "ours"),
    [
        ("STOP", FinishReason.STOP),
        ("MAX_TOKENS", FinishReason.LENGTH),
        ("SAFETY", FinishReason.CONTENT_FILTER),
        ("RECITATION", FinishReason.CONTENT_FILTER),
        ("BLOCKLIST", FinishReason.CONTENT_FILTER),
        ("PROHIBITED_CONTENT", FinishReason.CONTENT_FILTER),
        ("SPII", FinishReason.CONTENT_FILTER),
        ("IMAGE_SAFETY", FinishReason.CONTENT_FILTER),
        ("OTHER", FinishReason.STOP),
        ("LANGUAGE", FinishReason.STOP),
    ],
)
def test_finish_reasons(gemini: str, ours: FinishReason) -> None:
    assert finish_of(decode_stream(sse(chunk({"text": "x"}, finish=gemini)))).reason is ours


def test_max_tokens_in_the_middle_of_a_streamed_call_is_length() -> None:
    raw = sse(
        chunk({"functionCall": {"name": "f", "willContinue": True}}),
        chunk({"functionCall": {"partialArgs": [{"jsonPath": "$.cmd", "stringValue": "ls -"}],
                                "willContinue": True}}),
        chunk({"text": ""}, finish="MAX_TOKENS"),
    )  # fmt: skip
    deltas = decode_stream(raw)
    assert finish_of(deltas).reason is FinishReason.LENGTH
    assert arguments(deltas) == {0: '{"cmd":"ls -"}'}


def test_max_tokens_after_a_whole_call_is_still_length() -> None:
    raw = sse(chunk({"functionCall": {"name": "f", "args": {}}}, finish="MAX_TOKENS"))
    assert finish_of(decode_stream(raw)).reason is FinishReason.LENGTH


def test_blocked_prompt_is_content_filter() -> None:
    blocked = {
        "promptFeedback": {"blockReason": "SAFETY"},
        "usageMetadata": {"promptTokenCount": 7},
    }
    deltas = decode_stream(sse(blocked))
    assert kinds(deltas) == ["UsageReport", "Finish"]
    assert finish_of(deltas).reason is FinishReason.CONTENT_FILTER
    assert ADAPTER.parse_reply(json.dumps(blocked).encode())[-1] == deltas[-1]


def test_custom_and_namespaced_calls_are_unwrapped_with_the_request() -> None:
    request = ChatRequest(
        model="m",
        messages=(Message(role=Role.USER, content=(TextPart(text="hi"),)),),
        tools=(
            ToolSpec(name="apply_patch", kind=ToolKind.CUSTOM),
            ToolSpec(name="search", namespace="docs", parameters={"type": "object"}),
        ),
    )
    patch = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch\n"
    raw = sse(
        chunk(
            {"functionCall": {"name": "apply_patch", "args": {"input": patch}}},
            {"functionCall": {"name": "docs__search", "args": {"q": "x"}}},
            finish="STOP",
        )
    )
    deltas = decode_stream(raw, request)
    custom, namespaced = starts(deltas)
    assert (custom.kind, custom.name) == (ToolKind.CUSTOM, "apply_patch")
    assert (namespaced.name, namespaced.namespace) == ("search", "docs")
    assert arguments(deltas) == {0: patch, 1: '{"q":"x"}'}
    without_request = starts(decode_stream(raw))
    assert without_request[0].kind is ToolKind.FUNCTION
    assert (without_request[1].name, without_request[1].namespace) == ("search", "docs")


def test_thought_deltas_are_reasoning_not_text() -> None:
    deltas = decode_stream(sse(chunk({"text": "secret", "thought": True}, finish="STOP")))
    assert [type(d) for d in deltas[:2]] == [ReasoningDelta, ReasoningDone]
    assert text_of(deltas) == ""


# ---- failures during a stream -----------------------------------------------------------


def test_stream_without_finish_reason_fails_on_close() -> None:
    raw = sse(chunk({"text": "half"}, usage=USAGE_29))
    deltas = decode_stream(raw)
    assert kinds(deltas) == ["TextDelta", "UsageReport", "StreamFailure"]
    assert failure_of(deltas).error.kind is ErrorKind.UPSTREAM_ERROR


def test_cut_recording_fails_on_close() -> None:
    lines = fixture_bytes("stream-text.chunks.jsonl").splitlines()[:2]
    raw = b"".join(b"data: " + line + b"\r\n\r\n" for line in lines)
    assert failure_of(decode_stream(raw)).error.kind is ErrorKind.UPSTREAM_ERROR


@pytest.mark.parametrize(
    ("error", "kind", "status"),
    [
        ({"code": 500, "message": "boom", "status": "INTERNAL"}, ErrorKind.UPSTREAM_ERROR, 502),
        ({"code": 503, "message": "busy", "status": "UNAVAILABLE"}, ErrorKind.OVERLOADED, 503),
        ({"code": 429, "message": "slow", "status": "RESOURCE_EXHAUSTED"}, ErrorKind.RATE_LIMITED,
         429),
    ],
)  # fmt: skip
def test_error_document_mid_stream(error: dict[str, object], kind: ErrorKind, status: int) -> None:
    deltas = decode_stream(sse(chunk({"text": "a"}), {"error": error}))
    assert kinds(deltas) == ["TextDelta", "StreamFailure"]
    failure = failure_of(deltas).error
    assert (failure.kind, failure.status, failure.message) == (kind, status, error["message"])


def test_malformed_function_call_is_a_protocol_failure() -> None:
    raw = sse(chunk(finish="MALFORMED_FUNCTION_CALL", usage=USAGE_29))
    deltas = decode_stream(raw)
    assert kinds(deltas) == ["UsageReport", "StreamFailure"]
    assert failure_of(deltas).error.kind is ErrorKind.PROTOCOL


def test_unreadable_event_is_a_protocol_failure() -> None:
    decoder = ADAPTER.new_stream_decoder()
    (failure,) = decoder.feed(SseEvent(event=None, data="{not json", raw=b""))
    assert isinstance(failure, StreamFailure)
    assert failure.error.kind is ErrorKind.PROTOCOL
    assert isinstance(ADAPTER.parse_reply(b"<html>")[-1], StreamFailure)
