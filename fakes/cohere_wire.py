"""Cohere v2 Chat: a ``Reply`` as the SSE stream and the JSON body ``POST …/v2/chat`` sends.

Stream grammar (as in ``recordings/cohere/*``), each event ``event: <type>`` +
``data: {"type": <type>, …}``: ``message-start`` (id, an empty assistant message) → per
item: ``Text`` → ``content-start`` (``{type: "text", text: ""}``) → ``content-delta`` per
word (``content.text``) → ``content-end``; ``Reasoning`` → the same with
``{type: "thinking", thinking: …}``; ``FunctionCall`` / ``CustomToolCall`` →
``tool-call-start`` (``tool_calls`` is one object: ``{id, type: "function", function:
{name, arguments: ""}}``) → ``tool-call-delta`` per argument fragment (2+) →
``tool-call-end``. Content and tool calls count their ``index`` separately. Then
``message-end`` with ``finish_reason`` (``COMPLETE`` / ``TOOL_CALL`` / ``MAX_TOKENS``) and
``usage``. No ``[DONE]``.

A custom call is the gateway's emulation: a function whose arguments are
``{"input": <text>}``. Tool call ids look like Cohere's, ``<name>_<token><n>``.
``finish="length"``: the last item is cut half-way; a cut tool call gets no
``tool-call-end`` (and is left out of a non-streamed body). ``failed_event`` ends the
stream with ``message-end`` ``finish_reason: "ERROR"`` and ``delta.error``; non-streamed
it is HTTP 500 ``{"id", "message"}``. Error bodies are ``{"id", "message"}`` (Cohere sends
no type or code). Usage: ``billed_units`` are the scripted counts, ``tokens`` add a hidden
prompt template of ``TEMPLATE_TOKENS``, ``cached_tokens`` is the scripted cached count.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import orjson

from fakes.default_reply import Conversation
from fakes.openai_responses_wire import items_to_send
from fakes.script import (
    CustomToolCall,
    FakeUsage,
    Fault,
    FunctionCall,
    Reasoning,
    Reply,
    Text,
)
from fakes.wire import (
    Answer,
    BodyDescribed,
    JsonBody,
    WireContext,
    split_fragments,
    split_text,
    sse_event,
)

Event = tuple[str, dict[str, object]]
TEMPLATE_TOKENS = 480
ERROR_MESSAGES = {
    400: "invalid request: message must be at least 1 token long or tool results must be "
    "specified.",
    401: "invalid api token",
    402: "Please add or update your payment method to continue using the API.",
    404: "model 'unknown' not found, make sure the correct model ID was used and that you "
    "have access to the model.",
    422: "invalid request: the request could not be processed.",
    429: "You are using a Trial key, which is limited to 10 API calls / minute.",
    499: "request cancelled",
    500: "internal server error, this has been reported to our developers",
    503: "service unavailable",
    504: "request timed out",
}


def cohere_usage(usage: FakeUsage) -> dict[str, object]:
    return {
        "billed_units": {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens},
        "tokens": {
            "input_tokens": usage.input_tokens + TEMPLATE_TOKENS,
            "output_tokens": usage.output_tokens,
        },
        "cached_tokens": usage.cached_tokens,
    }


def finish_reason(reply: Reply) -> str:
    if reply.finish == "length":
        return "MAX_TOKENS"
    if any(isinstance(item, FunctionCall | CustomToolCall) for item in reply.items):
        return "TOOL_CALL"
    return "COMPLETE"


def tool_arguments(item: FunctionCall | CustomToolCall) -> str:
    """The arguments as Cohere streams them (a custom call as its emulating function)."""
    if isinstance(item, CustomToolCall):
        return orjson.dumps({"input": item.input}).decode()
    return item.arguments


def _call_id(item: FunctionCall | CustomToolCall, ctx: WireContext, index: int) -> str:
    return item.call_id or ctx.mint_id(item.name, index)


def _content_events(kind: str, text: str, index: int) -> Iterator[Event]:
    yield "content-start", {"index": index, "delta": _content({"type": kind, kind: ""})}
    for piece in split_text(text):
        yield "content-delta", {"index": index, "delta": _content({kind: piece})}
    yield "content-end", {"index": index}


def _content(content: dict[str, object]) -> dict[str, object]:
    return {"message": {"content": content}}


def _tool_events(
    item: FunctionCall | CustomToolCall, ctx: WireContext, index: int, *, cut: bool
) -> Iterator[Event]:
    head = {"id": _call_id(item, ctx, index), "type": "function"}
    function = {"name": item.name, "arguments": ""}
    start = {"message": {"tool_calls": {**head, "function": function}}}
    yield "tool-call-start", {"index": index, "delta": start}
    for piece in split_fragments(tool_arguments(item)):
        fragment = {"message": {"tool_calls": {"function": {"arguments": piece}}}}
        yield "tool-call-delta", {"index": index, "delta": fragment}
    if not cut:
        yield "tool-call-end", {"index": index}


def _stream_events(
    reply: Reply, ctx: WireContext, failure: tuple[str, str] | None
) -> Iterator[Event]:
    empty = {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}
    yield "message-start", {"id": _reply_id(ctx), "delta": {"message": empty}}
    items = items_to_send(reply)
    contents = calls = 0
    for position, item in enumerate(items):
        match item:
            case Text(text=text):
                yield from _content_events("text", text, contents)
                contents += 1
            case Reasoning(summary=summary):
                yield from _content_events("thinking", summary, contents)
                contents += 1
            case FunctionCall() | CustomToolCall():
                cut = reply.finish == "length" and position == len(items) - 1
                yield from _tool_events(item, ctx, calls, cut=cut)
                calls += 1
    if failure is not None:
        yield "message-end", {"delta": {"finish_reason": "ERROR", "error": failure[1]}}
        return
    delta = {"finish_reason": finish_reason(reply), "usage": cohere_usage(ctx.usage)}
    yield "message-end", {"delta": delta}


def cohere_stream(
    reply: Reply, ctx: WireContext, *, failure: tuple[str, str] | None = None
) -> list[bytes]:
    """The v2 Chat SSE stream of ``reply``, one ``bytes`` per event."""
    return [
        sse_event(kind, {"type": kind, **fields})
        for kind, fields in _stream_events(reply, ctx, failure)
    ]


def cohere_answer(
    reply: Reply, ctx: WireContext, *, failure: tuple[str, str] | None = None
) -> Answer:
    """The non-streamed v2 Chat body of ``reply`` (or the error answer of ``failure``)."""
    if failure is not None:
        return Answer(status=500, body=orjson.dumps({"id": _reply_id(ctx), "message": failure[1]}))
    items = items_to_send(reply)
    content: list[dict[str, object]] = []
    calls: list[dict[str, object]] = []
    for position, item in enumerate(items):
        match item:
            case Text(text=text):
                content.append({"type": "text", "text": text})
            case Reasoning(summary=summary):
                content.append({"type": "thinking", "thinking": summary})
            case FunctionCall() | CustomToolCall():
                if reply.finish == "length" and position == len(items) - 1:
                    continue
                function = {"name": item.name, "arguments": tool_arguments(item)}
                call_id = _call_id(item, ctx, len(calls))
                calls.append({"id": call_id, "type": "function", "function": function})
    message: dict[str, object] = {"role": "assistant", "content": content}
    if calls:
        message["tool_calls"] = calls
    body = {
        "id": _reply_id(ctx),
        "message": message,
        "finish_reason": finish_reason(reply),
        "usage": cohere_usage(ctx.usage),
    }
    return Answer(status=200, body=orjson.dumps(body))


def error_body(status: int, fault: Fault) -> bytes:
    """``{"id", "message"}`` with a per-status default message."""
    fallback = "internal server error" if status >= 500 else "invalid request"
    message = fault.error_message or ERROR_MESSAGES.get(status, fallback)
    return orjson.dumps({"id": f"fake-{status}-error", "message": message})


def _reply_id(ctx: WireContext) -> str:
    token = ctx.token.ljust(32, "0")
    return f"{token[:8]}-{token[8:12]}-{token[12:16]}-{token[16:20]}-{token[20:32]}"


# --- reading a request for the default behaviour ------------------------------------------


def _entries(value: object) -> list[Mapping[str, object]]:
    return (
        [entry for entry in value if isinstance(entry, Mapping)] if isinstance(value, list) else []
    )


def _text(content: object) -> str:
    if isinstance(content, str):
        return content
    return "".join(
        str(part.get("text", "")) for part in _entries(content) if part.get("type") == "text"
    )


def _tool_output(content: object) -> str:
    """A tool message's text: a string, text blocks, or documents (``{"output"}`` unwrapped)."""
    if isinstance(content, str):
        return _unwrap_output(content)
    pieces = []
    for part in _entries(content):
        document = part.get("document")
        if part.get("type") == "document" and isinstance(document, Mapping):
            data = document.get("data")
            pieces.append(_unwrap_output(data if isinstance(data, str) else orjson.dumps(data)))
        elif part.get("type") == "text":
            pieces.append(str(part.get("text", "")))
    return "\n".join(pieces)


