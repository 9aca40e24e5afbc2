"""The shared Chat Completions adapter, through OpenAI's quirks: decoding and errors."""

from __future__ import annotations

import json

import pytest

from messages.chat import (
    FinishReason,
    Reasoning,
    ReasoningDone,
    StreamFailure,
    ToolCallArgs,
    ToolChoice,
    ToolChoiceMode,
    ToolSpec,
    UsageReport,
)
from messages.errors import ErrorKind
from messages.usage import Usage
from providers.openai_chat_upstream import ADAPTER
from tests.providers.anthropic_support import (
    APPLY_PATCH,
    PATCH,
    fold,
    request,
    user,
)
from tests.providers.chat_family_support import (
    body_of,
    chat_events,
    chunk_event,
    decode,
    fixture_bytes,
)

# --- recorded replies ---------------------------------------------------------------------


def test_text_stream_with_usage_chunk() -> None:
    seen = fold(decode(ADAPTER, chat_events("openai-chat", "stream-text-usage.sse")))
    assert json.loads(seen.text) == {"city": "San Francisco", "temperature": 61, "units": "f"}
    assert (seen.finish, seen.failures) == ([FinishReason.STOP], [])
    assert seen.usage == Usage(input_tokens=79, output_tokens=14)


def test_single_tool_call_fragments_pass_through() -> None:
    deltas = decode(ADAPTER, chat_events("openai-chat", "stream-single-tool-call-usage.sse"))
    seen = fold(deltas)
    [only] = seen.calls
    assert (only.id, only.name, only.kind) == (
        "call_4XzlGBLtUe9dy3GVNV4jhq7h",
        "get_weather",
        "function",
    )
    assert only.fragments == ['{"', "city", '":"', "New", " York", " City", '"}']
    assert (seen.finish, seen.usage) == (
        [FinishReason.TOOL_CALLS],
        Usage(input_tokens=44, output_tokens=16),
    )


def test_parallel_tool_calls_keep_their_indexes() -> None:
    seen = fold(decode(ADAPTER, chat_events("openai-chat", "stream-parallel-tool-calls-usage.sse")))
    assert [(c.name, json.loads(c.arguments)) for c in seen.calls] == [
        ("GetWeatherArgs", {"city": "Edinburgh", "country": "GB", "units": "c"}),
        ("get_stock_price", {"ticker": "AAPL", "exchange": "NASDAQ"}),
    ]
    assert seen.finish == [FinishReason.TOOL_CALLS]
    assert seen.usage == Usage(input_tokens=149, output_tokens=60)


def test_finish_length_stream() -> None:
    deltas = decode(ADAPTER, chat_events("openai-chat", "stream-finish-length.sse"))
    seen = fold(deltas)
    assert (seen.text, seen.finish, seen.failures) == ('{"', [FinishReason.LENGTH], [])
    assert isinstance(deltas[-1], UsageReport)  # reported once, at [DONE]


@pytest.mark.parametrize(
    ("name", "calls", "finish", "usage"),
    [
        (
            "nonstream-text.response.json",
            0,
            FinishReason.STOP,
            Usage(input_tokens=16, output_tokens=363),
        ),
        (
            "nonstream-tool-call.response.json",
            1,
            FinishReason.TOOL_CALLS,
            Usage(input_tokens=76, output_tokens=24),
        ),
        (
            "nonstream-parallel-tool-calls.response.json",
            2,
            FinishReason.TOOL_CALLS,
            Usage(input_tokens=149, output_tokens=60),
        ),
        (
            "nonstream-finish-length.response.json",
            0,
            FinishReason.LENGTH,
            Usage(input_tokens=79, output_tokens=1),
        ),
    ],
)
def test_whole_bodies(name: str, calls: int, finish: FinishReason, usage: Usage) -> None:
    seen = fold(ADAPTER.parse_reply(fixture_bytes("openai-chat", name)))
    assert len(seen.calls) == calls
    assert all(json.loads(c.arguments) for c in seen.calls)
    assert (seen.finish, seen.usage, seen.failures) == ([finish], usage, [])
    if not calls:
        assert seen.text


def test_recorded_legacy_max_tokens_error() -> None:
    error = ADAPTER.map_error(
        400, [], fixture_bytes("openai-chat", "error-400-legacy-max-tokens.json")
    )
    assert (error.kind, error.status, error.code, error.param) == (
        ErrorKind.BAD_REQUEST,
        400,
        "unsupported_parameter",
        "max_tokens",
    )


