"""The OpenAI encoders, compared field by field with recorded real streams and bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fakes import (
    CustomToolCall,
    FakeUsage,
    Fault,
    FunctionCall,
    Reasoning,
    Reply,
    Text,
)
from fakes.openai_chat_wire import chat_answer, chat_stream
from fakes.openai_responses_wire import responses_answer, responses_stream
from fakes.openai_wire import error_body
from fakes.wire import WireContext
from tests.fakes.recorded import (
    assert_covers,
    collapsed_types,
    load_json,
    recorded_chat,
    responses_payloads,
    responses_streams,
    sse_events,
)

USAGE = FakeUsage(input_tokens=134, cached_tokens=6, output_tokens=28, reasoning_tokens=8)
ARGS = '{"a":12,"b":7,"op":"add"}'
REASONING_STREAMS = "openai-responses/stream-reasoning-encrypted-function-call.chunks.jsonl"


def context(request: dict[str, Any] | None = None) -> WireContext:
    return WireContext(
        model="gpt-test", token="ab" * 12, created=1765552662, usage=USAGE, request=request or {}
    )


def by_type(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The first event of each type."""
    first: dict[str, dict[str, Any]] = {}
    for event in events:
        first.setdefault(event["type"], event)
    return first


def assert_same_events(ours: list[dict[str, Any]], recorded: list[dict[str, Any]]) -> None:
    assert collapsed_types(ours) == collapsed_types(recorded)
    assert [event["sequence_number"] for event in ours] == list(range(len(ours)))
    mine = by_type(ours)
    for kind, event in by_type(recorded).items():
        assert_covers(mine[kind], event, kind)


# --- Responses ---------------------------------------------------------------------------


def test_responses_text_stream_matches_the_recording() -> None:
    text = "The final result is **570**."
    ours = responses_payloads(responses_stream(Reply(items=(Text(text=text),)), context()))
    assert_same_events(ours, responses_streams(REASONING_STREAMS)[-1])
    deltas = [e["delta"] for e in ours if e["type"] == "response.output_text.delta"]
    assert len(deltas) > 1
    assert "".join(deltas) == text
    completed = ours[-1]["response"]
    assert completed["status"] == "completed"
    assert completed["model"] == "gpt-test"
    assert completed["id"].startswith("resp_")
    assert completed["output"][0]["id"].startswith("msg_")
    assert completed["usage"]["input_tokens_details"]["cached_tokens"] == 6
    assert completed["usage"]["output_tokens_details"]["reasoning_tokens"] == 8
    assert completed["usage"]["total_tokens"] == 162


def test_responses_reasoning_then_function_call_matches_the_recording() -> None:
    items = (
        Reasoning(summary="**Calculating** step by step", encrypted_content="gAAAA-opaque"),
        FunctionCall(name="calculator", arguments=ARGS),
    )
    ours = responses_payloads(responses_stream(Reply(items=items), context()))
    assert_same_events(ours, responses_streams(REASONING_STREAMS)[0])
    fragments = [e["delta"] for e in ours if e["type"] == "response.function_call_arguments.delta"]
    assert len(fragments) >= 2
    assert "".join(fragments) == ARGS
    reasoning, call = ours[-1]["response"]["output"]
    assert reasoning["id"].startswith("rs_")
    assert reasoning["encrypted_content"] == "gAAAA-opaque"
    assert reasoning["summary"] == [{"type": "summary_text", "text": items[0].summary}]
    assert call["id"].startswith("fc_")
    assert call["call_id"].startswith("call_")
    assert (call["name"], call["arguments"], call["status"]) == ("calculator", ARGS, "completed")


def test_responses_custom_tool_call_stream() -> None:
    patch = "*** Begin Patch\n*** Add File: a.txt\n+hello\n*** End Patch"
    item = CustomToolCall(name="apply_patch", input=patch, call_id="call_custom_1")
    ours = responses_payloads(responses_stream(Reply(items=(item,)), context()))
    recorded = responses_streams("openai-responses/stream-custom-tool-call.chunks.jsonl")[0]
    # the live API also sends custom_tool_call_input.done (the recording predates it)
    expected = collapsed_types(recorded)
    expected.insert(
        expected.index("response.output_item.done"), "response.custom_tool_call_input.done"
    )
    assert collapsed_types(ours) == expected
    mine = by_type(ours)
    for kind in ("response.output_item.added", "response.custom_tool_call_input.delta"):
        assert_covers(mine[kind], by_type(recorded)[kind], kind)
    done = mine["response.output_item.done"]["item"]
    assert_covers(done, by_type(recorded)["response.output_item.done"]["item"])
    assert done["id"].startswith("ctc_")
    assert (done["call_id"], done["input"]) == ("call_custom_1", patch)
    fragments = [e["delta"] for e in ours if e["type"] == "response.custom_tool_call_input.delta"]
    assert len(fragments) >= 2
    assert "".join(fragments) == patch


