"""The official ``openai`` SDK consumes what the encoders produce, streamed and not.

The SDK talks to an ``httpx2.MockTransport`` (the SDK's own HTTP stack) that answers with
the encoder's bytes, piece by piece as a gateway would write them. The body the SDK
sent is also run through our decoder, so both directions meet the real client.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx2
import openai
import pytest
from openai.types.chat import ChatCompletionFunctionToolParam
from openai.types.responses import ResponseCustomToolCall, ResponseFunctionToolCall

from messages.chat import (
    ChatRequest,
    Finish,
    FinishReason,
    Reasoning,
    ReasoningDelta,
    ReasoningDone,
    Role,
    StreamDelta,
    TextDelta,
    ToolCallArgs,
    ToolCallStart,
    ToolKind,
    UsageReport,
)
from messages.errors import ErrorInfo, ErrorKind
from messages.usage import Usage
from providers.client_formats.chat_format import ChatStreamEncoder, decode_chat_request
from providers.client_formats.reasoning_state import unwrap
from providers.client_formats.responses_format import (
    ResponsesStreamEncoder,
    decode_responses_request,
)

USAGE = Usage(input_tokens=50, cached_input_tokens=10, output_tokens=30, reasoning_tokens=4)
CALLS: list[StreamDelta] = [
    ToolCallStart(index=0, id="call_a", name="exec_command"),
    ToolCallArgs(index=0, fragment='{"cmd": '),
    ToolCallArgs(index=0, fragment='"ls"}'),
    ToolCallStart(index=1, id="call_b", name="lookup"),
    ToolCallArgs(index=1, fragment='{"q": 1}'),
    Finish(reason=FinishReason.TOOL_CALLS),
    UsageReport(usage=USAGE),
]
WEATHER: ChatCompletionFunctionToolParam = {
    "type": "function",
    "function": {"name": "lookup", "parameters": {"type": "object"}},
}


class Gateway:
    """Answers every request with the given pieces; keeps what the SDK sent."""

    def __init__(self, pieces: list[bytes], content_type: str) -> None:
        self.pieces = pieces
        self.content_type = content_type
        self.bodies: list[object] = []

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.bodies.append(json.loads(request.content))
        return httpx2.Response(
            200, headers={"content-type": self.content_type}, content=self._stream()
        )

    def _stream(self) -> Iterator[bytes]:
        for piece in self.pieces:  # in small, uneven writes, as a socket may deliver them
            for start in range(0, len(piece), 61):
                yield piece[start : start + 61]

    def client(self) -> openai.OpenAI:
        transport = httpx2.MockTransport(self.handle)
        return openai.OpenAI(
            api_key="sk-test",
            base_url="http://gateway.test/v1",
            http_client=httpx2.Client(transport=transport),
            max_retries=0,
        )


def responses_gateway(
    deltas: list[StreamDelta], *, streaming: bool = True, error: ErrorInfo | None = None
) -> Gateway:
    encoder = ResponsesStreamEncoder(
        response_id="resp_sdk", model="gw-model", created_at=1700000000, streaming=streaming
    )
    pieces = [encoder.start(), *(encoder.feed(d) for d in deltas)]
    pieces.append(encoder.fail(error) if error else encoder.finish())
    if not streaming:
        return Gateway([encoder.response_json()], "application/json")
    return Gateway([piece for piece in pieces if piece], "text/event-stream")


def chat_gateway(
    deltas: list[StreamDelta], *, streaming: bool = True, error: ErrorInfo | None = None
) -> Gateway:
    encoder = ChatStreamEncoder(
        response_id="chatcmpl-sdk",
        model="gw-model",
        created_at=1700000000,
        streaming=streaming,
        include_usage=True,
    )
    pieces = [encoder.start(), *(encoder.feed(d) for d in deltas)]
    pieces.append(encoder.fail(error) if error else encoder.finish())
    if not streaming:
        return Gateway([encoder.response_json()], "application/json")
    return Gateway([piece for piece in pieces if piece], "text/event-stream")


def decoded_responses(gateway: Gateway) -> ChatRequest:
    (body,) = gateway.bodies
    return decode_responses_request(body)


def test_responses_stream_with_reasoning_text_and_calls() -> None:
    thinking = Reasoning(provider="anthropic", text="Look first.", signature="sig")
    deltas: list[StreamDelta] = [
        ReasoningDelta(text="Look first."),
        ReasoningDone(reasoning=thinking),
        TextDelta(text="Checking."),
        ToolCallStart(index=0, id="call_p", name="apply_patch", kind=ToolKind.CUSTOM),
        ToolCallArgs(index=0, fragment="*** Begin Patch\n*** End Patch\n"),
        *CALLS[3:],
    ]
    gateway = responses_gateway(deltas)
    stream = gateway.client().responses.create(model="gw-model", input="hi", stream=True)
    events = list(stream)

    assert [e.sequence_number for e in events] == list(range(len(events)))
    final = events[-1]
    assert final.type == "response.completed"
    reasoning, message, patch, call = final.response.output
    assert reasoning.type == "reasoning"
    assert reasoning.encrypted_content is not None
    assert unwrap(reasoning.encrypted_content) == ("anthropic", "sig")
    assert message.type == "message"
    assert final.response.output_text == "Checking."
    assert isinstance(patch, ResponseCustomToolCall)
    assert patch.input == "*** Begin Patch\n*** End Patch\n"
    assert isinstance(call, ResponseFunctionToolCall)
    assert (call.call_id, call.name, call.arguments) == ("call_b", "lookup", '{"q": 1}')
    assert final.response.usage is not None
    assert final.response.usage.input_tokens_details.cached_tokens == 10
    assert decoded_responses(gateway).messages[0].text == "hi"


def test_responses_stream_helper_rebuilds_the_final_response() -> None:
    deltas: list[StreamDelta] = [TextDelta(text="Hel"), TextDelta(text="lo"), *CALLS]
    gateway = responses_gateway(deltas)
    with gateway.client().responses.stream(model="gw-model", input="hi") as stream:
        text = "".join(e.delta for e in stream if e.type == "response.output_text.delta")
        final = stream.get_final_response()
    assert text == "Hello"
    assert final.output_text == "Hello"
    calls = [item for item in final.output if isinstance(item, ResponseFunctionToolCall)]
    assert [json.loads(call.arguments) for call in calls] == [{"cmd": "ls"}, {"q": 1}]
    assert final.usage is not None
    assert final.usage.output_tokens_details.reasoning_tokens == 4


def test_responses_non_stream_body() -> None:
    gateway = responses_gateway(
        [TextDelta(text="Plain."), UsageReport(usage=USAGE)], streaming=False
    )
    response = gateway.client().responses.create(model="gw-model", input="hi")
    assert response.id == "resp_sdk"
    assert response.status == "completed"
    assert response.output_text == "Plain."
    assert response.usage is not None
    assert response.usage.total_tokens == 80


def test_responses_truncated_mid_call_ends_incomplete() -> None:
    deltas: list[StreamDelta] = [CALLS[0], CALLS[1], Finish(reason=FinishReason.LENGTH)]
    gateway = responses_gateway(deltas)
    events = list(gateway.client().responses.create(model="gw-model", input="hi", stream=True))
    final = events[-1]
    assert final.type == "response.incomplete"
    assert final.response.incomplete_details is not None
    assert final.response.incomplete_details.reason == "max_output_tokens"


def test_responses_failure_raises_in_the_sdk() -> None:
    error = ErrorInfo(kind=ErrorKind.RATE_LIMITED, status=429, message="Slow down", retry_after=2)
    gateway = responses_gateway([TextDelta(text="par")], error=error)
    stream = gateway.client().responses.create(model="gw-model", input="hi", stream=True)
    seen: list[str] = []
    with pytest.raises(openai.APIError, match="try again in 2s"):
        seen.extend(event.type for event in stream)
    assert "response.output_text.delta" in seen


def test_sdk_request_bodies_decode() -> None:
    gateway = responses_gateway([TextDelta(text="ok")])
    gateway.client().responses.create(
        model="gw-model",
        instructions="Be terse.",
        input=[{"role": "user", "content": [{"type": "input_text", "text": "hi"}]}],
        tools=[{"type": "custom", "name": "apply_patch", "description": "Patch."}],
        max_output_tokens=64,
        stream=True,
    ).close()
    request = decoded_responses(gateway)
    assert [m.role for m in request.messages] == [Role.SYSTEM, Role.USER]
    assert request.tools[0].kind is ToolKind.CUSTOM
    assert request.max_output_tokens == 64


def test_chat_stream_with_parallel_calls_and_usage() -> None:
    gateway = chat_gateway([TextDelta(text="Let me see."), *CALLS])
    stream = gateway.client().chat.completions.create(
        model="gw-model",
        messages=[{"role": "user", "content": "ls"}],
        tools=[WEATHER],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    starts = [
        call
        for chunk in chunks
        for choice in chunk.choices
        for call in choice.delta.tool_calls or []
        if call.id
    ]
    assert [(c.index, c.id, c.function and c.function.name) for c in starts] == [
        (0, "call_a", "exec_command"),
        (1, "call_b", "lookup"),
    ]
    assert chunks[-2].choices[0].finish_reason == "tool_calls"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 30
    (body,) = gateway.bodies
    assert decode_chat_request(body).tools[0].name == "lookup"


def test_chat_stream_helper_accumulates_calls() -> None:
    gateway = chat_gateway([TextDelta(text="On it."), *CALLS])
    with gateway.client().chat.completions.stream(
        model="gw-model", messages=[{"role": "user", "content": "ls"}]
    ) as stream:
        final = stream.get_final_completion()
    message = final.choices[0].message
    assert message.content == "On it."
    assert [json.loads(c.function.arguments) for c in message.tool_calls or []] == [
        {"cmd": "ls"},
        {"q": 1},
    ]


def test_chat_non_stream_body() -> None:
    gateway = chat_gateway([TextDelta(text="Hi there."), UsageReport(usage=USAGE)], streaming=False)
    completion = gateway.client().chat.completions.create(
        model="gw-model", messages=[{"role": "user", "content": "hi"}]
    )
    assert completion.choices[0].message.content == "Hi there."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.total_tokens == 80


def test_chat_failure_raises_in_the_sdk() -> None:
    error = ErrorInfo(kind=ErrorKind.UPSTREAM_ERROR, status=502, message="upstream went away")
    gateway = chat_gateway([TextDelta(text="par")], error=error)
    stream = gateway.client().chat.completions.create(
        model="gw-model", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    with pytest.raises(openai.APIError, match="upstream went away"):
        list(stream)