def _unwrap_output(data: str | bytes) -> str:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        value = None
    if isinstance(value, Mapping) and isinstance(value.get("output"), str):
        return str(value["output"])
    return data if isinstance(data, str) else data.decode()


def read_conversation(body: JsonBody) -> Conversation:
    """Tool names offered, the last user text, and the last message's tool result if any."""
    functions = [tool.get("function") for tool in _entries(body.get("tools"))]
    names = frozenset(str(f.get("name")) for f in functions if isinstance(f, Mapping))
    messages = _entries(body.get("messages"))
    user_texts = [_text(m.get("content")) for m in messages if m.get("role") == "user"]
    last_user_text = next((text for text in reversed(user_texts) if text), "")
    tool_output = None
    if messages and messages[-1].get("role") == "tool":
        tool_output = _tool_output(messages[-1].get("content"))
    return Conversation(
        last_user_text=last_user_text, last_tool_output=tool_output, tool_names=names
    )


class CohereFormat(BodyDescribed):
    """Cohere v2 Chat (``POST /v2/chat``, under any prefix)."""

    name = "cohere"

    def matches(self, method: str, path: str) -> bool:
        return method == "POST" and path.endswith("/v2/chat")

    def conversation(self, body: JsonBody) -> Conversation:
        return read_conversation(body)

    def stream_events(
        self, reply: Reply, ctx: WireContext, *, failure: tuple[str, str] | None
    ) -> Sequence[bytes]:
        return cohere_stream(reply, ctx, failure=failure)

    def complete_answer(
        self, reply: Reply, ctx: WireContext, *, failure: tuple[str, str] | None
    ) -> Answer:
        return cohere_answer(reply, ctx, failure=failure)

    def error_body(self, status: int, fault: Fault) -> bytes:
        return error_body(status, fault)


COHERE = CohereFormat()