def test_responses_failed_event_matches_the_recording() -> None:
    recorded = responses_streams("openai-responses/stream-error-then-failed.chunks.jsonl")[0]
    message = recorded[2]["error"]["message"]
    ours = responses_payloads(
        responses_stream(Reply(items=()), context(), failure=("insufficient_quota", message))
    )
    assert_same_events(ours, recorded)
    error = ours[2]
    assert error["error"] == recorded[2]["error"]  # the nested shape seen live
    assert (error["code"], error["message"]) == ("insufficient_quota", message)  # documented
    failed = ours[3]["response"]
    assert failed["status"] == "failed"
    assert failed["error"] == recorded[3]["response"]["error"]


def test_responses_length_finish_is_incomplete_and_cuts_the_last_item() -> None:
    reply = Reply(items=(Text(text="one two three four five six"),), finish="length")
    ours = responses_payloads(responses_stream(reply, context()))
    last = ours[-1]
    assert last["type"] == "response.incomplete"
    assert last["response"]["status"] == "incomplete"
    assert last["response"]["incomplete_details"] == {"reason": "max_output_tokens"}
    [message] = last["response"]["output"]
    assert message["status"] == "incomplete"
    assert message["content"][0]["text"] == "one two three "  # the first 14 of 27 characters


def test_responses_json_matches_recorded_bodies() -> None:
    text_body = json.loads(responses_answer(Reply(items=(Text(text="hi"),)), context()).body)
    assert_covers(text_body, load_json("openai-responses/nonstream-text.response.json"))
    assert text_body["output"][0]["content"][0]["text"] == "hi"
    call = CustomToolCall(name="write_sql", input="SELECT 1")
    custom_body = json.loads(responses_answer(Reply(items=(call,)), context()).body)
    recorded = load_json("openai-responses/nonstream-custom-tool-call.response.json")
    del recorded["input"]  # an echo of the request that the live API does not send
    assert_covers(custom_body, recorded)
    assert custom_body["output"][0]["type"] == "custom_tool_call"


def test_response_object_echoes_the_request() -> None:
    request = {"tools": [{"type": "function", "name": "f"}], "store": False, "instructions": "x"}
    body = json.loads(responses_answer(Reply(items=()), context(request)).body)
    assert (body["tools"], body["store"], body["instructions"]) == (request["tools"], False, "x")


# --- Chat Completions --------------------------------------------------------------------


def chat_payloads(events: list[bytes]) -> list[str]:
    return [data for raw in events for _, data in sse_events(raw)]


def test_chat_text_stream_matches_the_recording() -> None:
    reply = Reply(items=(Text(text='{"city":"San Francisco"}'),))
    ours = chat_payloads(chat_stream(reply, context({"stream_options": {"include_usage": True}})))
    recorded = recorded_chat("openai-chat/stream-text-usage.sse")
    assert ours[-1] == recorded[-1] == "[DONE]"
    chunks = [json.loads(data) for data in ours[:-1]]
    expected = [json.loads(data) for data in recorded[:-1]]
    assert_covers(chunks[0], expected[0])
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    assert_covers(chunks[1], expected[1])
    assert chunks[-2]["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "stop",
    }
    assert_covers(chunks[-1], expected[-1])
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens_details"]["reasoning_tokens"] == 8
    assert all(chunk["model"] == "gpt-test" for chunk in chunks)
    content = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert content == '{"city":"San Francisco"}'


