"""Cohere v2 replies (a whole body, or SSE events) → ``StreamDelta`` values.

Stream grammar: ``message-start`` → [``tool-plan-delta``*] → (``content-start`` →
``content-delta``* → ``content-end``)* → (``tool-call-start`` → ``tool-call-delta``* →
``tool-call-end``)* → [``citation-start``/``-end``] → ``message-end`` (``finish_reason``,
``usage``, ``error``). ``tool_calls`` in a delta is one object, not a list. Events are
recognised by the data's ``type`` (the ``event:`` line names the same); ``debug`` and
citations are ignored, and so is a trailing ``[DONE]``.

- The tool plan (``tool-plan-delta``, or ``message.tool_plan``) is the model's reasoning
  before it calls tools: it streams as ``ReasoningDelta`` — shown as reasoning, not mixed
  into the answer — and is closed by ``ReasoningDone(Reasoning(provider="cohere",
  signature="tool_plan"))`` so it can go back as the turn's ``tool_plan``. ``thinking``
  content streams the same way and is closed (signature ``None``) at ``content-end``.
- Tool calls: ``ToolCallStart.index`` counts calls; fragments pass through; a call with
  no arguments gets ``"{}"`` at ``tool-call-end``; an emulated custom tool is buffered and
  sent unwrapped at its end (not at all if ``MAX_TOKENS`` cut it).
- ``finish_reason``: ``COMPLETE``/``STOP_SEQUENCE`` → STOP (TOOL_CALLS when a tool was
  called), ``MAX_TOKENS`` → LENGTH (even mid tool call), ``TOOL_CALL`` → TOOL_CALLS;
  ``ERROR`` → ``StreamFailure`` (UPSTREAM_ERROR, with ``delta.error``), ``TIMEOUT`` →
  ``StreamFailure`` (TIMEOUT).
- Usage: billed on ``billed_units`` (``tokens`` counts Cohere's hidden prompt template
  too); ``cached_tokens`` counts cache hits on that raw prompt, so it is capped at the
  billed input to keep cached ⊂ input. No reasoning-token count is given.
- A body that ends before ``message-end`` → ``StreamFailure(PROTOCOL)`` from ``close()``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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
from providers.cohere._request import PROVIDER, TOOL_PLAN
from providers.sse import SseEvent

_FINISH = {
    "COMPLETE": FinishReason.STOP,
    "STOP_SEQUENCE": FinishReason.STOP,
    "MAX_TOKENS": FinishReason.LENGTH,
    "TOOL_CALL": FinishReason.TOOL_CALLS,
}
_FAILED = {
    "ERROR": (ErrorKind.UPSTREAM_ERROR, 502),
    "TIMEOUT": (ErrorKind.TIMEOUT, 504),
}


@dataclass(slots=True)
class _Call:
    index: int
    buffered: bool
    parts: list[str] = field(default_factory=list)
    ended: bool = False


def cohere_usage(usage: Json) -> UsageReport | None:
    """Cohere's ``usage`` (billed units, else raw tokens), every count range-checked."""
    anomalies: list[UsageAnomaly] = []
    if not isinstance(usage, Mapping):
        if usage is None:
            return None
        note_anomaly(anomalies, "usage", usage)
        return UsageReport(usage=Usage(), anomalies=tuple(anomalies))
    billed, raw = _get(usage, "billed_units"), _get(usage, "tokens")
    source, prefix = (billed, "billed_units") if isinstance(billed, Mapping) else (raw, "tokens")
    input_tokens = _count(_get(source, "input_tokens"), f"{prefix}.input_tokens", anomalies)
    output_tokens = _count(_get(source, "output_tokens"), f"{prefix}.output_tokens", anomalies)
    cached = min(_count(usage.get("cached_tokens"), "cached_tokens", anomalies), input_tokens)
    counted = Usage(
        input_tokens=input_tokens, cached_input_tokens=cached, output_tokens=output_tokens
    )
    return UsageReport(usage=counted, anomalies=tuple(anomalies))


def protocol_failure(message: str) -> StreamFailure:
    return StreamFailure(error=ErrorInfo(kind=ErrorKind.PROTOCOL, status=502, message=message))


