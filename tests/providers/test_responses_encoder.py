"""The Responses encoder: event grammar checked against recordings and the SDK's types."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

from messages.chat import (
    Finish,
    FinishReason,
    Reasoning,
    ReasoningDelta,
    ReasoningDone,
    StreamDelta,
    TextDelta,
    ToolCallArgs,
    ToolCallStart,
    ToolKind,
    UsageReport,
)
from messages.errors import ErrorInfo, ErrorKind
from messages.usage import Usage
from providers.client_formats.reasoning_state import unwrap
from providers.client_formats.responses_encoder import UNSIGNED, ResponsesStreamEncoder
from providers.client_formats.responses_items import codex_error
from providers.sse import SseParser

RECORDINGS = Path(__file__).parent / "fixtures" / "openai-responses"
EVENT = TypeAdapter(ResponseStreamEvent)
USAGE = Usage(input_tokens=120, cached_input_tokens=100, output_tokens=20, reasoning_tokens=5)


def encode(deltas: list[StreamDelta], *, error: ErrorInfo | None = None) -> bytes:
    encoder = ResponsesStreamEncoder(response_id="resp_t1", model="test-model", created_at=1700)
    out = encoder.start() + b"".join(encoder.feed(delta) for delta in deltas)
    return out + (encoder.fail(error) if error else encoder.finish())


def events_of(data: bytes) -> list[dict[str, Any]]:
    """Parses and checks the grammar every event must have."""
    parser = SseParser()
    events = []
    for number, sse in enumerate(parser.feed(data)):
        event = orjson.loads(sse.data)
        assert sse.event == event["type"]
        assert event["sequence_number"] == number
        if not _code_outside_sdk_literal(event):
            EVENT.validate_python(event)
        events.append(event)
    assert parser.pending() == b""
    return events


def _code_outside_sdk_literal(event: dict[str, Any]) -> bool:
    """OpenAI itself sends ``insufficient_quota`` in ``response.failed`` (see the recording
    ``stream-error-then-failed``), a code the SDK's ``ResponseError.code`` Literal lacks."""
    error = event.get("response", {}).get("error") or {}
    return error.get("code") in ("insufficient_quota", "context_length_exceeded")


def types_of(events: list[dict[str, Any]]) -> list[str]:
    """Event types with runs of the same delta type collapsed to one."""
    collapsed: list[str] = []
    for event in events:
        kind = event["type"]
        if not (kind.endswith(".delta") and collapsed and collapsed[-1] == kind):
            collapsed.append(kind)
    return collapsed


def recorded_streams(name: str) -> list[list[dict[str, Any]]]:
    """A recording file may hold several responses, one after the other."""
    streams: list[list[dict[str, Any]]] = []
    for line in (RECORDINGS / name).read_text().splitlines():
        event = json.loads(line)
        if event["type"] == "response.created":
            streams.append([])
        streams[-1].append(event)
    return streams


def deltas_from(recorded: list[dict[str, Any]]) -> list[StreamDelta]:
    """What a provider decoder would have made of a recorded OpenAI stream."""
    deltas: list[StreamDelta] = []
    calls = 0
    for event in recorded:
        kind, item = event["type"], event.get("item", {})
        if kind == "response.output_item.added" and item["type"].endswith("call"):
            custom = item["type"] == "custom_tool_call"
            tool_kind = ToolKind.CUSTOM if custom else ToolKind.FUNCTION
            deltas.append(
                ToolCallStart(index=calls, id=item["call_id"], name=item["name"], kind=tool_kind)
            )
            calls += 1
        elif kind in (
            "response.function_call_arguments.delta",
            "response.custom_tool_call_input.delta",
        ):
            deltas.append(ToolCallArgs(index=calls - 1, fragment=event["delta"]))
        elif kind == "response.reasoning_summary_text.delta":
            deltas.append(ReasoningDelta(text=event["delta"]))
        elif kind == "response.output_item.done" and item["type"] == "reasoning":
            text = item["summary"][0]["text"]
            reasoning = Reasoning(provider="openai", text=text, signature=item["encrypted_content"])
            deltas.append(ReasoningDone(reasoning=reasoning))
        elif kind == "response.output_text.delta":
            deltas.append(TextDelta(text=event["delta"]))
    deltas.append(Finish(reason=FinishReason.TOOL_CALLS if calls else FinishReason.STOP))
    return deltas


