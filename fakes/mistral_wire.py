"""Mistral La Plateforme: Chat Completions as Mistral streams it, with Mistral's checks.

Served on ``POST …/mistral/…/chat/completions`` (base URL ``<origin>/mistral/v1``), a
path the plain OpenAI Chat format would otherwise take, so it sits before it in
``fakes.server.FORMATS``.

Stream grammar (as in ``recordings/mistral/*``): ``data: {chat.completion.chunk}`` lines —
a role chunk (``delta: {role: "assistant", content: ""}``), one chunk per word of text
(``delta.content``), a ``Reasoning`` item as ``thinking`` content chunks
(``[{type: "thinking", thinking: [{type: "text", text}]}]``), and a last chunk carrying
every tool call **whole, without ``index`` or ``type``** (``{id, function: {name,
arguments}}``), the ``finish_reason`` and the ``usage`` (sent without being asked), then
``data: [DONE]``. Tool call ids are 9 letters or digits. A custom call is the gateway's
emulation: a function with ``{"input": <text>}`` arguments.

``finish="length"``: ``finish_reason: "length"``, the last item cut half-way, and a cut
tool call not sent at all (Mistral sends calls whole). ``failed_event`` ends the stream
with ``data: {"error": {…}}`` and no ``[DONE]``; non-streamed it is HTTP 500.

Checks Mistral makes before answering, answered with its error body (never streamed, as
Mistral validates before it streams): 422 ``extra_forbidden`` for the OpenAI fields it
does not take (``stream_options``, ``max_completion_tokens``); 400 for a tool call id (on
an assistant ``tool_calls`` entry or a ``tool`` message) that is not exactly 9 ASCII
letters or digits, and for a ``user`` message right after a ``tool`` message. Error bodies
are Mistral's top-level ``{"object": "error", "message", "type", "param", "code"}``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence

import orjson

from fakes.default_reply import Conversation
from fakes.openai_responses_wire import items_to_send
from fakes.openai_wire import CHAT
from fakes.script import CustomToolCall, FakeUsage, Fault, FunctionCall, Reasoning, Reply, Text
from fakes.wire import Answer, BodyDescribed, JsonBody, WireContext, split_text, sse_event

DONE_LINE = b"data: [DONE]\n\n"
VALID_CALL_ID = re.compile(r"[A-Za-z0-9]{9}")
FORBIDDEN_FIELDS = ("stream_options", "max_completion_tokens")
ERROR_TYPES: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("invalid_request_error", "Unauthorized"),
    404: ("invalid_request_error", "Invalid model: unknown"),
    422: ("invalid_request_message_order", "Invalid request."),
    429: ("rate_limited", "Requests rate limit exceeded"),
    500: ("internal_server_error", "Internal server error"),
    503: ("internal_server_error", "Service unavailable."),
}


def mistral_usage(usage: FakeUsage) -> dict[str, object]:
    return {
        "prompt_tokens": usage.input_tokens,
        "total_tokens": usage.total_tokens,
        "completion_tokens": usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
    }


def finish_reason(reply: Reply) -> str:
    if reply.finish == "length":
        return "length"
    if any(isinstance(item, FunctionCall | CustomToolCall) for item in reply.items):
        return "tool_calls"
    return "stop"


def call_id(item: FunctionCall | CustomToolCall, ctx: WireContext, index: int) -> str:
    """The scripted id, or 9 letters and digits minted from the context."""
    return item.call_id or f"{ctx.token[:5]}{index:04d}"[:9]


def _whole_calls(reply: Reply, ctx: WireContext) -> list[dict[str, object]]:
    """The calls Mistral sends: whole, without ``index``/``type``; a cut one is not sent."""
    calls: list[dict[str, object]] = []
    for position, item in enumerate(reply.items):
        if not isinstance(item, FunctionCall | CustomToolCall):
            continue
        if reply.finish == "length" and position == len(reply.items) - 1:
            continue
        if isinstance(item, CustomToolCall):
            arguments = orjson.dumps({"input": item.input}).decode()
        else:
            arguments = item.arguments
        function = {"name": item.name, "arguments": arguments}
        calls.append({"id": call_id(item, ctx, len(calls)), "function": function})
    return calls


def _thinking(text: str) -> list[dict[str, object]]:
    return [{"type": "thinking", "thinking": [{"type": "text", "text": text}]}]


def _deltas(reply: Reply) -> Iterator[dict[str, object]]:
    for item in items_to_send(reply):
        match item:
            case Text(text=text):
                for piece in split_text(text):
                    yield {"content": piece}
            case Reasoning(summary=summary):
                for piece in split_text(summary):
                    yield {"content": _thinking(piece)}


def _chunk(
    ctx: WireContext,
    delta: Mapping[str, object],
    finish: str | None = None,
    usage: dict[str, object] | None = None,
) -> bytes:
    choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
    body: dict[str, object] = {**_envelope(ctx, "chat.completion.chunk"), "choices": [choice]}
    if usage is not None:
        body["usage"] = usage
    return sse_event(None, body)


def _envelope(ctx: WireContext, kind: str) -> dict[str, object]:
    return {"id": ctx.token, "object": kind, "created": ctx.created, "model": ctx.model}


def mistral_stream(
    reply: Reply, ctx: WireContext, *, failure: tuple[str, str] | None = None
) -> list[bytes]:
    """The Mistral SSE stream of ``reply``, one ``bytes`` per event."""
    events = [_chunk(ctx, {"role": "assistant", "content": ""})]
    events.extend(_chunk(ctx, delta) for delta in _deltas(reply))
    if failure is not None:
        code, message = failure
        error = {"message": message, "type": "internal_server_error", "param": None, "code": code}
        return [*events, sse_event(None, {"error": error})]
    last: dict[str, object] = {"content": ""}
    calls = _whole_calls(reply, ctx)
    if calls:
        last = {"content": None, "tool_calls": calls}
    usage = mistral_usage(ctx.usage)
    events.append(_chunk(ctx, last, finish_reason(reply), usage))
    return [*events, DONE_LINE]


def mistral_answer(reply: Reply, ctx: WireContext) -> Answer:
    """The non-streamed body of ``reply``."""
    texts, thoughts = [], []
    for item in items_to_send(reply):
        if isinstance(item, Text):
            texts.append(item.text)
        elif isinstance(item, Reasoning):
            thoughts.append(item.summary)
    text = "".join(texts)
    content: object = text
    if thoughts:
        content = [*_thinking("".join(thoughts)), {"type": "text", "text": text}]
    message: dict[str, object] = {"role": "assistant", "content": content}
    calls = _whole_calls(reply, ctx)
    if calls:
        message["tool_calls"] = calls
    choice = {"index": 0, "finish_reason": finish_reason(reply), "message": message}
    body = {**_envelope(ctx, "chat.completion"), "usage": mistral_usage(ctx.usage)}
    return Answer(status=200, body=orjson.dumps({**body, "choices": [choice]}))


def error_body(status: int, fault: Fault) -> bytes:
    """Mistral's top-level error object, with per-status defaults."""
    fallback = ("internal_server_error" if status >= 500 else "invalid_request_error", "Error")
    kind, message = ERROR_TYPES.get(status, fallback)
    return _error(fault.error_message or message, fault.error_type or kind, fault.error_code)