class CohereStreamDecoder:
    """One Cohere reply's decoding state (also used for a whole body)."""

    __slots__ = ("_blocks", "_calls", "_done", "_plan", "_thinking", "_tools")

    def __init__(self, tools: ToolTable) -> None:
        self._tools = tools
        self._blocks: dict[int, str] = {}  # content index → "text" | "thinking"
        self._calls: dict[int, _Call] = {}  # Cohere's tool-call index → our call
        self._thinking: list[str] | None = None
        self._plan: list[str] | None = None
        self._done = False

    def feed(self, event: SseEvent) -> Sequence[StreamDelta]:
        data = event.data.strip()
        if self._done or not data or data == "[DONE]":
            return []
        try:
            document: Json = orjson.loads(data)
        except orjson.JSONDecodeError:
            self._done = True
            return [protocol_failure(f"unreadable cohere event: {data[:200]!r}")]
        if not isinstance(document, Mapping):
            self._done = True
            return [protocol_failure("a cohere event that is not a JSON object")]
        kind = document.get("type") or event.event
        if not isinstance(document.get("delta"), Mapping | None):
            self._done = True
            return [protocol_failure(f"a cohere {kind} event whose delta is not an object")]
        handler = _HANDLERS.get(kind) if isinstance(kind, str) else None
        return handler(self, document) if handler is not None else []

    def close(self) -> Sequence[StreamDelta]:
        if self._done:
            return []
        self._done = True
        return [protocol_failure("the cohere stream ended before message-end")]

    def whole(self, document: Mapping[str, Json]) -> list[StreamDelta]:
        """A non-streamed ``/chat`` body, as the deltas its stream would have given."""
        message = _get(document, "message")
        if not isinstance(message, Mapping):
            return [protocol_failure("the cohere body has no message object")]
        content = _get(message, "content")
        out: list[StreamDelta] = []
        for block in content if isinstance(content, list) else []:
            out.extend(self._whole_block(block))
        plan = _get(message, "tool_plan")
        if isinstance(plan, str) and plan:
            out.extend([*self._think_plan(plan), *self._close_reasoning()])
        calls = _get(message, "tool_calls")
        for position, call in enumerate(calls if isinstance(calls, list) else []):
            event: dict[str, Json] = {"index": position, "delta": {"message": {"tool_calls": call}}}
            out.extend([*self._tool_start(event), *self._tool_end(event)])
        out.extend(self._message_end({"delta": document}))
        return out

    def _whole_block(self, block: Json) -> list[StreamDelta]:
        kind = _get(block, "type")
        text = _get(block, kind if isinstance(kind, str) else "text")
        if not isinstance(text, str) or not text:
            return []
        if kind == "thinking":
            return [*self._think(text), *self._close_reasoning()]
        return self._say(text) if kind == "text" else []

    # --- events ----------------------------------------------------------------------

    def _content_start(self, data: Mapping[str, Json]) -> list[StreamDelta]:
        index, content = data.get("index"), _content(data)
        kind = "thinking" if _get(content, "type") == "thinking" else "text"
        if isinstance(index, int):
            self._blocks[index] = kind
        return self._content_delta(data)

    def _content_delta(self, data: Mapping[str, Json]) -> list[StreamDelta]:
        content = _content(data)
        thinking, text = _get(content, "thinking"), _get(content, "text")
        if isinstance(thinking, str) and thinking:
            return self._think(thinking)
        return self._say(text) if isinstance(text, str) and text else []

    def _content_end(self, data: Mapping[str, Json]) -> list[StreamDelta]:
        index = data.get("index")
        kind = self._blocks.pop(index, None) if isinstance(index, int) else None
        return self._close_reasoning() if kind == "thinking" else []

    def _plan_delta(self, data: Mapping[str, Json]) -> list[StreamDelta]:
        plan = _get(_get(data.get("delta"), "message"), "tool_plan")
        return self._think_plan(plan) if isinstance(plan, str) and plan else []

    def _tool_start(self, data: Mapping[str, Json]) -> list[StreamDelta]:
        out = self._close_reasoning()
        call = _tool_calls(data)
        name, call_id = _get(_get(call, "function"), "name"), _get(call, "id")
        tool = self._tools.resolve(name if isinstance(name, str) else "")
        index = len(self._calls)
        self._calls[_index(data, index)] = _Call(index=index, buffered=tool.kind is ToolKind.CUSTOM)
        out.append(
            ToolCallStart(
                index=index,
                id=call_id if isinstance(call_id, str) and call_id else f"call_{index}",
                name=tool.name,
                kind=tool.kind,
                namespace=tool.namespace,
            )
        )
        return out + self._tool_delta(data)

    def _tool_delta(self, data: Mapping[str, Json]) -> list[StreamDelta]:
        call = self._calls.get(_index(data, len(self._calls) - 1))
        fragment = _get(_get(_tool_calls(data), "function"), "arguments")
        if call is None or call.ended or not isinstance(fragment, str) or not fragment:
            return []
        call.parts.append(fragment)
        return [] if call.buffered else [ToolCallArgs(index=call.index, fragment=fragment)]

    def _tool_end(self, data: Mapping[str, Json]) -> list[StreamDelta]:
        call = self._calls.get(_index(data, len(self._calls) - 1))
        if call is None or call.ended:
            return []
        call.ended = True
        return _close_call(call, complete=True)

    def _message_end(self, data: Mapping[str, Json]) -> list[StreamDelta]:
        self._done = True
        delta = _get(data, "delta")
        raw = _get(delta, "finish_reason")
        out = self._close_reasoning()
        usage = cohere_usage(_get(delta, "usage"))
        report: list[StreamDelta] = [] if usage is None else [usage]
        if isinstance(raw, str) and raw in _FAILED:
            kind, status = _FAILED[raw]
            error = _get(delta, "error")
            message = error if isinstance(error, str) and error else f"cohere finished: {raw}"
            failure = StreamFailure(error=ErrorInfo(kind=kind, status=status, message=message))
            return [*out, *report, failure]
        reason = _finish_reason(raw, called_tool=bool(self._calls))
        for call in self._calls.values():
            if not call.ended:
                out.extend(_close_call(call, complete=reason is not FinishReason.LENGTH))
        return [*out, Finish(reason=reason), *report]

    # --- text and reasoning ------------------------------------------------------------

    def _say(self, text: str) -> list[StreamDelta]:
        return [*self._close_reasoning(), TextDelta(text=text)]

    def _think(self, text: str) -> list[StreamDelta]:
        out = self._close_plan()
        if self._thinking is None:
            self._thinking = []
        self._thinking.append(text)
        return [*out, ReasoningDelta(text=text)]

    def _think_plan(self, text: str) -> list[StreamDelta]:
        out = self._close_thinking()
        if self._plan is None:
            self._plan = []
        self._plan.append(text)
        return [*out, ReasoningDelta(text=text)]

    def _close_reasoning(self) -> list[StreamDelta]:
        return [*self._close_thinking(), *self._close_plan()]

    def _close_thinking(self) -> list[StreamDelta]:
        if self._thinking is None:
            return []
        text, self._thinking = "".join(self._thinking), None
        return [ReasoningDone(reasoning=Reasoning(provider=PROVIDER, text=text))]

    def _close_plan(self) -> list[StreamDelta]:
        if self._plan is None:
            return []
        text, self._plan = "".join(self._plan), None
        plan = Reasoning(provider=PROVIDER, text=text, signature=TOOL_PLAN)
        return [ReasoningDone(reasoning=plan)]