# --- decoding shapes not in the recordings ---------------------------------------------------


def _chunk(delta: dict[str, object], finish: str | None = None, **extra: object) -> object:
    return chunk_event(
        {
            "id": "chatcmpl-x",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
    )


def _call_chunk(call_id: str | None, name: str | None, arguments: str, index: int = 0) -> object:
    entry: dict[str, object] = {"index": index, "function": {"arguments": arguments}}
    if call_id is not None:
        entry.update(id=call_id, type="function")
        entry["function"] = {"name": name, "arguments": arguments}
    return _chunk({"tool_calls": [entry]})


def test_empty_arguments_become_an_empty_object() -> None:
    deltas = decode(
        ADAPTER,
        [_call_chunk("c1", "list_dir", ""), _chunk({}, "tool_calls"), chunk_event("[DONE]")],
    )
    assert [d for d in deltas if isinstance(d, ToolCallArgs)] == [
        ToolCallArgs(index=0, fragment="{}")
    ]


def test_emulated_custom_call_is_unwrapped_at_the_end() -> None:
    wrapped = json.dumps({"input": PATCH})
    events = [
        _call_chunk("c1", "apply_patch", ""),
        _call_chunk(None, None, wrapped[:10]),
        _call_chunk(None, None, wrapped[10:]),
        _chunk({}, "tool_calls"),
        chunk_event("[DONE]"),
    ]
    seen = fold(decode(ADAPTER, events, (APPLY_PATCH,)))
    [patch_call] = seen.calls
    assert (patch_call.kind, patch_call.fragments) == ("custom", [PATCH])
    assert seen.finish == [FinishReason.TOOL_CALLS]


def test_native_custom_call_passes_through() -> None:
    entry = {
        "index": 0,
        "id": "c1",
        "type": "custom",
        "custom": {"name": "apply_patch", "input": PATCH},
    }
    seen = fold(
        decode(
            ADAPTER,
            [_chunk({"tool_calls": [entry]}), _chunk({}, "tool_calls"), chunk_event("[DONE]")],
        )
    )
    assert [(c.kind, c.arguments) for c in seen.calls] == [("custom", PATCH)]


def test_length_in_the_middle_of_a_tool_call() -> None:
    events = [
        _call_chunk("c1", "exec_command", '{"cmd": "ec'),
        _call_chunk("c2", "apply_patch", '{"input": "*** Begin', index=1),
        _chunk({}, "length"),
        chunk_event("[DONE]"),
    ]
    seen = fold(decode(ADAPTER, events, (APPLY_PATCH,)))
    assert [c.arguments for c in seen.calls] == ['{"cmd": "ec', ""]  # no broken patch
    assert (seen.finish, seen.failures) == ([FinishReason.LENGTH], [])


def test_stop_with_a_tool_call_is_tool_calls() -> None:
    seen = fold(
        decode(ADAPTER, [_call_chunk("c1", "f", "{}"), _chunk({}, "stop"), chunk_event("[DONE]")])
    )
    assert seen.finish == [FinishReason.TOOL_CALLS]


def test_usage_with_cached_and_reasoning_tokens() -> None:
    usage = {
        "prompt_tokens": 1000,
        "completion_tokens": 50,
        "total_tokens": 1050,
        "prompt_tokens_details": {"cached_tokens": 600},
        "completion_tokens_details": {"reasoning_tokens": 7},
    }
    events = [
        _chunk({"content": "hi"}),
        _chunk({}, "stop"),
        chunk_event({"choices": [], "usage": usage}),
        chunk_event("[DONE]"),
    ]
    seen = fold(decode(ADAPTER, events))
    assert seen.usage == Usage(
        input_tokens=1000, cached_input_tokens=600, output_tokens=50, reasoning_tokens=7
    )


def test_reasoning_text_is_read_and_closed() -> None:
    events = [
        _chunk({"reasoning_content": "Let me "}),
        _chunk({"reasoning_content": "think."}),
        _chunk({"content": "Done."}),
        _chunk({}, "stop"),
        chunk_event("[DONE]"),
    ]
    deltas = decode(ADAPTER, events)
    seen = fold(deltas)
    assert (seen.reasoning_text, seen.text) == ("Let me think.", "Done.")
    [done] = seen.reasoning_done
    assert done == ReasoningDone(reasoning=Reasoning(provider="openai", text="Let me think."))
    assert deltas.index(done) < next(
        i for i, d in enumerate(deltas) if type(d).__name__ == "TextDelta"
    )


def test_namespaced_tools_are_flattened_and_split_back() -> None:
    spec = ToolSpec(name="read", namespace="mcp_fs", parameters={"type": "object"})
    body = body_of(
        ADAPTER,
        request(
            user("x"), tools=(spec,), tool_choice=ToolChoice(mode=ToolChoiceMode.NAMED, name="read")
        ),
    )
    assert body["tools"][0]["function"]["name"] == "mcp_fs__read"
    assert body["tool_choice"] == {"type": "function", "function": {"name": "mcp_fs__read"}}
    seen = decode(
        ADAPTER,
        [_call_chunk("c1", "mcp_fs__read", '{"path": "a"}'), chunk_event("[DONE]")],
        (spec,),
    )
    [start] = [d for d in seen if type(d).__name__ == "ToolCallStart"]
    assert (start.name, start.namespace) == ("read", "mcp_fs")  # type: ignore[attr-defined]


# --- errors ---------------------------------------------------------------------------------


def _error(message: str, code: str | None = None, kind: str = "invalid_request_error") -> bytes:
    return json.dumps(
        {"error": {"message": message, "type": kind, "param": None, "code": code}}
    ).encode()


@pytest.mark.parametrize(
    ("status", "body", "kind", "client_status"),
    [
        (400, _error("bad"), ErrorKind.BAD_REQUEST, 400),
        (400, _error("too long", "context_length_exceeded"), ErrorKind.CONTEXT_TOO_LONG, 400),
        (
            401,
            _error("Incorrect API key provided", "invalid_api_key"),
            ErrorKind.PROVIDER_AUTH,
            502,
        ),
        (
            403,
            _error("region", "unsupported_country_region_territory", "request_forbidden"),
            ErrorKind.PROVIDER_AUTH,
            502,
        ),
        (
            403,
            _error("Project `proj_x` may not use it", "model_not_found"),
            ErrorKind.FORBIDDEN,
            403,
        ),
        (404, _error("no model", "model_not_found"), ErrorKind.NOT_FOUND, 404),
        (
            429,
            _error("quota", "insufficient_quota", "insufficient_quota"),
            ErrorKind.QUOTA_EXHAUSTED,
            429,
        ),
        (500, _error("boom", None, "server_error"), ErrorKind.UPSTREAM_ERROR, 500),
        (503, _error("overloaded", None, "server_error"), ErrorKind.OVERLOADED, 503),
    ],
)
def test_errors_before_the_stream(
    status: int, body: bytes, kind: ErrorKind, client_status: int
) -> None:
    error = ADAPTER.map_error(status, [], body)
    assert (error.kind, error.status) == (kind, client_status)


def test_rate_limit_keeps_retry_after_whatever_the_header_case() -> None:
    error = ADAPTER.map_error(
        429, [("Retry-After", "3")], _error("slow down", "rate_limit_exceeded", "requests")
    )
    assert (error.kind, error.status, error.retry_after) == (ErrorKind.RATE_LIMITED, 429, 3.0)


def test_error_during_the_stream() -> None:
    events = [
        _chunk({"content": "Hel"}),
        chunk_event(
            {
                "error": {
                    "message": "overloaded",
                    "type": "server_error",
                    "code": "server_is_overloaded",
                }
            }
        ),
    ]
    deltas = decode(ADAPTER, events)
    seen = fold(deltas)
    [failure] = seen.failures  # close() adds no second one
    assert (failure.error.kind, failure.error.status) == (ErrorKind.OVERLOADED, 503)
    assert (seen.text, seen.finish) == ("Hel", [])


def test_stream_cut_before_done_is_a_failure_after_the_usage_so_far() -> None:
    events = chat_events("openai-chat", "stream-text-usage.sse")[:-1]  # no [DONE]
    deltas = decode(ADAPTER, events)
    assert isinstance(deltas[-2], UsageReport)
    assert isinstance(deltas[-1], StreamFailure)
    assert deltas[-1].error.kind is ErrorKind.PROTOCOL


def test_unreadable_body_is_a_protocol_failure() -> None:
    [failure] = ADAPTER.parse_reply(b"<html>")
    assert isinstance(failure, StreamFailure) and failure.error.kind is ErrorKind.PROTOCOL