@pytest.mark.parametrize(
    ("name", "number", "extra"),
    [
        ("stream-reasoning-encrypted-function-call.chunks.jsonl", 0, None),
        ("stream-reasoning-encrypted-function-call.chunks.jsonl", 1, None),
        ("stream-reasoning-encrypted-function-call.chunks.jsonl", 2, None),
        ("stream-custom-tool-call.chunks.jsonl", 0, "response.custom_tool_call_input.done"),
    ],
)
def test_replayed_recording_has_the_same_grammar(name: str, number: int, extra: str | None) -> None:
    recorded = recorded_streams(name)[number]
    ours = events_of(encode(deltas_from(recorded)))
    expected = types_of(recorded)
    if extra:  # documented in the SDK's event union; this recording predates it
        expected.insert(expected.index("response.output_item.done"), extra)
    assert types_of(ours) == expected
    aligned = [e for e in ours if e["type"] != extra]
    for theirs, mine in zip(recorded, aligned, strict=True):
        assert theirs["type"] == mine["type"]
        assert set(theirs) - {"obfuscation"} <= set(mine)
        if "item" in theirs:
            assert set(theirs["item"]) <= set(mine["item"])
        if theirs["type"] == "response.output_item.done":
            assert {k: v for k, v in theirs["item"].items() if k != "id"} == {
                k: v for k, v in mine["item"].items() if k in theirs["item"] and k != "id"
            }
        for key in ("delta", "text", "arguments", "part"):
            assert theirs.get(key) == mine.get(key)


def test_text_only() -> None:
    deltas: list[StreamDelta] = [
        TextDelta(text="Done: "),
        TextDelta(text=""),
        TextDelta(text="ok."),
    ]
    events = events_of(
        encode([*deltas, Finish(reason=FinishReason.STOP), UsageReport(usage=USAGE)])
    )
    assert types_of(events) == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e["delta"] for e in events if e["type"] == "response.output_text.delta"] == [
        "Done: ",
        "ok.",
    ]
    final = Response.model_validate(events[-1]["response"])
    assert final.output_text == "Done: ok."
    assert final.status == "completed"
    assert final.usage is not None
    assert final.usage.input_tokens_details.cached_tokens == 100
    assert final.usage.output_tokens_details.reasoning_tokens == 5
    assert final.usage.total_tokens == 140


def test_reasoning_then_text_wraps_foreign_state() -> None:
    thinking = Reasoning(provider="anthropic", text="Plan it.", signature="EqQBCkYI==")
    deltas: list[StreamDelta] = [
        ReasoningDelta(text="Plan "),
        ReasoningDelta(text="it."),
        ReasoningDone(reasoning=thinking),
        TextDelta(text="Hi"),
    ]
    events = events_of(encode(deltas))
    done = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    assert [item["type"] for item in done] == ["reasoning", "message"]
    reasoning = done[0]
    assert reasoning["summary"] == [{"type": "summary_text", "text": "Plan it."}]
    assert unwrap(reasoning["encrypted_content"]) == ("anthropic", "EqQBCkYI==")
    assert [e["output_index"] for e in events if e["type"] == "response.output_item.added"] == [
        0,
        1,
    ]


def test_reasoning_without_done_is_marked_unsigned_and_done_alone_opens_an_item() -> None:
    events = events_of(encode([ReasoningDelta(text="hmm"), TextDelta(text="x")]))
    item = next(e["item"] for e in events if e["type"] == "response.output_item.done")
    assert unwrap(item["encrypted_content"]) == (UNSIGNED, "")

    redacted = Reasoning(provider="anthropic", signature="blob", redacted=True, id="rs_given")
    events = events_of(encode([ReasoningDone(reasoning=redacted)]))
    item = next(e["item"] for e in events if e["type"] == "response.output_item.done")
    assert item["id"] == "rs_given"
    assert item["summary"] == []
    assert item["encrypted_content"].startswith("swy1r:anthropic:")