def _error(message: str, kind: str, code: str | None) -> bytes:
    document = {"object": "error", "message": message, "type": kind, "param": None, "code": code}
    return orjson.dumps(document)


def rejection(body: JsonBody) -> tuple[int, bytes] | None:
    """Mistral's status and body for a request it refuses, if it does."""
    extra = [key for key in FORBIDDEN_FIELDS if key in body]
    if extra:
        detail = [{"type": "extra_forbidden", "loc": ["body", extra[0]]}]
        message = {"detail": [{**d, "msg": "Extra inputs are not permitted"} for d in detail]}
        return 422, orjson.dumps(
            {
                "object": "error",
                "message": message,
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        )
    refused = _message_order_or_ids(body)
    return None if refused is None else (400, refused)


def _message_order_or_ids(body: JsonBody) -> bytes | None:
    messages = body.get("messages")
    previous = None
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, Mapping):
            continue
        role = message.get("role")
        if previous == "tool" and role == "user":
            text = "Unexpected role 'user' after role 'tool'"
            return _error(text, "invalid_request_message_order", "3230")
        for given in _call_ids(message):
            if not (isinstance(given, str) and VALID_CALL_ID.fullmatch(given)):
                text = f"Tool call id was {given} but must be a-z, A-Z, 0-9, with a length of 9."
                return _error(text, "invalid_function_call", "3280")
        previous = role
    return None


def _call_ids(message: Mapping[str, object]) -> list[object]:
    if message.get("role") == "tool":
        return [message.get("tool_call_id")]
    calls = message.get("tool_calls")
    return [c.get("id") for c in calls if isinstance(c, Mapping)] if isinstance(calls, list) else []


class MistralFormat(BodyDescribed):
    """Mistral Chat Completions (``POST …/mistral/…/chat/completions``)."""

    name = "mistral"

    def matches(self, method: str, path: str) -> bool:
        return method == "POST" and "/mistral/" in path and path.endswith("/chat/completions")

    def wants_stream(self, path: str, body: JsonBody) -> bool:
        return body.get("stream") is True and rejection(body) is None

    def conversation(self, body: JsonBody) -> Conversation:
        return CHAT.conversation(body)

    def stream_events(
        self, reply: Reply, ctx: WireContext, *, failure: tuple[str, str] | None
    ) -> Sequence[bytes]:
        return mistral_stream(reply, ctx, failure=failure)

    def complete_answer(
        self, reply: Reply, ctx: WireContext, *, failure: tuple[str, str] | None
    ) -> Answer:
        refused = rejection(ctx.request)
        if refused is not None:
            return Answer(status=refused[0], body=refused[1])
        if failure is not None:
            return Answer(status=500, body=_error(failure[1], "internal_server_error", failure[0]))
        return mistral_answer(reply, ctx)

    def error_body(self, status: int, fault: Fault) -> bytes:
        return error_body(status, fault)


MISTRAL = MistralFormat()
