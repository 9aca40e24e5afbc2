"""The Chat Completions encoder: chunks checked against recorded OpenAI streams."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

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
from providers.client_formats.chat_encoder import ChatStreamEncoder

RECORDINGS = Path(__file__).parent / "fixtures" / "openai-chat"
USAGE = Usage(input_tokens=149, cached_input_tokens=20, output_tokens=60, reasoning_tokens=7)


def encoder(**options: Any) -> ChatStreamEncoder:
    return ChatStreamEncoder(
        response_id="chatcmpl-t1", model="test-model", created_at=1700, **options
    )


def encode(
    deltas: list[StreamDelta], *, include_usage: bool = True, error: ErrorInfo | None = None
) -> bytes:
    chat = encoder(include_usage=include_usage)
    out = chat.start() + b"".join(chat.feed(delta) for delta in deltas)
    return out + (chat.fail(error) if error else chat.finish())


def chunks_of(data: bytes, *, validate: bool = True) -> list[dict[str, Any]]:
    blocks = data.split(b"\n\n")
    assert blocks[-1] == b""
    assert blocks[-2] == b"data: [DONE]"
    chunks = []
    for block in blocks[:-2]:
        assert block.startswith(b"data: ")
        chunk = orjson.loads(block[6:])
        if validate and "error" not in chunk:
            ChatCompletionChunk.model_validate(chunk)
        chunks.append(chunk)
    return chunks


def recorded_chunks(name: str) -> list[dict[str, Any]]:
    return chunks_of((RECORDINGS / name).read_bytes(), validate=False)


def deltas_from(chunks: list[dict[str, Any]]) -> list[StreamDelta]:
    deltas: list[StreamDelta] = []
    reasons = {reason.value: reason for reason in FinishReason}
    for chunk in chunks:
        if chunk.get("usage"):
            usage = chunk["usage"]
            deltas.append(
                UsageReport(
                    usage=Usage(
                        input_tokens=usage["prompt_tokens"],
                        output_tokens=usage["completion_tokens"],
                    )
                )
            )
        for choice in chunk["choices"]:
            delta = choice["delta"]
            if delta.get("content"):
                deltas.append(TextDelta(text=delta["content"]))
            for call in delta.get("tool_calls") or []:
                if "id" in call:
                    deltas.append(
                        ToolCallStart(
                            index=call["index"], id=call["id"], name=call["function"]["name"]
                        )
                    )
                if call["function"].get("arguments"):
                    deltas.append(
                        ToolCallArgs(index=call["index"], fragment=call["function"]["arguments"])
                    )
            if choice["finish_reason"]:
                deltas.append(Finish(reason=reasons[choice["finish_reason"]]))
    return deltas


def shape(chunk: dict[str, Any]) -> tuple[object, ...]:
    """What a chunk says, ignoring how the role/empty first chunk is packed."""
    if not chunk["choices"]:
        return ("usage",)
    choice = chunk["choices"][0]
    delta = choice["delta"]
    keys = tuple(
        sorted(k for k, v in delta.items() if v not in (None, "") and k not in ("role", "refusal"))
    )
    calls = tuple(
        (tuple(sorted(call)), tuple(sorted(call.get("function", {}))))
        for call in delta.get("tool_calls") or []
    )
    return (keys, calls, choice["finish_reason"])


def meaningful(chunks: list[dict[str, Any]]) -> list[tuple[object, ...]]:
    return [s for s in map(shape, chunks) if s != ((), (), None)]


@pytest.mark.parametrize(
    "name",
    [
        "stream-text-usage.sse",
        "stream-single-tool-call-usage.sse",
        "stream-parallel-tool-calls-usage.sse",
        "stream-finish-length.sse",
    ],
)
def test_replayed_recording_has_the_same_chunks(name: str) -> None:
    recorded = recorded_chunks(name)
    ours = chunks_of(encode(deltas_from(recorded)))
    assert ours[0]["choices"][0]["delta"]["role"] == "assistant"
    assert meaningful(ours) == meaningful(recorded)
    assert set(recorded[-1]["usage"]) <= set(ours[-1]["usage"])
    assert ours[-2]["choices"] == recorded[-2]["choices"]  # the finish chunk, exactly
    assert ours[-1]["choices"] == recorded[-1]["choices"] == []


def test_parallel_calls_and_usage_chunk() -> None:
    deltas: list[StreamDelta] = [
        ToolCallStart(index=0, id="call_a", name="get_weather"),
        ToolCallArgs(index=0, fragment='{"ci'),
        ToolCallArgs(index=0, fragment='ty": "Paris"}'),
        ToolCallStart(index=1, id="call_b", name="get_time"),
        ToolCallArgs(index=1, fragment="{}"),
        Finish(reason=FinishReason.STOP),  # some providers say stop; the content says tool_calls
        UsageReport(usage=USAGE),
    ]
    chunks = chunks_of(encode(deltas))
    first_call = chunks[1]["choices"][0]["delta"]["tool_calls"][0]
    assert first_call == {
        "index": 0,
        "id": "call_a",
        "type": "function",
        "function": {"name": "get_weather", "arguments": ""},
    }
    assert chunks[2]["choices"][0]["delta"] == {
        "tool_calls": [{"index": 0, "function": {"arguments": '{"ci'}}]
    }
    assert chunks[-2]["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "tool_calls",
    }
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {
        "prompt_tokens": 149,
        "completion_tokens": 60,
        "total_tokens": 209,
        "prompt_tokens_details": {"cached_tokens": 20},
        "completion_tokens_details": {"reasoning_tokens": 7},
    }


def test_usage_chunk_only_when_asked() -> None:
    chunks = chunks_of(
        encode([TextDelta(text="hi"), UsageReport(usage=USAGE)], include_usage=False)
    )
    assert all(chunk["choices"] for chunk in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_custom_call_and_reasoning() -> None:
    deltas: list[StreamDelta] = [
        ReasoningDelta(text="thinking"),
        ReasoningDone(reasoning=Reasoning(provider="anthropic", text="thinking", signature="s")),
        ToolCallStart(index=0, id="c1", name="apply_patch", kind=ToolKind.CUSTOM),
        ToolCallArgs(index=0, fragment="*** Begin Patch"),
    ]
    chat = encoder()
    raw = chat.start() + b"".join(chat.feed(d) for d in deltas) + chat.finish()
    chunks = chunks_of(raw, validate=False)
    assert chunks[1]["choices"][0]["delta"] == {"reasoning_content": "thinking"}
    assert chunks[2]["choices"][0]["delta"]["tool_calls"] == [
        {"index": 0, "id": "c1", "type": "custom", "custom": {"name": "apply_patch", "input": ""}}
    ]
    assert chunks[3]["choices"][0]["delta"]["tool_calls"] == [
        {"index": 0, "custom": {"input": "*** Begin Patch"}}
    ]
    assert chat.dropped == ("reasoning_state:anthropic",)
    body = ChatCompletion.model_validate_json(chat.response_json())
    (call,) = body.choices[0].message.tool_calls or []
    assert call.type == "custom"
    assert call.custom.input == "*** Begin Patch"


def test_length_mid_call() -> None:
    deltas: list[StreamDelta] = [
        ToolCallStart(index=0, id="c", name="f"),
        ToolCallArgs(index=0, fragment='{"a": '),
        Finish(reason=FinishReason.LENGTH),
    ]
    chunks = chunks_of(encode(deltas, include_usage=False))
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"


def test_failure_mid_stream() -> None:
    error = ErrorInfo(kind=ErrorKind.OVERLOADED, status=503, message="Overloaded", retry_after=2.0)
    raw = encode([TextDelta(text="par")], error=error)
    chunks = chunks_of(raw)
    assert chunks[-1] == {
        "error": {
            "message": "Overloaded",
            "type": "server_error",
            "param": None,
            "code": "server_is_overloaded",
        }
    }
    assert raw.count(b"[DONE]") == 1


def test_non_streaming_body() -> None:
    quiet = encoder(streaming=False)
    deltas: list[StreamDelta] = [
        TextDelta(text="Sure: "),
        ReasoningDelta(text="hmm"),
        ToolCallStart(index=0, id="call_a", name="f", namespace="ns"),
        ToolCallStart(index=1, id="call_b", name="g"),
        ToolCallArgs(index=1, fragment='{"x": 1}'),
        UsageReport(usage=USAGE),
    ]
    assert quiet.start() == b""
    assert all(quiet.feed(delta) == b"" for delta in deltas)
    assert quiet.finish() == b""
    body = ChatCompletion.model_validate_json(quiet.response_json())
    choice = body.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "Sure: "
    calls = choice.message.tool_calls or []
    assert [
        (c.id, c.function.name, c.function.arguments) for c in calls if c.type == "function"
    ] == [
        ("call_a", "ns__f", "{}"),
        ("call_b", "g", '{"x": 1}'),
    ]
    assert body.usage is not None
    assert body.usage.prompt_tokens_details is not None
    assert body.usage.prompt_tokens_details.cached_tokens == 20
    assert (
        orjson.loads(quiet.response_json())["choices"][0]["message"]["reasoning_content"] == "hmm"
    )


def test_only_tool_calls_has_null_content() -> None:
    quiet = encoder(streaming=False)
    quiet.feed(ToolCallStart(index=0, id="c", name="f"))
    quiet.finish()
    message = orjson.loads(quiet.response_json())["choices"][0]["message"]
    assert message["content"] is None
    assert message["tool_calls"][0]["function"]["arguments"] == "{}"
