"""Anthropic replies (a whole body, or SSE events) → ``StreamDelta`` values.

- Content-block ``index`` counts every block; ``ToolCallStart.index`` counts tool calls
  only. ``input_json_delta`` fragments pass through untouched (the leading ``""`` is
  skipped); a call that got no fragment at all gets ``"{}"``. An emulated custom tool's
  fragments are buffered and its unwrapped text sent at the block's end.
- Thinking streams as ``ReasoningDelta``; the block's end gives ``ReasoningDone`` with
  the text and the ``signature`` for the round trip; ``redacted_thinking`` gives
  ``ReasoningDone(redacted=True, signature=data)``. Server-tool blocks are skipped.
- Usage is split over ``message_start`` and ``message_delta``: the latest value of each
  field wins. Ours: input = input + cache read + cache creation; cached = cache read.
- ``max_tokens`` (and ``model_context_window_exceeded``) → LENGTH, even mid tool call
  (the cut block never gets ``content_block_stop``); ``pause_turn`` → STOP.
- ``event: error`` → ``StreamFailure``; a body that ends before ``message_stop`` →
  ``StreamFailure(PROTOCOL)`` from ``close()`` (as the OpenAI passthrough does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import orjson

from messages.chat import (
    Finish,
    FinishReason,
    Reasoning,
    ReasoningDelta,
    ReasoningDone,
    StreamDelta,
    StreamFailure,
    TextDelta,
    ToolCallArgs,
    ToolCallStart,
    ToolKind,
    UsageReport,
)
from messages.errors import ErrorInfo, ErrorKind
from messages.json import Json
from messages.usage import Usage, UsageAnomaly, note_anomaly, token_count
from providers._tool_wire import ToolTable, unwrap_custom
from providers.anthropic._errors import map_error_object
from providers.sse import SseEvent

PROVIDER = "anthropic"
_STOP_REASONS = {
    "end_turn": FinishReason.STOP,
    "stop_sequence": FinishReason.STOP,
    "pause_turn": FinishReason.STOP,
    "max_tokens": FinishReason.LENGTH,
    "model_context_window_exceeded": FinishReason.LENGTH,
    "tool_use": FinishReason.TOOL_CALLS,
    "refusal": FinishReason.CONTENT_FILTER,
}
_OBJECT_FIELDS = {  # the object each event carries; anything else there is garbage
    "message_start": "message",
    "content_block_start": "content_block",
    "content_block_delta": "delta",
    "message_delta": "delta",
}
_USAGE_FIELDS = (
    "input_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "output_tokens",
)


def finish_reason(stop_reason: Json, *, called_tool: bool) -> FinishReason:
    reason = (
        _STOP_REASONS.get(stop_reason, FinishReason.STOP)
        if isinstance(stop_reason, str)
        else FinishReason.STOP
    )
    if reason is FinishReason.STOP and called_tool:
        return FinishReason.TOOL_CALLS
    if reason is FinishReason.TOOL_CALLS and not called_tool:
        return FinishReason.STOP
    return reason


class UsageTally:
    """The latest believable value of each Anthropic usage field seen so far (every count
    range-checked by ``messages.usage.token_count``; a bad one keeps the earlier value)."""

    __slots__ = ("_fields", "anomalies")

    def __init__(self) -> None:
        self._fields: dict[str, int] = {}
        self.anomalies: list[UsageAnomaly] = []

    def update(self, usage: Json) -> bool:
        if not isinstance(usage, Mapping):
            if usage is not None:
                note_anomaly(self.anomalies, "usage", usage)
            return False
        for name in _USAGE_FIELDS:
            self._take(name, usage.get(name), name)
        details = usage.get("output_tokens_details")
        if isinstance(details, Mapping):
            thinking = details.get("thinking_tokens")
            self._take("thinking_tokens", thinking, "output_tokens_details.thinking_tokens")
        return True

    def _take(self, name: str, value: Json, field: str) -> None:
        count = token_count(value, field, self.anomalies)
        if count is not None:
            self._fields[name] = count

    def usage(self) -> Usage:
        get = self._fields.get
        cache_read = get("cache_read_input_tokens", 0)
        cache_write = get("cache_creation_input_tokens", 0)
        return Usage(
            input_tokens=get("input_tokens", 0) + cache_read + cache_write,
            cached_input_tokens=cache_read,
            cache_write_tokens=cache_write,
            output_tokens=get("output_tokens", 0),
            reasoning_tokens=get("thinking_tokens", 0),
        )

    def report(self) -> UsageReport:
        return UsageReport(usage=self.usage(), anomalies=tuple(self.anomalies))


def protocol_failure(message: str) -> StreamFailure:
    return StreamFailure(error=ErrorInfo(kind=ErrorKind.PROTOCOL, status=502, message=message))


def reasoning_done(text: str, signature: str, *, redacted: bool = False) -> ReasoningDone:
    return ReasoningDone(
        reasoning=Reasoning(
            provider=PROVIDER, text=text, signature=signature or None, redacted=redacted
        )
    )


@dataclass(slots=True)
class _Block:
    """One open content block of a stream."""

    kind: str  # "text" | "thinking" | "tool" | "custom" | "skip"
    tool_index: int = -1
    parts: list[str] = field(default_factory=list)
    signature: str = ""


class AnthropicStreamDecoder:
    """Per-stream state; ``feed`` each SSE event, then ``close`` at the end of the body."""

    __slots__ = ("_blocks", "_done", "_finished", "_tool_count", "_tools", "_usage")

    def __init__(self, tools: ToolTable) -> None:
        self._tools = tools
        self._blocks: dict[int, _Block] = {}
        self._tool_count = 0
        self._usage = UsageTally()
        self._finished = False
        self._done = False

    def feed(self, event: SseEvent) -> list[StreamDelta]:
        if self._done:
            return []
        try:
            data: Json = orjson.loads(event.data)
        except orjson.JSONDecodeError:
            self._done = True
            return [protocol_failure(f"unreadable anthropic event: {event.data[:200]!r}")]
        if not isinstance(data, Mapping):
            self._done = True
            return [protocol_failure("an anthropic event that is not a JSON object")]
        kind = data.get("type", event.event)
        if not isinstance(kind, str) or (handler := _HANDLERS.get(kind)) is None:
            return []
        field = _OBJECT_FIELDS.get(kind)
        if field is not None and not isinstance(data.get(field), Mapping):
            self._done = True
            return [protocol_failure(f"an anthropic {kind} event without its {field} object")]
        return handler(self, data)

    def close(self) -> list[StreamDelta]:
        if self._done:
            return []
        self._done = True
        return [protocol_failure("anthropic stream ended before message_stop")]

    def _message_start(self, data: Mapping[str, Json]) -> list[StreamDelta]:
        message = data.get("message")
        usage = message.get("usage") if isinstance(message, Mapping) else None
        return [self._usage.report()] if self._usage.update(usage) else []

    def _block_start(self, data: Mapping[str, Json]) -> list[StreamDelta]:
        index, block = data.get("index"), data.get("content_block")
        if not isinstance(index, int) or not isinstance(block, Mapping):
            return []
        block_type = block.get("type")
        if block_type == "text":
            self._blocks[index] = _Block(kind="text")
            text = block.get("text")
            return [TextDelta(text=text)] if isinstance(text, str) and text else []
        if block_type == "thinking":
            return self._thinking_start(index, block)
        if block_type == "redacted_thinking":
            self._blocks[index] = _Block(kind="skip")
            data_field = block.get("data")
            return [
                reasoning_done("", data_field if isinstance(data_field, str) else "", redacted=True)
            ]
        if block_type == "tool_use":
            return self._tool_start(index, block)
        self._blocks[index] = _Block(kind="skip")
        return []

    def _thinking_start(self, index: int, block: Mapping[str, Json]) -> list[StreamDelta]:
        text, signature = block.get("thinking"), block.get("signature")
        opened = _Block(kind="thinking", signature=signature if isinstance(signature, str) else "")
        self._blocks[index] = opened
        if isinstance(text, str) and text:
            opened.parts.append(text)
            return [ReasoningDelta(text=text)]
        return []

    def _tool_start(self, index: int, block: Mapping[str, Json]) -> list[StreamDelta]:
        name, call_id = block.get("name"), block.get("id")
        tool = self._tools.resolve(name if isinstance(name, str) else "")
        custom = tool.kind is ToolKind.CUSTOM
        self._blocks[index] = _Block(
            kind="custom" if custom else "tool", tool_index=self._tool_count
        )
        self._tool_count += 1
        start = ToolCallStart(
            index=self._tool_count - 1,
            id=call_id if isinstance(call_id, str) else "",
            name=tool.name,
            kind=tool.kind,
            namespace=tool.namespace,
        )
        return [start]

    def _block_delta(self, data: Mapping[str, Json]) -> list[StreamDelta]:
        index, delta = data.get("index"), data.get("delta")
        block = self._blocks.get(index) if isinstance(index, int) else None
        if block is None or not isinstance(delta, Mapping):
            return []
        delta_type = delta.get("type")
        if delta_type == "text_delta" and block.kind == "text":
            text = delta.get("text")
            return [TextDelta(text=text)] if isinstance(text, str) and text else []
        if delta_type == "thinking_delta" and block.kind == "thinking":
            text = delta.get("thinking")
            if isinstance(text, str) and text:
                block.parts.append(text)
                return [ReasoningDelta(text=text)]
        elif delta_type == "signature_delta" and block.kind == "thinking":
            signature = delta.get("signature")
            block.signature += signature if isinstance(signature, str) else ""
        elif delta_type == "input_json_delta" and block.kind in ("tool", "custom"):
            fragment = delta.get("partial_json")
            if isinstance(fragment, str) and fragment:
                block.parts.append(fragment)
                if block.kind == "tool":
                    return [ToolCallArgs(index=block.tool_index, fragment=fragment)]
        return []

    def _block_stop(self, data: Mapping[str, Json]) -> list[StreamDelta]:
        index = data.get("index")
        block = self._blocks.pop(index, None) if isinstance(index, int) else None
        return _close_block(block, complete=True) if block is not None else []

    def _message_delta(self, data: Mapping[str, Json]) -> list[StreamDelta]:
        out: list[StreamDelta] = []
        delta = data.get("delta")
        stop_reason = delta.get("stop_reason") if isinstance(delta, Mapping) else None
        if stop_reason is not None and not self._finished:
            for block in self._blocks.values():
                out.extend(_close_block(block, complete=False))
            self._blocks.clear()
            self._finished = True
            out.append(Finish(reason=finish_reason(stop_reason, called_tool=self._tool_count > 0)))
        if self._usage.update(data.get("usage")):
            out.append(self._usage.report())
        return out

    def _message_stop(self, data: Mapping[str, Json]) -> list[StreamDelta]:
        self._done = True
        if self._finished:
            return []
        self._finished = True
        return [Finish(reason=finish_reason(None, called_tool=self._tool_count > 0))]

    def _error(self, data: Mapping[str, Json]) -> list[StreamDelta]:
        self._done = True
        return [StreamFailure(error=map_error_object(data.get("error")))]


def _close_block(block: _Block, *, complete: bool) -> list[StreamDelta]:
    """What a block's end adds; a block cut by ``max_tokens`` (not complete) adds less."""
    if block.kind == "thinking":
        return [reasoning_done("".join(block.parts), block.signature)]
    if block.kind == "tool" and not block.parts:
        return [ToolCallArgs(index=block.tool_index, fragment="{}")]
    if block.kind == "custom" and complete:
        text = unwrap_custom("".join(block.parts)) if block.parts else ""
        return [ToolCallArgs(index=block.tool_index, fragment=text)] if text else []
    return []


