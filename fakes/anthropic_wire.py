"""Anthropic Messages: a ``Reply`` as the SSE stream and the JSON body the API sends.

Stream grammar (as in ``recordings/anthropic/*.sse``), each event ``event: <type>`` +
``data: {"type": <type>, …}``: ``message_start`` (empty content, input usage,
``output_tokens: 1``) → per item one content block: ``content_block_start`` →
``content_block_delta``* → ``content_block_stop``, with a ``ping`` after the first block
start → ``message_delta`` (``stop_reason``, usage incl. the final ``output_tokens``) →
``message_stop``.

Items: ``Text`` → a ``text`` block (``text_delta`` per word); ``Reasoning`` → a
``thinking`` block (``thinking_delta`` per word, then one ``signature_delta`` carrying
``encrypted_content`` or a minted signature); ``FunctionCall`` → a ``tool_use`` block
(``input: {}``, a first ``partial_json: ""``, then 2+ fragments; a call without
arguments sends only the ``""``); ``CustomToolCall`` → a ``tool_use`` of the emulating
function, its input ``{"input": <text>}`` (what Anthropic answers the gateway's
emulation with). Tool ids are ``toolu_…`` unless scripted.

``finish="length"``: the last item is cut half-way and the stop reason is
``max_tokens``; a cut tool call gets no ``content_block_stop`` (as recorded), a cut
thinking block no signature. Non-streamed, a cut tool call is left out of ``content``.
A ``failed_event`` ends the stream with ``event: error`` instead of ``message_delta``;
non-streamed it is the error body with HTTP 529 (``overloaded_error``) or 500.
Usage: ``input_tokens`` excludes the cached part, which is ``cache_read_input_tokens``,
and the part written to the cache, ``cache_creation_input_tokens``. With computed usage
the server charges marked prefixes to its prompt cache (``fakes.prompt_cache``):
``AnthropicFormat.cache_scope`` says which requests can share entries.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import orjson

from fakes.default_reply import Conversation
from fakes.script import (
    CustomToolCall,
    FakeUsage,
    Fault,
    FunctionCall,
    Item,
    Reasoning,
    Reply,
    Text,
)
from fakes.wire import (
    Answer,
    BodyDescribed,
    JsonBody,
    WireContext,
    cut_in_half,
    split_fragments,
    split_text,
    sse_event,
)

Event = tuple[str, dict[str, object]]
ERROR_TYPES: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "invalid x-api-key"),
    402: ("billing_error", "Your credit balance is too low."),
    403: (
        "permission_error",
        "Your API key does not have permission to use the specified resource.",
    ),
    404: ("not_found_error", "The requested resource could not be found."),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "This request would exceed your organization's rate limit."),
    500: ("api_error", "Internal server error"),
    504: ("timeout_error", "Request timeout"),
    529: ("overloaded_error", "Overloaded"),
}
STATUS_OF_TYPE = {kind: status for status, (kind, _) in ERROR_TYPES.items()}


def anthropic_usage(usage: FakeUsage, *, output_tokens: int) -> dict[str, object]:
    written = usage.cache_write_tokens
    return {
        "input_tokens": max(0, usage.input_tokens - usage.cached_tokens - written),
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": usage.cached_tokens,
        "cache_creation": {"ephemeral_5m_input_tokens": written, "ephemeral_1h_input_tokens": 0},
        "output_tokens": output_tokens,
    }


def stop_reason(reply: Reply) -> str:
    if reply.finish == "length":
        return "max_tokens"
    if any(isinstance(item, FunctionCall | CustomToolCall) for item in reply.items):
        return "tool_use"
    return "end_turn"


def tool_input_json(item: FunctionCall | CustomToolCall) -> str:
    """The ``input`` as the model streams it (compact JSON text)."""
    if isinstance(item, CustomToolCall):
        return orjson.dumps({"input": item.input}).decode()
    return item.arguments if item.arguments.strip() else "{}"


def _tool_id(item: FunctionCall | CustomToolCall, ctx: WireContext, index: int) -> str:
    return item.call_id or ctx.mint_id("toolu", index, sep="_01")


def _signature(item: Reasoning, ctx: WireContext, index: int) -> str:
    return item.encrypted_content or ctx.mint_id("EqQBsig", index, sep="")


def _block_events(item: Item, ctx: WireContext, index: int, cut: bool) -> Iterator[Event]:
    """One content block; ``cut`` when ``max_tokens`` stops it half-way."""
    at: dict[str, object] = {"index": index}
    match item:
        case Text(text=text):
            yield "content_block_start", {**at, "content_block": {"type": "text", "text": ""}}
            for piece in split_text(cut_in_half(text) if cut else text):
                yield "content_block_delta", {**at, "delta": {"type": "text_delta", "text": piece}}
        case Reasoning(summary=summary):
            block = {"type": "thinking", "thinking": "", "signature": ""}
            yield "content_block_start", {**at, "content_block": block}
            for piece in split_text(cut_in_half(summary) if cut else summary):
                delta = {"type": "thinking_delta", "thinking": piece}
                yield "content_block_delta", {**at, "delta": delta}
            if not cut:
                delta = {"type": "signature_delta", "signature": _signature(item, ctx, index)}
                yield "content_block_delta", {**at, "delta": delta}
        case FunctionCall() | CustomToolCall():
            yield from _tool_events(item, ctx, index, cut)
            if cut:
                return
    yield "content_block_stop", at


def _tool_events(
    item: FunctionCall | CustomToolCall, ctx: WireContext, index: int, cut: bool
) -> Iterator[Event]:
    at: dict[str, object] = {"index": index}
    block = {"type": "tool_use", "id": _tool_id(item, ctx, index), "name": item.name, "input": {}}
    yield "content_block_start", {**at, "content_block": block}
    arguments = tool_input_json(item)
    fragments = [""] if arguments == "{}" else ["", *split_fragments(arguments)]
    if cut:
        fragments = ["", *split_fragments(cut_in_half(arguments))]
    for piece in fragments:
        delta = {"type": "input_json_delta", "partial_json": piece}
        yield "content_block_delta", {**at, "delta": delta}


def _stream_events(
    reply: Reply, ctx: WireContext, failure: tuple[str, str] | None
) -> Iterator[Event]:
    start_usage = anthropic_usage(ctx.usage, output_tokens=1)
    yield "message_start", {"message": {**_message_head(ctx), "content": [], "usage": start_usage}}
    last = len(reply.items) - 1
    for index, item in enumerate(reply.items):
        for position, event in enumerate(
            _block_events(item, ctx, index, cut=_is_cut(reply, index, last))
        ):
            yield event
            if index == 0 and position == 0:
                yield "ping", {}
    if failure is not None:
        yield "error", {"error": _failure_error(failure)}
        return
    delta = {"stop_reason": stop_reason(reply), "stop_sequence": None}
    usage = anthropic_usage(ctx.usage, output_tokens=ctx.usage.output_tokens)
    yield "message_delta", {"delta": delta, "usage": usage}
    yield "message_stop", {}


def _is_cut(reply: Reply, index: int, last: int) -> bool:
    return reply.finish == "length" and index == last


def _message_head(ctx: WireContext) -> dict[str, object]:
    return {
        "id": ctx.mint_id("msg", 0, sep="_01"),
        "type": "message",
        "role": "assistant",
        "model": ctx.model,
        "stop_reason": None,
        "stop_sequence": None,
    }


def _failure_error(failure: tuple[str, str]) -> dict[str, object]:
    code, message = failure
    kind = code if code in STATUS_OF_TYPE else "api_error"
    return {"type": kind, "message": message}


def anthropic_stream(
    reply: Reply, ctx: WireContext, *, failure: tuple[str, str] | None = None
) -> list[bytes]:
    """The Messages SSE stream of ``reply``, one ``bytes`` per event."""
    return [
        sse_event(kind, {"type": kind, **fields})
        for kind, fields in _stream_events(reply, ctx, failure)
    ]


def _whole_block(item: Item, ctx: WireContext, index: int, cut: bool) -> dict[str, object] | None:
    match item:
        case Text(text=text):
            return {"type": "text", "text": cut_in_half(text) if cut else text}
        case Reasoning(summary=summary):
            if cut:
                return {"type": "thinking", "thinking": cut_in_half(summary), "signature": ""}
            return {
                "type": "thinking",
                "thinking": summary,
                "signature": _signature(item, ctx, index),
            }
        case FunctionCall() | CustomToolCall():
            if cut:
                return None
            tool_input = orjson.loads(tool_input_json(item))
            return {
                "type": "tool_use",
                "id": _tool_id(item, ctx, index),
                "name": item.name,
                "input": tool_input,
            }


def anthropic_answer(
    reply: Reply, ctx: WireContext, *, failure: tuple[str, str] | None = None
) -> Answer:
    """The non-streamed Messages body of ``reply`` (or the error answer of ``failure``)."""
    if failure is not None:
        error = _failure_error(failure)
        status = 529 if error["type"] == "overloaded_error" else 500
        return Answer(status=status, body=orjson.dumps({"type": "error", "error": error}))
    last = len(reply.items) - 1
    blocks = [
        _whole_block(item, ctx, i, _is_cut(reply, i, last)) for i, item in enumerate(reply.items)
    ]
    body = {
        **_message_head(ctx),
        "content": [block for block in blocks if block is not None],
        "stop_reason": stop_reason(reply),
        "usage": anthropic_usage(ctx.usage, output_tokens=ctx.usage.output_tokens),
    }
    return Answer(status=200, body=orjson.dumps(body))


def error_body(status: int, fault: Fault) -> bytes:
    """``{"type": "error", "error": {type, message}, "request_id"}``, defaults per status."""
    fallback = (
        ("api_error", f"HTTP {status}")
        if status >= 500
        else ("invalid_request_error", f"HTTP {status}")
    )
    kind, message = ERROR_TYPES.get(status, fallback)
    error = {"type": fault.error_type or kind, "message": fault.error_message or message}
    return orjson.dumps({"type": "error", "error": error, "request_id": f"req_fake{status}"})


# --- reading a request for the default behaviour ------------------------------------------


def _blocks(content: object) -> list[dict[str, object]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return (
        [block for block in content if isinstance(block, dict)] if isinstance(content, list) else []
    )


def _text(blocks: Sequence[dict[str, object]]) -> str:
    return "".join(str(block.get("text", "")) for block in blocks if block.get("type") == "text")


def read_conversation(body: JsonBody) -> Conversation:
    """Tool names offered, the last user text, and the last message's tool result if any."""
    tools = body.get("tools")
    names = frozenset(
        str(tool.get("name"))
        for tool in (tools if isinstance(tools, list) else [])
        if isinstance(tool, dict)
    )
    raw = body.get("messages")
    messages = [m for m in raw if isinstance(m, dict)] if isinstance(raw, list) else []
    user_blocks = [_blocks(m.get("content")) for m in messages if m.get("role") == "user"]
    last_user_text = next((text for blocks in reversed(user_blocks) if (text := _text(blocks))), "")
    tool_output = None
    if messages and messages[-1].get("role") == "user":
        results = [
            b for b in _blocks(messages[-1].get("content")) if b.get("type") == "tool_result"
        ]
        if results:
            tool_output = _text(_blocks(results[-1].get("content")))
    return Conversation(
        last_user_text=last_user_text, last_tool_output=tool_output, tool_names=names
    )


class AnthropicFormat(BodyDescribed):
    """Anthropic Messages (``POST /v1/messages``, under any prefix)."""

    name = "anthropic"

    def matches(self, method: str, path: str) -> bool:
        return method == "POST" and path.endswith("/messages")

    def conversation(self, body: JsonBody) -> Conversation:
        return read_conversation(body)

    def stream_events(
        self, reply: Reply, ctx: WireContext, *, failure: tuple[str, str] | None
    ) -> Sequence[bytes]:
        return anthropic_stream(reply, ctx, failure=failure)

    def complete_answer(
        self, reply: Reply, ctx: WireContext, *, failure: tuple[str, str] | None
    ) -> Answer:
        return anthropic_answer(reply, ctx, failure=failure)

    def error_body(self, status: int, fault: Fault) -> bytes:
        return error_body(status, fault)

    def cache_scope(self, headers: Sequence[tuple[str, str]]) -> str:
        """Cache entries are shared by requests with the same API key (per model)."""
        return next((value for key, value in headers if key.lower() == "x-api-key"), "")


ANTHROPIC = AnthropicFormat()
