"""IR deltas → an OpenAI Responses reply: SSE events, or the final response object.

One accumulation serves both modes: ``streaming=True`` returns the event bytes from
``start`` / ``feed`` / ``finish`` / ``fail``; ``streaming=False`` returns ``b""`` there
and the body is ``response_json()``, the same object ``response.completed`` carries.
Events follow OpenAI's grammar (``event: <type>`` + ``data: <json>``, ``sequence_number``
from 0); item ids derive from the response id. Codex takes items only from
``response.output_item.done``, so every item opened is closed there, truncated ones
with ``status: "incomplete"``. Opaque reasoning from a non-OpenAI provider is wrapped
(``reasoning_state``) so the next turn can send it back to its maker only.

At most one kind of item is open at a time: text, reasoning, or the current run of tool
calls (several calls may stay open together, so interleaved fragments still land).
Calls after ``finish`` / ``fail`` are ignored and return ``b""``.
"""

from __future__ import annotations

from collections.abc import Mapping

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
from messages.errors import ErrorInfo
from messages.usage import Usage
from providers.client_formats.reasoning_state import encrypted_content_for
from providers.client_formats.responses_items import (
    Json,
    OpenItem,
    call_item,
    codex_error,
    message_item,
    output_text,
    reasoning_item,
    summary_part,
    usage_json,
)

UNSIGNED = "switchyard"
"""Provenance given to streamed reasoning that never got a ``ReasoningDone``: no
provider made state for it, so no provider will be sent it back."""

_INCOMPLETE = {
    FinishReason.LENGTH: "max_output_tokens",
    FinishReason.CONTENT_FILTER: "content_filter",
}


