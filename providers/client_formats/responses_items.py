"""The JSON shapes of a Responses reply: output items, usage and failure codes.

Plain builders for ``responses_encoder``; each returns a fresh dict ready for orjson.
"""

from __future__ import annotations

import orjson

from messages.chat import ToolCallStart
from messages.errors import ErrorInfo, ErrorKind, client_message
from messages.usage import Usage

Json = dict[str, object]

_CODES = {
    ErrorKind.RATE_LIMITED: "rate_limit_exceeded",
    ErrorKind.CONTEXT_TOO_LONG: "context_length_exceeded",
    ErrorKind.QUOTA_EXHAUSTED: "insufficient_quota",
    ErrorKind.BUDGET_EXCEEDED: "insufficient_quota",
}
_DELTA_TYPES = {
    "message": "response.output_text.delta",
    "reasoning": "response.reasoning_summary_text.delta",
    "function_call": "response.function_call_arguments.delta",
    "custom_tool_call": "response.custom_tool_call_input.delta",
}


class OpenItem:
    """An output item being streamed; ``delta_prefix`` is its delta event up to the number."""

    __slots__ = ("call", "delta_prefix", "id", "kind", "output_index", "parts")

    def __init__(self, *, kind: str, item_id: str, output_index: int) -> None:
        self.kind = kind
        self.id = item_id
        self.output_index = output_index
        self.parts: list[str] = []
        self.call: ToolCallStart | None = None
        extra = b',"content_index":0,"logprobs":[]' if kind == "message" else b""
        extra += b',"summary_index":0' if kind == "reasoning" else b""
        event = _DELTA_TYPES[kind].encode()
        self.delta_prefix = b"".join(
            (
                b"event: " + event + b'\ndata: {"type":"' + event + b'","item_id":',
                orjson.dumps(item_id),
                b',"output_index":' + str(output_index).encode() + extra,
                b',"sequence_number":',
            )
        )

    def where(self) -> Json:
        """The ``item_id`` / ``output_index`` pair every item event carries."""
        return {"item_id": self.id, "output_index": self.output_index}


def codex_error(error: ErrorInfo) -> tuple[str, str]:
    """``(code, message)`` for ``response.failed``, in the codes Codex acts on.

    ``context_length_exceeded`` and ``insufficient_quota`` stop Codex; everything else is
    retried, after exactly N seconds when a ``rate_limit_exceeded`` message says
    "try again in Ns".
    """
    code = _CODES.get(error.kind, "server_error")
    message = client_message(error)
    if error.kind is ErrorKind.RATE_LIMITED and error.retry_after is not None:
        seconds = f"{error.retry_after:.3f}".rstrip("0").rstrip(".")
        message = f"{message.rstrip('.')}. Please try again in {seconds}s."
    return code, message


def output_text(text: str) -> Json:
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}


def message_item(item: OpenItem, text: str, status: str) -> Json:
    content = [output_text(text)] if status != "in_progress" else []
    return {
        "id": item.id,
        "type": "message",
        "status": status,
        "content": content,
        "role": "assistant",
    }


def summary_part(item: OpenItem, text: str) -> Json:
    return {**item.where(), "summary_index": 0, "part": {"type": "summary_text", "text": text}}


def reasoning_item(item_id: str, text: str, encrypted: str | None) -> Json:
    summary = [{"type": "summary_text", "text": text}] if text else []
    return {"id": item_id, "type": "reasoning", "summary": summary, "encrypted_content": encrypted}


def call_item(item: OpenItem, value: str, status: str) -> Json:
    """A ``function_call`` (``arguments``) or ``custom_tool_call`` (``input``) item."""
    call = item.call
    assert call is not None, "a call item is always opened from a ToolCallStart"
    fields: Json = {
        "id": item.id,
        "type": item.kind,
        "status": status,
        "call_id": call.id,
        "name": call.name,
    }
    fields["input" if item.kind == "custom_tool_call" else "arguments"] = value
    if call.namespace is not None:
        fields["namespace"] = call.namespace
    return fields


def usage_json(usage: Usage) -> Json:
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {
            "cached_tokens": usage.cached_input_tokens,
            "cache_write_tokens": usage.cache_write_tokens,
        },
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.total_tokens,
    }


__all__ = [
    "Json",
    "OpenItem",
    "call_item",
    "codex_error",
    "message_item",
    "output_text",
    "reasoning_item",
    "summary_part",
    "usage_json",
]