def parse_message(body: bytes, tools: ToolTable) -> list[StreamDelta]:
    """A whole ``{"type": "message", …}`` body as the deltas its stream would have given."""
    try:
        document: Json = orjson.loads(body)
    except orjson.JSONDecodeError:
        return [protocol_failure(f"unreadable anthropic body: {body[:200]!r}")]
    if not isinstance(document, Mapping):
        return [protocol_failure("anthropic body is not a JSON object")]
    if document.get("type") == "error":
        return [StreamFailure(error=map_error_object(document.get("error")))]
    content = document.get("content")
    if not isinstance(content, list):
        return [protocol_failure("anthropic body without its content list")]
    out: list[StreamDelta] = []
    tool_count = 0
    for block in content:
        if isinstance(block, Mapping):
            deltas = _whole_block(block, tool_count, tools)
            tool_count += sum(isinstance(delta, ToolCallStart) for delta in deltas)
            out.extend(deltas)
    reason = finish_reason(document.get("stop_reason"), called_tool=tool_count > 0)
    out.append(Finish(reason=reason))
    tally = UsageTally()
    if tally.update(document.get("usage")):
        out.append(tally.report())
    return out


def _whole_block(block: Mapping[str, Json], tool_index: int, tools: ToolTable) -> list[StreamDelta]:
    block_type = block.get("type")
    if block_type == "text":
        text = block.get("text")
        return [TextDelta(text=text)] if isinstance(text, str) and text else []
    if block_type == "thinking":
        text, signature = _str(block.get("thinking")), _str(block.get("signature"))
        readable: list[StreamDelta] = [ReasoningDelta(text=text)] if text else []
        return [*readable, reasoning_done(text, signature)]
    if block_type == "redacted_thinking":
        return [reasoning_done("", _str(block.get("data")), redacted=True)]
    if block_type != "tool_use":
        return []
    tool = tools.resolve(_str(block.get("name")))
    arguments = block.get("input")
    if tool.kind is ToolKind.CUSTOM:
        fragment = unwrap_custom(arguments if arguments is not None else {})
    else:
        fragment = orjson.dumps(arguments if arguments is not None else {}).decode()
    start = ToolCallStart(
        index=tool_index,
        id=_str(block.get("id")),
        name=tool.name,
        kind=tool.kind,
        namespace=tool.namespace,
    )
    return [start, ToolCallArgs(index=tool_index, fragment=fragment)] if fragment else [start]


def _str(value: Json) -> str:
    return value if isinstance(value, str) else ""


_HANDLERS = {
    "message_start": AnthropicStreamDecoder._message_start,
    "content_block_start": AnthropicStreamDecoder._block_start,
    "content_block_delta": AnthropicStreamDecoder._block_delta,
    "content_block_stop": AnthropicStreamDecoder._block_stop,
    "message_delta": AnthropicStreamDecoder._message_delta,
    "message_stop": AnthropicStreamDecoder._message_stop,
    "error": AnthropicStreamDecoder._error,
}

__all__ = [
    "AnthropicStreamDecoder",
    "UsageTally",
    "finish_reason",
    "parse_message",
    "protocol_failure",
]
