"""Google Gemini (generativelanguage v1beta): a ``Reply`` as ``generateContent`` bytes.

Routes: ``POST …/models/{model}:generateContent`` (one JSON body) and
``POST …/models/{model}:streamGenerateContent`` (served as ``alt=sse``).

Stream grammar (as in ``recordings/gemini/*.chunks.jsonl``): ``data: <json>`` events
framed with ``\\r\\n\\r\\n``, no event names, no ``[DONE]``; each data is a whole
``GenerateContentResponse`` (``candidates[0].content {role:"model", parts}``, ``index``,
``modelVersion``, ``responseId``) holding only the new parts. ``Text`` → one chunk per
word; ``Reasoning`` → one chunk with a thought part (``thought: true``); consecutive
``FunctionCall``/``CustomToolCall`` items → one chunk with whole ``functionCall {name,
args}`` parts (no ``id`` unless the script set ``call_id``; a custom call's args are
``{"input": text}``, the gateway's emulation). As Gemini 3 does, the first call carries
a ``thoughtSignature`` (the last ``Reasoning.encrypted_content``, else a minted one);
without calls, a reasoning signature rides on the final part. The last chunk is an
empty text part with ``finishReason`` and the only ``usageMetadata``.

``finish="length"``: ``MAX_TOKENS``; the last item is cut half-way, and a cut function
call is not sent at all (Gemini sends calls whole). ``failed_event`` replaces the last
chunk with ``data: {"error": {code, message, status}}``; non-streamed it is that error
with its HTTP status. Error bodies are google.rpc: 429 carries a ``QuotaFailure``
(per-minute; per-day for ``error_code="insufficient_quota"``) and, with
``retry_after``, a ``RetryInfo`` ``retryDelay`` of ``"<retry_after>s"``.
Usage: ``promptTokenCount`` includes the cached part; thoughts are outside
``candidatesTokenCount``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator, Mapping, Sequence

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
from fakes.wire import Answer, JsonBody, WireContext, cut_in_half, split_text

Part = dict[str, object]
_ROUTE = re.compile(r"/models/([^/:]+):(generateContent|streamGenerateContent)$")
RPC_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_MESSAGES = {
    400: "Request contains an invalid argument.",
    401: "Request had invalid authentication credentials.",
    403: "The caller does not have permission",
    404: "models/unknown is not found for API version v1beta.",
    429: "You exceeded your current quota, please check your plan and billing details.",
    500: "An internal error has occurred. Please retry or report in the troubleshooting guide.",
    503: "The model is overloaded. Please try again later.",
    504: "Deadline expired before operation could complete.",
}
_FAILURE_STATUS = {
    "server_error": 500,
    "api_error": 500,
    "overloaded": 503,
    "overloaded_error": 503,
    "rate_limit_exceeded": 429,
}
_QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure"


# ---- replies ------------------------------------------------------------------------


def _items(reply: Reply) -> list[Item]:
    """The items Gemini would send: a length cut halves the last one, or drops a call."""
    items = list(reply.items)
    if reply.finish != "length" or not items:
        return items
    last = items.pop()
    match last:
        case Text(text=text):
            items.append(Text(text=cut_in_half(text)))
        case Reasoning(summary=summary):
            items.append(Reasoning(summary=cut_in_half(summary)))
    return items


def _signature(reply_items: Sequence[Item], ctx: WireContext) -> str | None:
    """The signature of the reply: the last reasoning's, minted when a call needs one."""
    reasoning = [item for item in reply_items if isinstance(item, Reasoning)]
    if reasoning and reasoning[-1].encrypted_content:
        return reasoning[-1].encrypted_content
    if reasoning or any(isinstance(item, FunctionCall | CustomToolCall) for item in reply_items):
        return base64.b64encode(f"fake-signature-{ctx.token}".encode()).decode()
    return None


def _call_part(item: FunctionCall | CustomToolCall) -> Part:
    if isinstance(item, CustomToolCall):
        args: object = {"input": item.input}
    else:
        args = _json_object(item.arguments)
    call: dict[str, object] = {"name": item.name, "args": args}
    if item.call_id is not None:
        call["id"] = item.call_id
    return {"functionCall": call}


def _json_object(arguments: str) -> object:
    """Scripted arguments as the object Gemini sends (bad JSON kept under ``arguments``)."""
    if not arguments.strip():
        return {}
    try:
        parsed = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        return {"arguments": arguments}
    return parsed if isinstance(parsed, dict) else {"arguments": parsed}