def _close_call(call: _Call, *, complete: bool) -> list[StreamDelta]:
    if call.buffered:
        text = unwrap_custom("".join(call.parts)) if complete and call.parts else ""
        return [ToolCallArgs(index=call.index, fragment=text)] if text else []
    return [] if call.parts else [ToolCallArgs(index=call.index, fragment="{}")]


def _finish_reason(raw: Json, *, called_tool: bool) -> FinishReason:
    reason = _FINISH.get(raw, FinishReason.STOP) if isinstance(raw, str) else FinishReason.STOP
    if reason is FinishReason.STOP and called_tool:
        return FinishReason.TOOL_CALLS
    if reason is FinishReason.TOOL_CALLS and not called_tool:
        return FinishReason.STOP
    return reason


def parse_chat_body(body: bytes, tools: ToolTable) -> list[StreamDelta]:
    try:
        document: Json = orjson.loads(body)
    except orjson.JSONDecodeError:
        return [protocol_failure(f"unreadable cohere body: {body[:200]!r}")]
    if not isinstance(document, Mapping):
        return [protocol_failure("the cohere body is not a JSON object")]
    return CohereStreamDecoder(tools).whole(document)


def _content(data: Mapping[str, Json]) -> Json:
    return _get(_get(data.get("delta"), "message"), "content")


def _tool_calls(data: Mapping[str, Json]) -> Json:
    return _get(_get(data.get("delta"), "message"), "tool_calls")


def _index(data: Mapping[str, Json], default: int) -> int:
    index = data.get("index")
    return index if isinstance(index, int) and not isinstance(index, bool) else default


def _get(holder: Json, name: str) -> Json:
    return holder.get(name) if isinstance(holder, Mapping) else None


def _count(value: Json, field: str, anomalies: list[UsageAnomaly]) -> int:
    return token_count(value, field, anomalies) or 0


_Handler = Callable[[CohereStreamDecoder, Mapping[str, Json]], list[StreamDelta]]
_HANDLERS: dict[str, _Handler] = {
    "content-start": CohereStreamDecoder._content_start,
    "content-delta": CohereStreamDecoder._content_delta,
    "content-end": CohereStreamDecoder._content_end,
    "tool-plan-delta": CohereStreamDecoder._plan_delta,
    "tool-call-start": CohereStreamDecoder._tool_start,
    "tool-call-delta": CohereStreamDecoder._tool_delta,
    "tool-call-end": CohereStreamDecoder._tool_end,
    "message-end": CohereStreamDecoder._message_end,
}

__all__ = ["CohereStreamDecoder", "cohere_usage", "parse_chat_body", "protocol_failure"]
