"""IR deltas → an Anthropic Messages reply: SSE events, or one Message object.

Same shape as the other encoders: ``streaming=True`` returns event bytes from ``start`` /
``feed`` / ``finish`` / ``fail``; ``streaming=False`` returns ``b""`` there and the body
is ``response_json()``, the Message the events amounted to. The grammar is Anthropic's:
``message_start`` (usage so far: the input count is not known before the provider's
last event, so it is 0 here and given in ``message_delta``) and a ``ping``; then per
content block ``content_block_start`` / ``content_block_delta`` (``text_delta``,
``thinking_delta`` + ``signature_delta``, ``input_json_delta``) / ``content_block_stop``;
then ``message_delta`` (``stop_reason``, the whole ``usage``) and ``message_stop``.
A failure mid-answer is ``event: error`` (``anthropic_errors``) and the stream ends.

Reasoning: a thinking block's ``signature`` is Anthropic's own when Anthropic made it;
any other provider's opaque state (or none) is wrapped ``swy1:<provider>:…``
(``reasoning_state``), so the block Claude Code sends back next turn reaches its maker
only. Usage uses Anthropic's arithmetic: ``input_tokens`` excludes the cache reads
(``cache_read_input_tokens``) and writes (``cache_creation_input_tokens``).
"""

from __future__ import annotations

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
    UsageReport,
)
from messages.errors import ErrorInfo
from messages.usage import Usage
from providers.client_formats.anthropic_errors import anthropic_stream_error
from providers.client_formats.reasoning_state import tagged

ANTHROPIC = "anthropic"
UNSIGNED = "switchyard"  # provenance of streamed reasoning no provider signed
_STOP_REASONS = {
    FinishReason.STOP: "end_turn",
    FinishReason.LENGTH: "max_tokens",
    FinishReason.TOOL_CALLS: "tool_use",
    FinishReason.CONTENT_FILTER: "refusal",
}
_PING = b'event: ping\ndata: {"type":"ping"}\n\n'

Json = dict[str, object]


class _Block:
    __slots__ = ("body", "index", "kind", "parts")

    def __init__(self, index: int, kind: str, body: Json) -> None:
        self.index = index
        self.kind = kind
        self.body = body
        self.parts: list[str] = []


def signature_for(reasoning: Reasoning) -> str:
    """What a thinking block's ``signature`` (or a redacted block's ``data``) carries."""
    if reasoning.provider == ANTHROPIC and reasoning.signature:
        return reasoning.signature
    return tagged(reasoning.provider, reasoning.signature or "", redacted=reasoning.redacted)