def test_two_parallel_calls_with_fragmented_arguments() -> None:
    deltas: list[StreamDelta] = [
        ToolCallStart(index=0, id="call_a", name="exec_command"),
        ToolCallArgs(index=0, fragment='{"cmd": "ec'),
        ToolCallArgs(index=0, fragment='ho \\"hi\\""}'),
        ToolCallStart(index=1, id="call_b", name="spawn", namespace="multi_agent_v1"),
        ToolCallArgs(index=1, fragment="{"),
        ToolCallArgs(index=0, fragment=""),
        ToolCallArgs(index=1, fragment="}"),
        Finish(reason=FinishReason.TOOL_CALLS),
    ]
    events = events_of(encode(deltas))
    done = [e for e in events if e["type"] == "response.function_call_arguments.done"]
    assert [json.loads(e["arguments"]) for e in done] == [{"cmd": 'echo "hi"'}, {}]
    items = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    assert [(i["call_id"], i["name"], i.get("namespace")) for i in items] == [
        ("call_a", "exec_command", None),
        ("call_b", "spawn", "multi_agent_v1"),
    ]
    assert {e["output_index"] for e in done} == {0, 1}
    assert events[-1]["type"] == "response.completed"


def test_custom_call_and_empty_function_arguments() -> None:
    deltas: list[StreamDelta] = [
        ToolCallStart(index=0, id="c1", name="apply_patch", kind=ToolKind.CUSTOM),
        ToolCallArgs(index=0, fragment="*** Begin Patch\n"),
        ToolCallArgs(index=0, fragment="*** End Patch\n"),
        ToolCallStart(index=1, id="c2", name="get_goal"),
    ]
    events = events_of(encode(deltas))
    custom_done = next(e for e in events if e["type"] == "response.custom_tool_call_input.done")
    assert custom_done["input"] == "*** Begin Patch\n*** End Patch\n"
    items = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    assert items[0]["type"] == "custom_tool_call"
    assert items[1]["arguments"] == "{}"


def test_length_mid_call_is_incomplete() -> None:
    deltas: list[StreamDelta] = [
        TextDelta(text="Writing"),
        ToolCallStart(index=0, id="call_a", name="exec_command"),
        ToolCallArgs(index=0, fragment='{"cmd": "ca'),
        Finish(reason=FinishReason.LENGTH),
        UsageReport(usage=USAGE),
    ]
    raw = encode(deltas)
    events = events_of(raw)
    assert events[-1]["type"] == "response.incomplete"
    assert b"response.completed" not in raw
    response = events[-1]["response"]
    assert response["incomplete_details"] == {"reason": "max_output_tokens"}
    statuses = [item["status"] for item in response["output"]]
    assert statuses == ["completed", "incomplete"]
    parsed = Response.model_validate(response)
    assert parsed.incomplete_details is not None
    assert parsed.incomplete_details.reason == "max_output_tokens"


def test_failure_mid_stream() -> None:
    error = ErrorInfo(
        kind=ErrorKind.RATE_LIMITED, status=429, message="Slow down.", retry_after=1.5
    )
    raw = encode([TextDelta(text="par")], error=error)
    events = events_of(raw)
    assert [e["type"] for e in events[-2:]] == ["error", "response.failed"]
    failed = events[-1]["response"]
    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "rate_limit_exceeded"
    assert "try again in 1.5s" in failed["error"]["message"]
    assert events[-2]["error"]["code"] == "rate_limit_exceeded"


def test_nothing_after_a_terminal_event() -> None:
    encoder = ResponsesStreamEncoder(response_id="resp_x", model="m", created_at=1)
    encoder.start()
    assert encoder.finish()
    assert encoder.feed(TextDelta(text="late")) == b""
    assert encoder.fail(ErrorInfo(kind=ErrorKind.INTERNAL, status=500, message="x")) == b""
    assert encoder.finish() == b""


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (ErrorKind.CONTEXT_TOO_LONG, "context_length_exceeded"),
        (ErrorKind.QUOTA_EXHAUSTED, "insufficient_quota"),
        (ErrorKind.BUDGET_EXCEEDED, "insufficient_quota"),
        (ErrorKind.OVERLOADED, "server_error"),
        (ErrorKind.RATE_LIMITED, "rate_limit_exceeded"),
    ],
)
def test_failure_codes_codex_understands(kind: ErrorKind, code: str) -> None:
    got, message = codex_error(ErrorInfo(kind=kind, status=500, message="boom"))
    assert (got, message) == (code, "boom")


