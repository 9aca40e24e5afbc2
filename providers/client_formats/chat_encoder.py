"""IR deltas → an OpenAI Chat Completions reply: ``chat.completion.chunk`` lines or one body.

Same shape as ``ResponsesStreamEncoder``: ``streaming=True`` returns chunk bytes from
``start`` / ``feed`` / ``finish`` / ``fail``; ``streaming=False`` returns ``b""`` there
and the body is ``response_json()``. The first chunk carries ``delta.role``; tool calls
go by index (the first delta has ``id``, ``type``, name and empty arguments, then
fragments); the last choice chunk has ``finish_reason``; the usage chunk
(``choices: []``) follows only when the client asked (``stream_options.include_usage``);
then ``data: [DONE]``.

Choices a Chat client may want to know about:
- custom tool calls are sent as Chat ``custom`` calls: ``{"type": "custom", "custom":
  {"name", "input"}}`` in the body, and in chunks the same shape with ``input`` fragments
  (the shape OpenAI streams; its published chunk schema lists only ``function``);
- readable reasoning streams as ``delta.reasoning_content`` (the common extension);
  opaque reasoning state has no Chat field and is dropped (``dropped`` says so).
"""

from __future__ import annotations

import orjson

from messages.chat import (
    Finish,
    FinishReason,
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
from messages.errors import ErrorInfo, client_message
from messages.usage import Usage
from providers.openai_errors import openai_error_code, openai_error_type

_Json = dict[str, object]
_OPEN_TAIL = b',"logprobs":null,"finish_reason":null}]}\n\n'
_DONE = b"data: [DONE]\n\n"


class _Call:
    __slots__ = ("custom", "id", "name", "parts")

    def __init__(self, start: ToolCallStart) -> None:
        self.id = start.id
        self.name = f"{start.namespace}__{start.name}" if start.namespace else start.name
        self.custom = start.kind is ToolKind.CUSTOM
        self.parts: list[str] = []

    def message_json(self) -> _Json:
        value = "".join(self.parts)
        if self.custom:
            return {"id": self.id, "type": "custom", "custom": {"name": self.name, "input": value}}
        function = {"name": self.name, "arguments": value or "{}"}
        return {"id": self.id, "type": "function", "function": function}


class ChatStreamEncoder:
    """Turns one reply's deltas into Chat chunks and the final ``chat.completion`` body."""

    def __init__(
        self,
        *,
        response_id: str,
        model: str,
        created_at: int,
        streaming: bool = True,
        include_usage: bool = False,
    ) -> None:
        self._id = response_id
        self._model = model
        self._created_at = created_at
        self._streaming = streaming
        self._include_usage = include_usage
        head = {"id": response_id, "object": "chat.completion.chunk", "created": created_at}
        self._prefix = b"data: " + orjson.dumps({**head, "model": model})[:-1]
        self._choice_prefix = self._prefix + b',"choices":[{"index":0,"delta":'
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._calls: dict[int, _Call] = {}
        self._finish: FinishReason | None = None
        self._usage: Usage | None = None
        self._done = False
        self._dropped: list[str] = []

    def start(self) -> bytes:
        """The first chunk: ``delta.role = "assistant"``."""
        return self._chunk(b'{"role":"assistant","content":""}')

    def feed(self, delta: StreamDelta) -> bytes:
        if self._done:
            return b""
        match delta:
            case TextDelta(text=text) if text:
                self._text.append(text)
                if not self._streaming:
                    return b""
                return b'%s{"content":%s}%s' % (self._choice_prefix, orjson.dumps(text), _OPEN_TAIL)
            case ReasoningDelta(text=text) if text:
                self._reasoning.append(text)
                return self._chunk(b'{"reasoning_content":' + orjson.dumps(text) + b"}")
            case ReasoningDone(reasoning=reasoning):
                if reasoning.signature or reasoning.redacted:
                    self._dropped.append(f"reasoning_state:{reasoning.provider}")
            case ToolCallStart():
                return self._on_call_start(delta)
            case ToolCallArgs(index=index, fragment=fragment) if fragment:
                return self._on_call_args(index, fragment)
            case Finish(reason=reason):
                self._finish = reason
            case UsageReport(usage=usage):
                self._usage = usage
            case StreamFailure(error=error):
                return self.fail(error)
        return b""

    def finish(self) -> bytes:
        """The ``finish_reason`` chunk, the usage chunk if asked for, then ``[DONE]``."""
        if self._done:
            return b""
        self._done = True
        if not self._streaming:
            return b""
        reason = self._finish_reason().encode()
        out = self._choice_prefix + b'{},"logprobs":null,"finish_reason":"' + reason + b'"}]}\n\n'
        if self._include_usage and self._usage is not None:
            usage = orjson.dumps(_usage_json(self._usage))
            out += self._prefix + b',"choices":[],"usage":' + usage + b"}\n\n"
        return out + _DONE

    def fail(self, error: ErrorInfo) -> bytes:
        """A ``data: {"error": {…}}`` line, then ``[DONE]``."""
        if self._done:
            return b""
        self._done = True
        if not self._streaming:
            return b""
        body = {
            "error": {
                "message": client_message(error),
                "type": openai_error_type(error.kind),
                "param": error.param,
                "code": openai_error_code(error),
            }
        }
        return b"data: " + orjson.dumps(body) + b"\n\n" + _DONE

    def response_json(self) -> bytes:
        """The non-streaming ``chat.completion`` body (the same content the chunks carried)."""
        message: _Json = {
            "role": "assistant",
            "content": "".join(self._text) if self._text else None,
            "refusal": None,
        }
        if self._calls:
            message["tool_calls"] = [call.message_json() for call in self._calls.values()]
        if self._reasoning:
            message["reasoning_content"] = "".join(self._reasoning)
        choice = {
            "index": 0,
            "message": message,
            "logprobs": None,
            "finish_reason": self._finish_reason(),
        }
        return orjson.dumps(
            {
                "id": self._id,
                "object": "chat.completion",
                "created": self._created_at,
                "model": self._model,
                "choices": [choice],
                "usage": _usage_json(self._usage) if self._usage is not None else None,
            }
        )

    @property
    def usage(self) -> Usage | None:
        return self._usage

    @property
    def dropped(self) -> tuple[str, ...]:
        """What the Chat format could not carry (opaque reasoning state), once each."""
        return tuple(dict.fromkeys(self._dropped))

    def _on_call_start(self, start: ToolCallStart) -> bytes:
        call = self._calls[start.index] = _Call(start)
        if call.custom:
            body: _Json = {"type": "custom", "custom": {"name": call.name, "input": ""}}
        else:
            body = {"type": "function", "function": {"name": call.name, "arguments": ""}}
        entry = {"index": start.index, "id": call.id, **body}
        return self._chunk(b'{"tool_calls":[' + orjson.dumps(entry) + b"]}")

    def _on_call_args(self, index: int, fragment: str) -> bytes:
        call = self._calls.get(index)
        if call is None:
            return b""
        call.parts.append(fragment)
        key = b'"custom":{"input":' if call.custom else b'"function":{"arguments":'
        head = b'{"tool_calls":[{"index":' + str(index).encode() + b"," + key
        return self._chunk(head + orjson.dumps(fragment) + b"}}]}")

    def _chunk(self, delta: bytes) -> bytes:
        if not self._streaming:
            return b""
        return self._choice_prefix + delta + _OPEN_TAIL

    def _finish_reason(self) -> str:
        reason = self._finish
        if reason is FinishReason.LENGTH or reason is FinishReason.CONTENT_FILTER:
            return reason.value
        return "tool_calls" if self._calls else "stop"


def _usage_json(usage: Usage) -> _Json:
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_input_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


__all__ = ["ChatStreamEncoder"]