class AnthropicStreamEncoder:
    """Turns one reply's deltas into Anthropic events and the final Message body."""

    def __init__(self, *, message_id: str, model: str, streaming: bool = True) -> None:
        self._id = message_id
        self._model = model
        self._streaming = streaming
        self._blocks: list[_Block] = []
        self._open: _Block | None = None
        self._calls: dict[int, _Block] = {}
        self._finish: FinishReason | None = None
        self._usage: Usage | None = None
        self._done = False

    def start(self) -> bytes:
        message = self._message(content=[], stop_reason=None)
        message["usage"] = {"input_tokens": 0, "output_tokens": 0}
        return self._event("message_start", {"message": message}) + (
            _PING if self._streaming else b""
        )

    def feed(self, delta: StreamDelta) -> bytes:
        if self._done:
            return b""
        match delta:
            case TextDelta(text=text) if text:
                return self._on_text(text)
            case ReasoningDelta(text=text) if text:
                return self._on_thinking(text)
            case ReasoningDone(reasoning=reasoning):
                return self._on_reasoning_done(reasoning)
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
        if self._done:
            return b""
        self._done = True
        out = self._close()
        delta = {"stop_reason": self._stop_reason(), "stop_sequence": None}
        out += self._event("message_delta", {"delta": delta, "usage": self._usage_json()})
        return out + self._event("message_stop", {})

    def fail(self, error: ErrorInfo) -> bytes:
        if self._done:
            return b""
        self._done = True
        return anthropic_stream_error(error) if self._streaming else b""

    def response_json(self) -> bytes:
        content = [self._final(block) for block in self._blocks]
        message = self._message(content=content, stop_reason=self._stop_reason())
        return orjson.dumps(message)

    @property
    def usage(self) -> Usage | None:
        return self._usage

    def _message(self, *, content: list[Json], stop_reason: str | None) -> Json:
        return {
            "id": self._id,
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": self._usage_json(),
        }

    def _on_text(self, text: str) -> bytes:
        out = b""
        block = self._open
        if block is None or block.kind != "text":
            out, block = self._begin("text", {"type": "text", "text": ""})
        block.parts.append(text)
        return out + self._delta(block, {"type": "text_delta", "text": text})

    def _on_thinking(self, text: str) -> bytes:
        out = b""
        block = self._open
        if block is None or block.kind != "thinking":
            out, block = self._begin("thinking", {"type": "thinking", "thinking": ""})
        block.parts.append(text)
        return out + self._delta(block, {"type": "thinking_delta", "thinking": text})

    def _on_reasoning_done(self, reasoning: Reasoning) -> bytes:
        signature = signature_for(reasoning)
        if reasoning.redacted:
            body: Json = {"type": "redacted_thinking", "data": signature}
            return self._begin("redacted_thinking", body)[0] + self._close()
        out = b""
        if self._open is None or self._open.kind != "thinking":
            out = self._begin("thinking", {"type": "thinking", "thinking": ""})[0]
            if reasoning.text:
                out += self._on_thinking(reasoning.text)
        block = self._blocks[-1]
        block.body["signature"] = signature
        out += self._delta(block, {"type": "signature_delta", "signature": signature})
        return out + self._close()

    def _on_call_start(self, start: ToolCallStart) -> bytes:
        name = f"{start.namespace}__{start.name}" if start.namespace else start.name
        body: Json = {"type": "tool_use", "id": start.id, "name": name, "input": {}}
        out, block = self._begin("tool_use", body)
        self._calls[start.index] = block
        return out

    def _on_call_args(self, index: int, fragment: str) -> bytes:
        block = self._calls.get(index)
        if block is None:
            return b""
        block.parts.append(fragment)
        return self._delta(block, {"type": "input_json_delta", "partial_json": fragment})

    def _begin(self, kind: str, body: Json) -> tuple[bytes, _Block]:
        out = self._close()
        block = _Block(len(self._blocks), kind, body)
        self._blocks.append(block)
        self._open = block
        start = {"index": block.index, "content_block": body}
        return out + self._event("content_block_start", start), block

    def _close(self) -> bytes:
        block, self._open = self._open, None
        if block is None:
            return b""
        if block.kind == "thinking" and "signature" not in block.body:
            signature = signature_for(Reasoning(provider=UNSIGNED, text="".join(block.parts)))
            block.body["signature"] = signature
            sign = self._delta(block, {"type": "signature_delta", "signature": signature})
            return sign + self._event("content_block_stop", {"index": block.index})
        return self._event("content_block_stop", {"index": block.index})

    def _delta(self, block: _Block, delta: Json) -> bytes:
        return self._event("content_block_delta", {"index": block.index, "delta": delta})

    def _event(self, name: str, fields: Json) -> bytes:
        if not self._streaming:
            return b""
        data = orjson.dumps({"type": name, **fields})
        return b"event: " + name.encode() + b"\ndata: " + data + b"\n\n"

    def _final(self, block: _Block) -> Json:
        text = "".join(block.parts)
        if block.kind == "text":
            return {"type": "text", "text": text}
        if block.kind == "thinking":
            return {"type": "thinking", "thinking": text, "signature": block.body["signature"]}
        if block.kind == "tool_use":
            return {**block.body, "input": _input_object(text)}
        return dict(block.body)

    def _stop_reason(self) -> str:
        if self._calls and self._finish in (None, FinishReason.STOP, FinishReason.TOOL_CALLS):
            return "tool_use"
        return _STOP_REASONS.get(self._finish or FinishReason.STOP, "end_turn")

    def _usage_json(self) -> Json:
        usage = self._usage or Usage()
        reads, writes = usage.cached_input_tokens, usage.cache_write_tokens
        return {
            "input_tokens": max(0, usage.input_tokens - reads - writes),
            "output_tokens": usage.output_tokens,
            "cache_read_input_tokens": reads,
            "cache_creation_input_tokens": writes,
        }


def _input_object(arguments: str) -> object:
    """A tool call's arguments as the JSON object Anthropic's ``input`` must be."""
    if not arguments.strip():
        return {}
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        return {"input": arguments}
    return value if isinstance(value, dict) else {"input": value}


__all__ = ["AnthropicStreamEncoder", "signature_for"]