def test_chat_parallel_tool_calls_match_the_recording() -> None:
    calls = (
        FunctionCall(name="GetWeatherArgs", arguments='{"city": "Edinburgh", "units": "c"}'),
        FunctionCall(name="get_stock_price", arguments='{"ticker": "AAPL"}', call_id="call_s1"),
    )
    raw = chat_stream(Reply(items=calls), context({"stream_options": {"include_usage": True}}))
    chunks = [json.loads(data) for data in chat_payloads(raw)[:-1]]
    recorded = [
        json.loads(d)
        for d in recorded_chat("openai-chat/stream-parallel-tool-calls-usage.sse")[:-1]
    ]
    assert chunks[0]["choices"][0]["delta"] == {
        "role": "assistant",
        "content": None,
        "refusal": None,
    }
    entries = [c["choices"][0]["delta"]["tool_calls"][0] for c in chunks[1:-2]]
    recorded_entries = [c["choices"][0]["delta"]["tool_calls"][0] for c in recorded[1:-2]]
    heads = [entry for entry in entries if "id" in entry]
    assert [set(head) for head in heads] == [set(recorded_entries[0])] * 2
    assert [h["function"] for h in heads] == [{"name": c.name, "arguments": ""} for c in calls]
    assert heads[1]["id"] == "call_s1"
    fragments = [entry for entry in entries if "id" not in entry]
    assert all(set(f) == set(recorded_entries[1]) for f in fragments)
    for slot, call in enumerate(calls):
        pieces = [f["function"]["arguments"] for f in fragments if f["index"] == slot]
        assert len(pieces) >= 2
        assert "".join(pieces) == call.arguments
    assert chunks[-2]["choices"][0]["finish_reason"] == recorded[-2]["choices"][0]["finish_reason"]


def test_chat_stream_sends_usage_only_when_asked() -> None:
    ours = chat_payloads(chat_stream(Reply(items=(Text(text="hi there"),)), context()))
    assert ours[-1] == "[DONE]"
    assert all("usage" not in json.loads(data) for data in ours[:-1])
    assert json.loads(ours[-2])["choices"][0]["finish_reason"] == "stop"


def test_chat_length_finish_matches_the_recording() -> None:
    ours = chat_payloads(
        chat_stream(Reply(items=(Text(text="abcdef"),), finish="length"), context())
    )
    recorded = recorded_chat("openai-chat/stream-finish-length.sse")
    finish = json.loads(ours[-2])
    assert_covers(finish, json.loads(recorded[-3]))
    assert finish["choices"][0]["finish_reason"] == "length"
    content = "".join(json.loads(d)["choices"][0]["delta"].get("content") or "" for d in ours[:-2])
    assert content == "abc"


def test_chat_failed_event_is_an_error_line_without_done() -> None:
    ours = chat_payloads(
        chat_stream(Reply(items=(Text(text="a b"),)), context(), failure=("server_error", "boom"))
    )
    assert "[DONE]" not in ours
    assert json.loads(ours[-1]) == {
        "error": {"message": "boom", "type": "server_error", "param": None, "code": "server_error"}
    }


@pytest.mark.parametrize(
    ("items", "recording", "finish"),
    [
        ((Text(text="Galaxy Day"),), "nonstream-text.response.json", "stop"),
        (
            (FunctionCall(name="GetWeatherArgs", arguments='{"city":"Oslo"}'),),
            "nonstream-tool-call.response.json",
            "tool_calls",
        ),
    ],
)
def test_chat_json_matches_recorded_bodies(
    items: tuple[Any, ...], recording: str, finish: str
) -> None:
    body = json.loads(chat_answer(Reply(items=items), context()).body)
    assert_covers(body, load_json(f"openai-chat/{recording}"))
    assert body["choices"][0]["finish_reason"] == finish
    assert body["usage"]["prompt_tokens"] == 134


def test_chat_json_custom_tool_call_and_length() -> None:
    body = json.loads(
        chat_answer(Reply(items=(CustomToolCall(name="apply_patch", input="x"),)), context()).body
    )
    assert body["choices"][0]["message"]["tool_calls"][0]["custom"] == {
        "name": "apply_patch",
        "input": "x",
    }
    cut = json.loads(chat_answer(Reply(items=(Text(text='{"'),), finish="length"), context()).body)
    assert_covers(cut, load_json("openai-chat/nonstream-finish-length.response.json"))
    assert (cut["choices"][0]["message"]["content"], cut["choices"][0]["finish_reason"]) == (
        "{",
        "length",
    )


# --- error bodies ------------------------------------------------------------------------


def test_error_body_has_the_recorded_shape_and_defaults() -> None:
    recorded = load_json("openai-responses/error-429-insufficient-quota.json")
    quota = Fault(error_type="insufficient_quota", error_code="insufficient_quota",
                  error_message=recorded["error"]["message"])  # fmt: skip
    assert json.loads(error_body(429, quota)) == recorded
    default = json.loads(error_body(429, Fault()))["error"]
    assert (default["type"], default["code"]) == ("requests", "rate_limit_exceeded")
    assert json.loads(error_body(502, Fault()))["error"]["type"] == "server_error"