class ResponsesStreamEncoder:
    """Turns one reply's deltas into Responses events and the final response object."""

    def __init__(
        self,
        *,
        response_id: str,
        model: str,
        created_at: int,
        streaming: bool = True,
        echo: Mapping[str, object] | None = None,
    ) -> None:
        """``echo``: what the response repeats of its request (``responses_echo``)."""
        self._id = response_id
        self._echo = echo or {}
        self._base = response_id.removeprefix("resp_")
        self._model = model
        self._created_at = created_at
        self._streaming = streaming
        self._seq = 0
        self._output: list[Json] = []
        self._text: OpenItem | None = None
        self._reasoning: OpenItem | None = None
        self._calls: dict[int, OpenItem] = {}
        self._finish: FinishReason | None = None
        self._usage: Usage | None = None
        self._status = "in_progress"
        self._error: Json | None = None
        self._incomplete: Json | None = None

    def start(self) -> bytes:
        """``response.created`` + ``response.in_progress``."""
        snapshot = {"response": self._snapshot()}
        created = self._event("response.created", snapshot)
        return created + self._event("response.in_progress", snapshot)

    def feed(self, delta: StreamDelta) -> bytes:
        if self._status != "in_progress":
            return b""
        match delta:
            case TextDelta(text=text):
                return self._on_text(text) if text else b""
            case ReasoningDelta(text=text):
                return self._on_reasoning(text) if text else b""
            case ReasoningDone(reasoning=reasoning):
                return self._on_reasoning_done(reasoning)
            case ToolCallStart():
                return self._on_call_start(delta)
            case ToolCallArgs(index=index, fragment=fragment):
                return self._on_call_args(index, fragment)
            case Finish(reason=reason):
                self._finish = reason
            case UsageReport(usage=usage):
                self._usage = usage
            case StreamFailure(error=error):
                return self.fail(error)
        return b""

    def finish(self) -> bytes:
        """Closes open items, then ``response.completed`` (or ``response.incomplete``)."""
        if self._status != "in_progress":
            return b""
        incomplete = _INCOMPLETE.get(self._finish) if self._finish else None
        out = self._close_all("incomplete" if incomplete else "completed")
        if incomplete:
            self._status = "incomplete"
            self._incomplete = {"reason": incomplete}
            return out + self._event("response.incomplete", {"response": self._snapshot()})
        self._status = "completed"
        return out + self._event("response.completed", {"response": self._snapshot()})

    def fail(self, error: ErrorInfo) -> bytes:
        """An ``error`` event, then ``response.failed`` carrying ``{code, message}``.

        The ``error`` event has the documented flat fields and, like OpenAI's own
        stream, a nested ``error`` object (on which the ``openai`` SDK raises).
        """
        if self._status != "in_progress":
            return b""
        code, message = codex_error(error)
        self._status = "failed"
        self._error = {"code": code, "message": message}
        flat: dict[str, object] = {"code": code, "message": message, "param": error.param}
        out = self._event("error", {**flat, "error": {"type": code, **flat}})
        return out + self._event("response.failed", {"response": self._snapshot()})

    def response_json(self) -> bytes:
        """The response object as it stands (final after ``finish`` or ``fail``)."""
        return orjson.dumps(self._snapshot())

    @property
    def usage(self) -> Usage | None:
        return self._usage

    @property
    def dropped(self) -> tuple[str, ...]:
        """Nothing: every delta has a Responses form (same surface as ``ChatStreamEncoder``)."""
        return ()

    # ---- deltas ---------------------------------------------------------------------

    def _on_text(self, text: str) -> bytes:
        item = self._text
        out = b""
        if item is None:
            out = self._close_reasoning(None) + self._close_calls("completed")
            item = self._text = self._open("message", "msg")
            added = {
                "output_index": item.output_index,
                "item": message_item(item, "", "in_progress"),
            }
            part = {**item.where(), "content_index": 0, "part": output_text("")}
            out += self._event("response.output_item.added", added)
            out += self._event("response.content_part.added", part)
        item.parts.append(text)
        return out + self._delta(item, text)

    def _on_reasoning(self, text: str, item_id: str | None = None) -> bytes:
        item = self._reasoning
        out = b""
        if item is None:
            out = self._close_text("completed") + self._close_calls("completed")
            item = self._reasoning = self._open("reasoning", "rs", item_id)
            added = {"output_index": item.output_index, "item": reasoning_item(item.id, "", None)}
            out += self._event("response.output_item.added", added)
        if text:
            if not item.parts:
                out += self._event("response.reasoning_summary_part.added", summary_part(item, ""))
            item.parts.append(text)
            out += self._delta(item, text)
        return out

    def _on_reasoning_done(self, reasoning: Reasoning) -> bytes:
        out = b""
        if self._reasoning is None:
            out = self._on_reasoning(reasoning.text, reasoning.id)
        return out + self._close_reasoning(reasoning)

    def _on_call_start(self, start: ToolCallStart) -> bytes:
        out = self._close_text("completed") + self._close_reasoning(None)
        if start.index in self._calls:
            out += self._close_calls("completed")
        custom = start.kind is ToolKind.CUSTOM
        item = self._open(
            "custom_tool_call" if custom else "function_call", "ctc" if custom else "fc"
        )
        item.call = start
        self._calls[start.index] = item
        added = {"output_index": item.output_index, "item": call_item(item, "", "in_progress")}
        return out + self._event("response.output_item.added", added)

    def _on_call_args(self, index: int, fragment: str) -> bytes:
        item = self._calls.get(index)
        if item is None or not fragment:
            return b""
        item.parts.append(fragment)
        return self._delta(item, fragment)

    # ---- closing items --------------------------------------------------------------

    def _close_all(self, status: str) -> bytes:
        return self._close_reasoning(None) + self._close_text(status) + self._close_calls(status)

    def _close_text(self, status: str) -> bytes:
        item, self._text = self._text, None
        if item is None:
            return b""
        text = "".join(item.parts)
        done = message_item(item, text, status)
        self._output.append(done)
        text_done = {**item.where(), "content_index": 0, "text": text, "logprobs": []}
        part_done = {**item.where(), "content_index": 0, "part": output_text(text)}
        return (
            self._event("response.output_text.done", text_done)
            + self._event("response.content_part.done", part_done)
            + self._item_done(item, done)
        )

    def _close_reasoning(self, reasoning: Reasoning | None) -> bytes:
        item, self._reasoning = self._reasoning, None
        if item is None:
            return b""
        text = "".join(item.parts)
        out = b""
        if item.parts:
            text_done = {**item.where(), "summary_index": 0, "text": text}
            out = self._event("response.reasoning_summary_text.done", text_done)
            out += self._event("response.reasoning_summary_part.done", summary_part(item, text))
        made = reasoning or Reasoning(provider=UNSIGNED, text=text)
        done = reasoning_item(item.id, text, encrypted_content_for(made))
        self._output.append(done)
        return out + self._item_done(item, done)

    def _close_calls(self, status: str) -> bytes:
        out = b""
        for item in self._calls.values():
            custom = item.kind == "custom_tool_call"
            value = "".join(item.parts) or ("" if custom else "{}")
            done = call_item(item, value, status)
            self._output.append(done)
            if custom:
                fields = {**item.where(), "input": value}
                out += self._event("response.custom_tool_call_input.done", fields)
            else:
                assert item.call is not None, "a call item is always opened from a ToolCallStart"
                fields = {**item.where(), "name": item.call.name, "arguments": value}
                out += self._event("response.function_call_arguments.done", fields)
            out += self._item_done(item, done)
        self._calls.clear()
        return out

    # ---- building blocks ------------------------------------------------------------

    def _open(self, kind: str, prefix: str, item_id: str | None = None) -> OpenItem:
        index = len(self._output) + len(self._calls)
        index += (self._text is not None) + (self._reasoning is not None)
        name = item_id or f"{prefix}_{self._base}_{index}"
        return OpenItem(kind=kind, item_id=name, output_index=index)

    def _item_done(self, item: OpenItem, done: Json) -> bytes:
        fields = {"output_index": item.output_index, "item": done}
        return self._event("response.output_item.done", fields)

    def _event(self, kind: str, fields: Mapping[str, object]) -> bytes:
        if not self._streaming:
            return b""
        seq = self._seq
        self._seq += 1
        data = orjson.dumps({"type": kind, "sequence_number": seq, **fields})
        return b"event: " + kind.encode() + b"\ndata: " + data + b"\n\n"

    def _delta(self, item: OpenItem, text: str) -> bytes:
        if not self._streaming:
            return b""
        seq = self._seq
        self._seq = seq + 1
        return b'%s%d,"delta":%s}\n\n' % (item.delta_prefix, seq, orjson.dumps(text))

    def _snapshot(self) -> dict[str, object]:
        """The Response object as it stands; ``usage`` only once known (the schema has
        no null for it)."""
        snapshot: dict[str, object] = {
            "id": self._id,
            "object": "response",
            "created_at": self._created_at,
            "status": self._status,
            "error": self._error,
            "incomplete_details": self._incomplete,
            "instructions": None,
            "model": self._model,
            "output": self._output,
            "parallel_tool_calls": True,
            "previous_response_id": None,
            "store": False,
            "tool_choice": "auto",
            "tools": [],
            "temperature": None,
            "top_p": None,
            "metadata": {},
            **self._echo,
        }
        if self._usage is not None:
            snapshot["usage"] = usage_json(self._usage)
        return snapshot


__all__ = ["UNSIGNED", "ResponsesStreamEncoder"]