def _chunks(items: Sequence[Item], signature: str | None) -> Iterator[list[Part]]:
    """Parts per stream chunk; the signature goes on the first call."""
    calls: list[Part] = []
    for item in items:
        if isinstance(item, FunctionCall | CustomToolCall):
            part = _call_part(item)
            if signature is not None:
                part["thoughtSignature"] = signature
                signature = None
            calls.append(part)
            continue
        if calls:
            yield calls
            calls = []
        if isinstance(item, Reasoning):
            yield [{"text": item.summary, "thought": True}]
        elif isinstance(item, Text):
            for piece in split_text(item.text):
                text_part: Part = {"text": piece}
                yield [text_part]
    if calls:
        yield calls


def _final_part(items: Sequence[Item], signature: str | None) -> Part:
    calls = any(isinstance(item, FunctionCall | CustomToolCall) for item in items)
    part: Part = {"text": ""}
    if signature is not None and not calls:
        part["thoughtSignature"] = signature
    return part


def gemini_usage(usage: FakeUsage) -> dict[str, object]:
    metadata: dict[str, object] = {
        "promptTokenCount": usage.input_tokens,
        "candidatesTokenCount": usage.output_tokens - usage.reasoning_tokens,
        "totalTokenCount": usage.total_tokens,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": usage.input_tokens}],
    }
    if usage.cached_tokens:
        metadata["cachedContentTokenCount"] = usage.cached_tokens
    if usage.reasoning_tokens:
        metadata["thoughtsTokenCount"] = usage.reasoning_tokens
    return metadata


def _response(
    ctx: WireContext, parts: list[Part], *, finish: str | None = None, usage: bool = False
) -> dict[str, object]:
    candidate: dict[str, object] = {"content": {"parts": parts, "role": "model"}}
    if finish is not None:
        candidate["finishReason"] = finish
    candidate["index"] = 0
    response: dict[str, object] = {"candidates": [candidate]}
    if usage:
        response["usageMetadata"] = gemini_usage(ctx.usage)
    response["modelVersion"] = ctx.model
    response["responseId"] = ctx.token
    return response


def finish_reason(reply: Reply) -> str:
    return "MAX_TOKENS" if reply.finish == "length" else "STOP"


def sse_data(document: object) -> bytes:
    return b"data: " + orjson.dumps(document) + b"\r\n\r\n"


def gemini_stream(
    reply: Reply, ctx: WireContext, *, failure: tuple[str, str] | None = None
) -> list[bytes]:
    """The ``alt=sse`` stream of ``reply``, one ``bytes`` per event."""
    items = _items(reply)
    signature = _signature(reply.items, ctx)
    events = [sse_data(_response(ctx, parts)) for parts in _chunks(items, signature)]
    if failure is not None:
        _, error = _failure_error(failure)
        return [*events, sse_data({"error": error})]
    final = _final_part(items, signature)
    events.append(sse_data(_response(ctx, [final], finish=finish_reason(reply), usage=True)))
    return events


def gemini_answer(
    reply: Reply, ctx: WireContext, *, failure: tuple[str, str] | None = None
) -> Answer:
    """The non-streamed body of ``reply`` (or the error answer of ``failure``)."""
    if failure is not None:
        status, error = _failure_error(failure)
        return Answer(status=status, body=orjson.dumps({"error": error}))
    items = _items(reply)
    signature = _signature(reply.items, ctx)
    parts = _merge_text([part for parts in _chunks(items, signature) for part in parts])
    final = _final_part(items, signature)
    if "thoughtSignature" in final:
        texts = [part for part in parts if "text" in part and not part.get("thought")]
        if texts:
            texts[-1]["thoughtSignature"] = final["thoughtSignature"]
        else:
            parts.append(final)
    body = _response(ctx, parts, finish=finish_reason(reply), usage=True)
    return Answer(status=200, body=orjson.dumps(body))


def _merge_text(parts: list[Part]) -> list[Part]:
    """Consecutive plain text parts joined, as a non-streamed reply has them."""
    merged: list[Part] = []
    for part in parts:
        plain = set(part) == {"text"}
        if plain and merged and set(merged[-1]) == {"text"}:
            merged[-1] = {"text": f"{merged[-1]['text']}{part['text']}"}
        else:
            merged.append(dict(part))
    return merged


# ---- errors -------------------------------------------------------------------------


def _failure_error(failure: tuple[str, str]) -> tuple[int, dict[str, object]]:
    code, message = failure
    status = _FAILURE_STATUS.get(code, 500)
    rpc = code if code in RPC_STATUS.values() else RPC_STATUS[status]
    return status, {"code": status, "message": message, "status": rpc}


