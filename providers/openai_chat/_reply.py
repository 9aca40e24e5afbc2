"""Chat Completions replies (a whole body, or ``data:`` chunks) → ``StreamDelta`` values.

One decoder reads every family member's shape, so it needs no provider switch:

- Tool call deltas are keyed by ``index``; without one (Mistral sends each call whole,
  with no ``index`` or ``type``) by ``id``; a fragment with neither continues the last
  call. ``ToolCallStart.index`` counts calls in order; argument fragments pass through;
  a call that got no arguments gets ``"{}"``. An emulated custom tool's fragments are
  buffered and its unwrapped text sent at the finish (not at all if ``length`` cut it);
  a native custom call (``type: custom``, OpenAI) passes its ``input`` through.
- Readable reasoning (``reasoning_content`` or ``reasoning``, as Groq, vLLM, Ollama and
  DeepSeek send it, or Mistral ``thinking`` content chunks) streams as
  ``ReasoningDelta`` and is closed by ``ReasoningDone(Reasoning(provider=<type>))`` when
  the answer moves on. ``refusal`` text is passed on as text.
- Usage comes from ``usage`` or Groq's ``x_groq.usage``; the latest wins (Perplexity
  repeats it, cumulative, in every chunk) and it is reported once, at the end. Ours is
  OpenAI's arithmetic: cached (``prompt_tokens_details.cached_tokens``, or DeepSeek's
  ``prompt_cache_hit_tokens``) inside the prompt, reasoning inside the completion.
- ``finish_reason``: ``stop`` → STOP (TOOL_CALLS when a tool was called), ``length`` /
  ``model_length`` → LENGTH (also mid tool call), ``tool_calls`` / ``function_call`` →
  TOOL_CALLS, ``content_filter``; ``error`` (Mistral) → ``StreamFailure``.
- ``data: {"error": …}`` (or Mistral's ``{"object": "error"}``) → ``StreamFailure``; the
  stream ends at ``[DONE]`` (or at the ``finish_reason`` chunk for a provider without
  it); ``close()`` before that, or garbage (not an object, ``choices`` not a list) →
  ``StreamFailure(PROTOCOL)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
from providers.openai_errors import map_openai_error
from providers.sse import SseEvent

_FINISH = {
    "stop": FinishReason.STOP,
    "length": FinishReason.LENGTH,
    "model_length": FinishReason.LENGTH,
    "tool_calls": FinishReason.TOOL_CALLS,
    "function_call": FinishReason.TOOL_CALLS,
    "content_filter": FinishReason.CONTENT_FILTER,
}


@dataclass(slots=True)
class _Call:
    index: int
    buffered: bool  # an emulated custom call: unwrap at the end
    no_arguments: str  # what a call that got nothing sends
    parts: list[str] = field(default_factory=list)


def finish_reason(raw: Json, *, called_tool: bool) -> FinishReason:
    reason = _FINISH.get(raw, FinishReason.STOP) if isinstance(raw, str) else FinishReason.STOP
    if reason is FinishReason.STOP and called_tool:
        return FinishReason.TOOL_CALLS
    if reason is FinishReason.TOOL_CALLS and not called_tool:
        return FinishReason.STOP
    return reason


def chat_usage(usage: Json, anomalies: list[UsageAnomaly]) -> Usage | None:
    """A Chat ``usage`` object in our arithmetic (the same as OpenAI's), range-checked."""
    if not isinstance(usage, Mapping):
        if usage is not None:
            note_anomaly(anomalies, "usage", usage)
        return None

    def count(holder: Json, name: str, field: str) -> int:
        return token_count(_get(holder, name), field, anomalies) or 0

    prompt, completion = usage.get("prompt_tokens_details"), usage.get("completion_tokens_details")
    cached = count(prompt, "cached_tokens", "prompt_tokens_details.cached_tokens")
    reasoning = "completion_tokens_details.reasoning_tokens"
    return Usage(
        input_tokens=count(usage, "prompt_tokens", "prompt_tokens"),
        cached_input_tokens=cached
        or count(usage, "prompt_cache_hit_tokens", "prompt_cache_hit_tokens"),
        output_tokens=count(usage, "completion_tokens", "completion_tokens"),
        reasoning_tokens=count(completion, "reasoning_tokens", reasoning),
    )


def protocol_failure(message: str) -> StreamFailure:
    return StreamFailure(error=ErrorInfo(kind=ErrorKind.PROTOCOL, status=502, message=message))


class ChatReplyDecoder:
    """One reply's decoding state; ``feed`` SSE events or decode a whole ``completion``."""

    __slots__ = (
        "_anomalies",
        "_calls",
        "_done",
        "_ends_with_done",
        "_finished",
        "_last_key",
        "_provider",
        "_response_id",
        "_thinking",
        "_tools",
        "_usage",
    )

    def __init__(self, tools: ToolTable, *, provider: str, ends_with_done: bool = True) -> None:
        self._tools = tools
        self._provider = provider
        self._ends_with_done = ends_with_done
        self._calls: dict[int | str, _Call] = {}
        self._last_key: int | str | None = None
        self._thinking: list[str] | None = None
        self._usage: Usage | None = None
        self._anomalies: list[UsageAnomaly] = []
        self._finished = False
        self._done = False
        self._response_id = ""

    def feed(self, event: SseEvent) -> Sequence[StreamDelta]:
        data = event.data.strip()
        if self._done or not data:
            return []
        if data == "[DONE]":
            return self._end()
        try:
            chunk: Json = orjson.loads(data)
        except orjson.JSONDecodeError:
            self._done = True
            return [protocol_failure(f"unreadable chat chunk: {data[:200]!r}")]
        if not isinstance(chunk, Mapping):
            self._done = True
            return [protocol_failure("a chat chunk that is not a JSON object")]
        return self._chunk(chunk)

    def close(self) -> Sequence[StreamDelta]:
        if self._done:
            return []
        self._done = True
        end = "[DONE]" if self._ends_with_done else "its finish_reason"
        return [*self._usage_report(), protocol_failure(f"the upstream stream ended before {end}")]

    def completion(self, document: Mapping[str, Json]) -> list[StreamDelta]:
        """A whole ``chat.completion`` body as the deltas its stream would have given."""
        if document.get("error") is not None:
            return [StreamFailure(error=stream_error(document))]
        self._take_usage(document)
        if not isinstance(document.get("choices"), list):
            return [protocol_failure("the chat completion has no choices list")]
        choice = _first_choice(document)
        message = choice.get("message") if choice is not None else None
        out = self._delta(message, whole=True) if isinstance(message, Mapping) else []
        out.extend(self._finish(choice.get("finish_reason") if choice is not None else None))
        out.extend(self._end())
        return out

    def _chunk(self, chunk: Mapping[str, Json]) -> list[StreamDelta]:
        if chunk.get("error") is not None or chunk.get("object") == "error":
            self._done = True
            return [StreamFailure(error=stream_error(chunk))]
        response_id = chunk.get("id")
        if isinstance(response_id, str) and response_id:
            self._response_id = response_id
        self._take_usage(chunk)
        out: list[StreamDelta] = []
        if not isinstance(chunk.get("choices"), list | None):
            self._done = True
            return [protocol_failure("a chat chunk whose choices is not a list")]
        choice = _first_choice(chunk) if not self._finished else None
        if choice is not None:
            delta = choice.get("delta")
            if isinstance(delta, Mapping):
                out.extend(self._delta(delta, whole=False))
            reason = choice.get("finish_reason")
            if reason is not None:
                out.extend(self._finish(reason))
        if self._finished and not self._ends_with_done:
            out.extend(self._end())
        return out

    def _take_usage(self, chunk: Mapping[str, Json]) -> None:
        usage = chunk.get("usage")
        if not isinstance(usage, Mapping):
            usage = _get(chunk.get("x_groq"), "usage")
        parsed = chat_usage(usage, self._anomalies)
        if parsed is not None:
            self._usage = parsed

    def _delta(self, delta: Mapping[str, Json], *, whole: bool) -> list[StreamDelta]:
        out: list[StreamDelta] = []
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            out.extend(self._think(reasoning))
        content = delta.get("content")
        if isinstance(content, str) and content:
            out.extend(self._say(content))
        elif isinstance(content, list):
            for chunk in content:
                out.extend(self._content_chunk(chunk))
        refusal = delta.get("refusal")
        if isinstance(refusal, str) and refusal:
            out.extend(self._say(refusal))
        calls = delta.get("tool_calls")
        for position, entry in enumerate(calls if isinstance(calls, list) else []):
            if isinstance(entry, Mapping):
                out.extend(self._tool(entry, position if whole else None))
        return out

    def _content_chunk(self, chunk: Json) -> list[StreamDelta]:
        if not isinstance(chunk, Mapping):
            return []
        if chunk.get("type") == "thinking":
            thought = _thinking_text(chunk.get("thinking"))
            return self._think(thought) if thought else []
        text = chunk.get("text")
        if chunk.get("type") == "text" and isinstance(text, str) and text:
            return self._say(text)
        return []

    def _think(self, text: str) -> list[StreamDelta]:
        if self._thinking is None:
            self._thinking = []
        self._thinking.append(text)
        return [ReasoningDelta(text=text)]

    def _say(self, text: str) -> list[StreamDelta]:
        return [*self._close_thinking(), TextDelta(text=text)]

    def _close_thinking(self) -> list[StreamDelta]:
        if self._thinking is None:
            return []
        text, self._thinking = "".join(self._thinking), None
        return [ReasoningDone(reasoning=Reasoning(provider=self._provider, text=text))]

    def _tool(self, entry: Mapping[str, Json], position: int | None) -> list[StreamDelta]:
        key = self._key(entry, position)
        out: list[StreamDelta] = []
        call = self._calls.get(key)
        if call is None:
            out.extend(self._close_thinking())
            call, start = self._open(entry)
            self._calls[key] = call
            out.append(start)
        self._last_key = key
        fragment = _fragment(entry)
        if fragment:
            call.parts.append(fragment)
            if not call.buffered:
                out.append(ToolCallArgs(index=call.index, fragment=fragment))
        return out

    def _key(self, entry: Mapping[str, Json], position: int | None) -> int | str:
        index, call_id = entry.get("index"), entry.get("id")
        if isinstance(index, int) and not isinstance(index, bool):
            return index
        if isinstance(call_id, str) and call_id:
            return call_id
        if position is not None:
            return position
        return self._last_key if self._last_key is not None else 0

    def _open(self, entry: Mapping[str, Json]) -> tuple[_Call, ToolCallStart]:
        index = len(self._calls)
        native_custom = entry.get("type") == "custom"
        named = _get(entry.get("custom" if native_custom else "function"), "name")
        tool = self._tools.resolve(named if isinstance(named, str) else "")
        given = entry.get("id")
        call_id = given if isinstance(given, str) and given else self._minted_id(index)
        kind = ToolKind.CUSTOM if native_custom else tool.kind
        call = _Call(
            index=index,
            buffered=not native_custom and tool.kind is ToolKind.CUSTOM,
            no_arguments="" if native_custom else "{}",
        )
        start = ToolCallStart(
            index=index, id=call_id, name=tool.name, kind=kind, namespace=tool.namespace
        )
        return call, start

    def _minted_id(self, index: int) -> str:
        return f"call_{self._response_id}_{index}" if self._response_id else f"call_{index}"

    def _finish(self, raw: Json) -> list[StreamDelta]:
        if self._finished:
            return []
        self._finished = True
        out = self._close_thinking()
        if raw == "error":
            self._done = True
            error = ErrorInfo(
                kind=ErrorKind.UPSTREAM_ERROR,
                status=502,
                message="the provider ended the answer with finish_reason 'error'",
            )
            return [*out, StreamFailure(error=error)]
        reason = finish_reason(raw, called_tool=bool(self._calls))
        for call in self._calls.values():
            out.extend(_close_call(call, complete=reason is not FinishReason.LENGTH))
        out.append(Finish(reason=reason))
        return out

    def _end(self) -> list[StreamDelta]:
        if self._done:
            return []
        out = [] if self._finished else self._finish(None)
        self._done = True
        out.extend(self._usage_report())
        return out

    def _usage_report(self) -> list[StreamDelta]:
        if self._usage is None and not self._anomalies:
            return []
        return [UsageReport(usage=self._usage or Usage(), anomalies=tuple(self._anomalies))]


def _close_call(call: _Call, *, complete: bool) -> list[StreamDelta]:
    if call.buffered:
        text = unwrap_custom("".join(call.parts)) if complete and call.parts else ""
        return [ToolCallArgs(index=call.index, fragment=text)] if text else []
    if not call.parts and call.no_arguments:
        return [ToolCallArgs(index=call.index, fragment=call.no_arguments)]
    return []


def parse_completion(body: bytes, tools: ToolTable, *, provider: str) -> list[StreamDelta]:
    try:
        document: Json = orjson.loads(body)
    except orjson.JSONDecodeError:
        return [protocol_failure(f"unreadable chat completion body: {body[:200]!r}")]
    if not isinstance(document, Mapping):
        return [protocol_failure("the chat completion body is not a JSON object")]
    return ChatReplyDecoder(tools, provider=provider).completion(document)


def stream_error(document: Mapping[str, Json]) -> ErrorInfo:
    """An ``{"error": …}`` document that came with HTTP 200 (in a stream or as the body)."""
    status = _get(document.get("error"), "status") or _get(document.get("error"), "code")
    if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
        status = 500
    return map_openai_error(status, (), orjson.dumps(document))


def _fragment(entry: Mapping[str, Json]) -> str:
    for holder, name in (("function", "arguments"), ("custom", "input")):
        value = _get(entry.get(holder), name)
        if isinstance(value, str) and value:
            return value
    return ""


def _thinking_text(thinking: Json) -> str:
    if isinstance(thinking, str):
        return thinking
    if not isinstance(thinking, list):
        return ""
    texts = [_get(chunk, "text") for chunk in thinking]
    return "".join(text for text in texts if isinstance(text, str))


def _first_choice(document: Mapping[str, Json]) -> Mapping[str, Json] | None:
    choices = document.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], Mapping):
        return choices[0]
    return None


def _get(holder: Json, name: str) -> Json:
    return holder.get(name) if isinstance(holder, Mapping) else None


__all__ = [
    "ChatReplyDecoder",
    "chat_usage",
    "finish_reason",
    "parse_completion",
    "protocol_failure",
    "stream_error",
]
