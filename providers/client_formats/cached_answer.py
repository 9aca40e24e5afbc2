"""A cached answer: kept as plain JSON from a finished response, replayed as a live one.

``storable_answer`` reads a complete response body in the client's format (what the
trail records: a Responses object or a ``chat.completion``) into a small normalised
document — the output items in order (text, reasoning with its opaque state, tool
calls), the finish reason and the usage — or ``None`` when the answer must not be
cached: not ``completed``, cut short (``length``), filtered, a refusal, or holding an
item this module does not know.

``replay_answer`` turns such a document back into IR deltas and runs them through the
client's own encoder (``ResponsesStreamEncoder`` / ``ChatStreamEncoder``), so a hit has
the exact grammar of a live answer — for a stream, ``response.created`` …
``response.output_item.done`` … ``response.completed`` (or the Chat chunks and
``[DONE]``) — with a fresh response id, fresh item ids and fresh tool call ids.
Reasoning items keep their id and opaque state: only they let the next turn send it back
to its maker.
"""

from __future__ import annotations

from typing import Any

import orjson

from messages.chat import (
    Finish,
    FinishReason,
    ReasoningDelta,
    ReasoningDone,
    StreamDelta,
    TextDelta,
    ToolCallArgs,
    ToolCallStart,
    ToolKind,
    UsageReport,
)
from messages.usage import Usage
from providers.client_formats.chat_encoder import ChatStreamEncoder
from providers.client_formats.reasoning_state import reasoning_from_item
from providers.client_formats.responses_encoder import ResponsesStreamEncoder

Json = dict[str, Any]
_USAGE_FIELDS = (
    "input_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
)


class NotStorable(Exception):
    """The response is not a complete, successful answer of a known shape."""


def storable_answer(client_format: str, response: bytes) -> bytes | None:
    """The normalised answer document (JSON bytes), or ``None`` if it must not be cached."""
    try:
        body = orjson.loads(response)
        if not isinstance(body, dict):
            return None
        answer = _from_responses(body) if client_format == "responses" else _from_chat(body)
    except (orjson.JSONDecodeError, NotStorable, TypeError, KeyError, ValueError):
        return None
    return orjson.dumps(answer)


def answer_usage(answer: bytes) -> Usage:
    """The usage the answer was produced with (for the cost it saves)."""
    usage = orjson.loads(answer).get("usage") or {}
    return Usage(**{name: int(usage.get(name, 0)) for name in _USAGE_FIELDS})


def replay_answer(
    answer: bytes,
    *,
    client_format: str,
    streaming: bool,
    response_id: str,
    model: str,
    created_at: int,
    include_usage: bool = False,
) -> bytes:
    """The whole reply: the SSE stream when ``streaming``, else the JSON body."""
    document = orjson.loads(answer)
    encoder: ResponsesStreamEncoder | ChatStreamEncoder
    if client_format == "responses":
        encoder = ResponsesStreamEncoder(
            response_id=response_id, model=model, created_at=created_at, streaming=streaming
        )
    else:
        encoder = ChatStreamEncoder(
            response_id=response_id,
            model=model,
            created_at=created_at,
            streaming=streaming,
            include_usage=include_usage,
        )
    out = [encoder.start()]
    prefix = response_id.removeprefix("resp_").removeprefix("chatcmpl-")
    out.extend(encoder.feed(delta) for delta in _deltas(document, client_format, prefix))
    out.append(encoder.finish())
    return b"".join(out) if streaming else encoder.response_json()


# ---- reading a finished response ----------------------------------------------------


def _from_responses(body: Json) -> Json:
    if body.get("status") != "completed" or body.get("error") or body.get("incomplete_details"):
        raise NotStorable("not completed")
    items: list[Json] = []
    for item in _list(body.get("output")):
        kind = item.get("type")
        if kind == "message":
            items.append({"t": "text", "text": _message_text(item)})
        elif kind == "reasoning":
            summary = "".join(_str(part.get("text")) for part in _list(item.get("summary")))
            encrypted = item.get("encrypted_content")
            items.append(
                {
                    "t": "reasoning",
                    "text": summary,
                    "id": item.get("id") if isinstance(item.get("id"), str) else None,
                    "encrypted": encrypted if isinstance(encrypted, str) else None,
                }
            )
        elif kind in ("function_call", "custom_tool_call"):
            items.append(_responses_call(item, custom=kind == "custom_tool_call"))
        else:
            raise NotStorable(f"output item {kind!r}")
    return {"items": items, "usage": _responses_usage(body.get("usage"))}


def _message_text(item: Json) -> str:
    if item.get("status", "completed") != "completed":
        raise NotStorable("message not completed")
    texts = []
    for part in _list(item.get("content")):
        if part.get("type") != "output_text":  # a refusal, or unknown
            raise NotStorable(f"content part {part.get('type')!r}")
        texts.append(_str(part.get("text")))
    return "".join(texts)