def test_non_streaming_is_the_same_accumulation() -> None:
    deltas: list[StreamDelta] = [
        ReasoningDelta(text="r"),
        ReasoningDone(reasoning=Reasoning(provider="gemini", signature="ts")),
        TextDelta(text="a"),
        ToolCallStart(index=0, id="c", name="f"),
        ToolCallArgs(index=0, fragment="{}"),
        UsageReport(usage=USAGE),
    ]
    streamed = ResponsesStreamEncoder(response_id="resp_same", model="m", created_at=5)
    quiet = ResponsesStreamEncoder(
        response_id="resp_same", model="m", created_at=5, streaming=False
    )
    assert streamed.start()
    assert quiet.start() == b""
    for delta in deltas:
        streamed.feed(delta)
        assert quiet.feed(delta) == b""
    streamed.finish()
    assert quiet.finish() == b""
    assert quiet.response_json() == streamed.response_json()
    parsed = Response.model_validate_json(quiet.response_json())
    assert [item.type for item in parsed.output] == ["reasoning", "message", "function_call"]
    assert parsed.output_text == "a"


def deltas_from_body(body: dict[str, Any]) -> list[StreamDelta]:
    """What a provider decoder would have made of a recorded non-streaming body."""
    deltas: list[StreamDelta] = []
    calls = 0
    for item in body["output"]:
        if item["type"] == "reasoning":
            text = item["summary"][0]["text"]
            block = Reasoning(
                provider="openai", text=text, signature=item["encrypted_content"], id=item["id"]
            )
            deltas.append(ReasoningDone(reasoning=block))
        elif item["type"] == "message":
            deltas.extend(TextDelta(text=part["text"]) for part in item["content"])
        else:
            kind = ToolKind.CUSTOM if item["type"] == "custom_tool_call" else ToolKind.FUNCTION
            deltas.append(
                ToolCallStart(index=calls, id=item["call_id"], name=item["name"], kind=kind)
            )
            deltas.append(
                ToolCallArgs(index=calls, fragment=item.get("input") or item["arguments"])
            )
            calls += 1
    usage = body["usage"]
    tokens = Usage(
        input_tokens=usage["input_tokens"],
        cached_input_tokens=usage["input_tokens_details"]["cached_tokens"],
        output_tokens=usage["output_tokens"],
        reasoning_tokens=usage["output_tokens_details"]["reasoning_tokens"],
    )
    return [*deltas, UsageReport(usage=tokens)]


@pytest.mark.parametrize(
    "name",
    [
        "nonstream-reasoning-encrypted-function-call.response.json",
        "nonstream-custom-tool-call.response.json",
    ],
)
def test_replayed_non_streaming_body_has_the_same_output(name: str) -> None:
    recorded = json.loads((RECORDINGS / name).read_text())
    quiet = ResponsesStreamEncoder(
        response_id=recorded["id"], model=recorded["model"], created_at=1, streaming=False
    )
    for delta in deltas_from_body(recorded):
        quiet.feed(delta)
    quiet.finish()
    ours = json.loads(quiet.response_json())
    Response.model_validate(ours)
    assert ours["status"] == recorded["status"]
    for theirs, mine in zip(recorded["output"], ours["output"], strict=True):
        keep = set(theirs) - ({"id"} if theirs["type"] != "reasoning" else set())
        assert {k: theirs[k] for k in keep} == {k: mine[k] for k in keep}
    for key, value in recorded["usage"].items():
        if isinstance(value, dict):
            assert value.items() <= ours["usage"][key].items()
        else:
            assert ours["usage"][key] == value


def test_failure_matches_the_recorded_error_then_failed() -> None:
    (recorded,) = recorded_streams("stream-error-then-failed.chunks.jsonl")
    recorded_error = recorded[2]["error"]
    error = ErrorInfo(kind=ErrorKind.QUOTA_EXHAUSTED, status=429, message=recorded_error["message"])
    ours = events_of(encode([], error=error))
    assert [e["type"] for e in ours] == [e["type"] for e in recorded]
    for theirs, mine in zip(recorded, ours, strict=True):
        assert set(theirs) <= set(mine)
    assert ours[2]["error"] == recorded_error
    assert ours[3]["response"]["error"] == recorded[3]["response"]["error"]
    assert ours[3]["response"]["status"] == "failed"