def error_body(status: int, fault: Fault) -> bytes:
    """``{"error": {code, message, status, details}}``, defaults per HTTP status."""
    default_rpc = "INTERNAL" if status >= 500 else "INVALID_ARGUMENT"
    neutral = fault.error_code
    rpc = RPC_STATUS.get(status, default_rpc)
    if neutral is not None and neutral.isupper():
        rpc = neutral
    message = fault.error_message or _MESSAGES.get(status, f"HTTP {status}")
    details: list[dict[str, object]] = []
    if neutral == "context_length_exceeded" and fault.error_message is None:
        message = (
            "The input token count (1200293) exceeds the maximum number of tokens allowed "
            "(1048576)."
        )
    if neutral == "invalid_api_key":
        message = fault.error_message or "API key not valid. Please pass a valid API key."
        details.append(
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
            }
        )
    if status == 429:
        details.extend(_quota_details(fault, per_day=neutral == "insufficient_quota"))
    error: dict[str, object] = {"code": status, "message": message, "status": rpc}
    if details:
        error["details"] = details
    return orjson.dumps({"error": error})


def _quota_details(fault: Fault, *, per_day: bool) -> list[dict[str, object]]:
    window = "PerDay" if per_day else "PerMinute"
    violation = {
        "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
        "quotaId": f"GenerateRequests{window}PerProjectPerModel-FreeTier",
        "quotaValue": "50" if per_day else "10",
    }
    details: list[dict[str, object]] = [{"@type": _QUOTA_FAILURE, "violations": [violation]}]
    if fault.retry_after is not None:
        details.append(
            {
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": f"{fault.retry_after}s",
            }
        )
    return details


# ---- reading a request ----------------------------------------------------------------


def _as_list(value: object) -> list[Mapping[str, object]]:
    """Gemini accepts one object where a list is expected (``contents``, ``parts``)."""
    values = value if isinstance(value, list) else [value]
    return [item for item in values if isinstance(item, Mapping)]


def _text(parts: Sequence[Mapping[str, object]]) -> str:
    return "".join(
        str(p["text"]) for p in parts if isinstance(p.get("text"), str) and not p.get("thought")
    )


def _tool_output(response: object) -> str:
    if isinstance(response, Mapping):
        for key in ("result", "output", "content"):
            if isinstance(response.get(key), str):
                return str(response[key])
    return orjson.dumps(response).decode()


def read_conversation(body: JsonBody) -> Conversation:
    """Tool names offered, the last user text, and the last content's tool result if any."""
    names: set[str] = set()
    for tool in _as_list(body.get("tools")):
        declarations = tool.get("functionDeclarations", tool.get("function_declarations"))
        names.update(str(d.get("name")) for d in _as_list(declarations) if d.get("name"))
    contents = _as_list(body.get("contents"))
    user_parts = [_as_list(c.get("parts")) for c in contents if c.get("role", "user") == "user"]
    last_user_text = next((text for parts in reversed(user_parts) if (text := _text(parts))), "")
    tool_output = None
    if contents:
        last_parts = _as_list(contents[-1].get("parts"))
        responses = [p["functionResponse"] for p in last_parts if "functionResponse" in p]
        if responses and isinstance(responses[-1], Mapping):
            tool_output = _tool_output(responses[-1].get("response"))
    return Conversation(
        last_user_text=last_user_text, last_tool_output=tool_output, tool_names=frozenset(names)
    )


class GeminiFormat:
    """Gemini ``generateContent`` / ``streamGenerateContent`` under any prefix."""

    name = "gemini"

    def matches(self, method: str, path: str) -> bool:
        return method == "POST" and _ROUTE.search(path) is not None

    def wants_stream(self, path: str, body: JsonBody) -> bool:
        return path.endswith(":streamGenerateContent")

    def requested_model(self, path: str, body: JsonBody) -> str:
        found = _ROUTE.search(path)
        return "unknown" if found is None else found.group(1)

    def conversation(self, body: JsonBody) -> Conversation:
        return read_conversation(body)

    def stream_events(
        self, reply: Reply, ctx: WireContext, *, failure: tuple[str, str] | None
    ) -> Sequence[bytes]:
        return gemini_stream(reply, ctx, failure=failure)

    def complete_answer(
        self, reply: Reply, ctx: WireContext, *, failure: tuple[str, str] | None
    ) -> Answer:
        return gemini_answer(reply, ctx, failure=failure)

    def error_body(self, status: int, fault: Fault) -> bytes:
        return error_body(status, fault)


GEMINI = GeminiFormat()
