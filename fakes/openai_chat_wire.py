"""OpenAI Chat Completions: a ``Reply`` as the SSE stream and the JSON body the API sends.

Stream grammar (as in ``recordings/openai-chat/*.sse``): ``data: {chat.completion.chunk}``
lines — a role chunk (``delta.role="assistant"``), then per item content deltas or a
tool call (first delta with ``index``, ``id``, ``type``, name and ``arguments:""``, then
2+ argument fragments carrying only ``index`` + ``function.arguments``), a finish chunk
(``delta:{}`` + ``finish_reason``), a usage chunk (``choices:[]``) only when the request
set ``stream_options.include_usage``, then ``data: [DONE]``.

``finish_reason`` is ``length`` for a length-cut reply, ``tool_calls`` when the reply
calls a tool, else ``stop``. A custom (freeform) tool call is ``type:"custom"`` with
``custom:{name, input}``. Chat carries no reasoning text: ``Reasoning`` items only show
in ``completion_tokens_details.reasoning_tokens``. An in-stream failure is one
``data: {"error": {…}}`` line and no ``[DONE]``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import orjson

from fakes.openai_responses_wire import call_id_of, items_to_send
from fakes.script import CustomToolCall, FakeUsage, FunctionCall, Item, Reasoning, Reply, Text
from fakes.wire import Answer, WireContext, split_fragments, split_text, sse_event

DONE_LINE = b"data: [DONE]\n\n"
SYSTEM_FINGERPRINT = "fp_switchyard_fake"


def chat_usage(usage: FakeUsage) -> dict[str, object]:
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": usage.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def finish_reason(reply: Reply) -> str:
    if reply.finish == "length":
        return "length"
    if any(isinstance(item, FunctionCall | CustomToolCall) for item in reply.items):
        return "tool_calls"
    return "stop"


def wants_usage_chunk(ctx: WireContext) -> bool:
    options = ctx.request.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


def _chunk(ctx: WireContext, delta: Mapping[str, object], finish: str | None = None) -> bytes:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return sse_event(None, {**_envelope(ctx, "chat.completion.chunk"), "choices": [choice]})


def _envelope(ctx: WireContext, kind: str) -> dict[str, object]:
    return {
        "id": f"chatcmpl-{ctx.token}",
        "object": kind,
        "created": ctx.created,
        "model": ctx.model,
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }


def _tool_call(item: FunctionCall | CustomToolCall, call_id: str) -> dict[str, object]:
    """A whole tool call as the non-streamed message lists it."""
    if isinstance(item, FunctionCall):
        function = {"name": item.name, "arguments": item.arguments}
        return {"id": call_id, "type": "function", "function": function}
    return {"id": call_id, "type": "custom", "custom": {"name": item.name, "input": item.input}}


def _tool_call_deltas(
    item: FunctionCall | CustomToolCall, call_id: str, slot: int
) -> Iterator[dict[str, object]]:
    """The ``delta.tool_calls`` entries of one call: its head, then 2+ fragments."""
    if isinstance(item, FunctionCall):
        head = {"name": item.name, "arguments": ""}
        yield {"index": slot, "id": call_id, "type": "function", "function": head}
        for piece in split_fragments(item.arguments):
            yield {"index": slot, "function": {"arguments": piece}}
        return
    yield {
        "index": slot,
        "id": call_id,
        "type": "custom",
        "custom": {"name": item.name, "input": ""},
    }
    for piece in split_fragments(item.input):
        yield {"index": slot, "custom": {"input": piece}}


def _item_deltas(items: tuple[Item, ...], ctx: WireContext) -> Iterator[dict[str, object]]:
    slot = 0
    for index, item in enumerate(items):
        match item:
            case Text(text=text):
                for piece in split_text(text):
                    yield {"content": piece}
            case FunctionCall() | CustomToolCall():
                for entry in _tool_call_deltas(item, call_id_of(item, ctx, index), slot):
                    yield {"tool_calls": [entry]}
                slot += 1
            case Reasoning():
                continue


def chat_stream(
    reply: Reply, ctx: WireContext, *, failure: tuple[str, str] | None = None
) -> list[bytes]:
    """The Chat Completions SSE stream of ``reply``, one ``bytes`` per event."""
    items = items_to_send(reply)
    opens_with_text = bool(items) and isinstance(items[0], Text)
    role = {"role": "assistant", "content": "" if opens_with_text else None, "refusal": None}
    events = [_chunk(ctx, role)]
    events.extend(_chunk(ctx, delta) for delta in _item_deltas(items, ctx))
    if failure is not None:
        code, message = failure
        error = {"message": message, "type": "server_error", "param": None, "code": code}
        events.append(sse_event(None, {"error": error}))
        return events
    events.append(_chunk(ctx, {}, finish_reason(reply)))
    if wants_usage_chunk(ctx):
        usage = {
            **_envelope(ctx, "chat.completion.chunk"),
            "choices": [],
            "usage": chat_usage(ctx.usage),
        }
        events.append(sse_event(None, usage))
    events.append(DONE_LINE)
    return events


def chat_answer(reply: Reply, ctx: WireContext) -> Answer:
    """The non-streamed Chat Completions body of ``reply``."""
    items = items_to_send(reply)
    texts = [item.text for item in items if isinstance(item, Text)]
    calls = [
        _tool_call(item, call_id_of(item, ctx, index))
        for index, item in enumerate(items)
        if isinstance(item, FunctionCall | CustomToolCall)
    ]
    message: dict[str, object] = {
        "role": "assistant",
        "content": "".join(texts) if texts else None,
        "refusal": None,
        "annotations": [],
    }
    if calls:
        message["tool_calls"] = calls
    choice = {
        "index": 0,
        "message": message,
        "logprobs": None,
        "finish_reason": finish_reason(reply),
    }
    body = {
        **_envelope(ctx, "chat.completion"),
        "choices": [choice],
        "usage": chat_usage(ctx.usage),
        "service_tier": "default",
    }
    return Answer(status=200, body=orjson.dumps(body))