def _responses_call(item: Json, *, custom: bool) -> Json:
    if item.get("status", "completed") != "completed":
        raise NotStorable("call not completed")
    namespace = item.get("namespace")
    return {
        "t": "call",
        "kind": "custom" if custom else "function",
        "name": _str(item.get("name"), required=True),
        "namespace": namespace if isinstance(namespace, str) else None,
        "arguments": _str(item.get("input" if custom else "arguments")),
    }


def _responses_usage(usage: object) -> Json:
    if not isinstance(usage, dict):
        return {}
    inputs = usage.get("input_tokens_details") or {}
    outputs = usage.get("output_tokens_details") or {}
    return _counts(
        input_tokens=usage.get("input_tokens"),
        cached_input_tokens=inputs.get("cached_tokens"),
        cache_write_tokens=inputs.get("cache_write_tokens"),
        output_tokens=usage.get("output_tokens"),
        reasoning_tokens=outputs.get("reasoning_tokens"),
    )


def _from_chat(body: Json) -> Json:
    choices = _list(body.get("choices"))
    if len(choices) != 1:
        raise NotStorable("not exactly one choice")
    choice = choices[0]
    if choice.get("finish_reason") not in ("stop", "tool_calls"):
        raise NotStorable(f"finish_reason {choice.get('finish_reason')!r}")
    message = choice.get("message")
    if not isinstance(message, dict) or message.get("refusal"):
        raise NotStorable("a refusal")
    items: list[Json] = []
    reasoning = message.get("reasoning_content")
    if isinstance(reasoning, str) and reasoning:
        items.append({"t": "reasoning", "text": reasoning, "id": None, "encrypted": None})
    content = message.get("content")
    if isinstance(content, str) and content:
        items.append({"t": "text", "text": content})
    elif content is not None and not isinstance(content, str):
        raise NotStorable("content is not text")
    items.extend(_chat_call(call) for call in _list(message.get("tool_calls")))
    return {"items": items, "usage": _chat_usage(body.get("usage"))}


def _chat_call(call: Json) -> Json:
    if call.get("type") == "custom":
        custom = call.get("custom") or {}
        name, value, kind = custom.get("name"), custom.get("input"), "custom"
    else:
        function = call.get("function") or {}
        name, value, kind = function.get("name"), function.get("arguments"), "function"
    return {
        "t": "call",
        "kind": kind,
        "name": _str(name, required=True),
        "namespace": None,
        "arguments": _str(value),
    }


def _chat_usage(usage: object) -> Json:
    if not isinstance(usage, dict):
        return {}
    prompt = usage.get("prompt_tokens_details") or {}
    completion = usage.get("completion_tokens_details") or {}
    return _counts(
        input_tokens=usage.get("prompt_tokens"),
        cached_input_tokens=prompt.get("cached_tokens"),
        cache_write_tokens=None,
        output_tokens=usage.get("completion_tokens"),
        reasoning_tokens=completion.get("reasoning_tokens"),
    )


def _counts(**values: object) -> Json:
    return {name: value for name, value in values.items() if type(value) is int and value >= 0}


def _list(value: object) -> list[Json]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise NotStorable("not a list of objects")
    return value


def _str(value: object, *, required: bool = False) -> str:
    if isinstance(value, str) and (value or not required):
        return value
    if value is None and not required:
        return ""
    raise NotStorable("not a string")


# ---- replaying ------------------------------------------------------------------------


def _deltas(document: Json, client_format: str, prefix: str) -> list[StreamDelta]:
    deltas: list[StreamDelta] = []
    calls = 0
    for item in document.get("items", ()):
        kind = item.get("t")
        if kind == "text" and item["text"]:
            deltas.append(TextDelta(text=item["text"]))
        elif kind == "reasoning":
            deltas.extend(_reasoning(item, client_format))
        elif kind == "call":
            tool = ToolKind.CUSTOM if item["kind"] == "custom" else ToolKind.FUNCTION
            call_id = f"call_{prefix}_{calls}"
            deltas.append(
                ToolCallStart(
                    index=calls,
                    id=call_id,
                    name=item["name"],
                    kind=tool,
                    namespace=item.get("namespace"),
                )
            )
            deltas.append(ToolCallArgs(index=calls, fragment=item["arguments"]))
            calls += 1
    deltas.append(Finish(reason=FinishReason.TOOL_CALLS if calls else FinishReason.STOP))
    usage = document.get("usage") or {}
    deltas.append(
        UsageReport(usage=Usage(**{k: v for k, v in usage.items() if k in _USAGE_FIELDS}))
    )
    return deltas


def _reasoning(item: Json, client_format: str) -> list[StreamDelta]:
    text = item.get("text") or ""
    if client_format != "responses":
        return [ReasoningDelta(text=text)] if text else []
    block = reasoning_from_item(item_id=item.get("id"), text=text, encrypted=item.get("encrypted"))
    return [ReasoningDone(reasoning=block)]


__all__ = ["NotStorable", "answer_usage", "replay_answer", "storable_answer"]
