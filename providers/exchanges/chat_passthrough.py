"""Chat Completions in, Chat Completions out (to an OpenAI-type upstream).

Chunks are forwarded as received. The exchange asks the upstream for usage
(``stream_options.include_usage``) so the trail always has it, and drops the usage-only
chunk again when the client did not ask for it. It gathers the answer's text and tool
calls as they pass, so the trail holds the full ``chat.completion`` the stream amounted to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from messages.errors import ErrorInfo, ErrorKind
from messages.usage import Usage, UsageAnomaly
from providers.adapter import HttpCall
from providers.client_formats.stream_failure import chat_failure_chunk
from providers.exchanges.protocol import ExchangeOutcome
from providers.exchanges.responses_passthrough import chat_usage
from providers.garbage import ProviderGarbage, json_object, require
from providers.openai_errors import map_openai_error
from providers.sse import SseParser, common_block_data, parse_block

_DONE = b"[DONE]"
_MAX_CALLS = 1024  # distinct tool-call indexes one answer may open


class _ChatAnswer:
    """The pieces of a streamed chat answer, put back together."""

    __slots__ = ("created", "finish_reason", "id", "model", "text", "tool_calls")

    def __init__(self) -> None:
        self.id = ""
        self.model = ""
        self.created = 0
        self.text: list[str] = []
        self.tool_calls: dict[int, dict[str, Any]] = {}
        self.finish_reason: str | None = None

    def add(self, chunk: Mapping[str, Any]) -> None:
        """Take one chunk's pieces; a chunk of the wrong shape raises ``ProviderGarbage``."""
        response_id, model, created = chunk.get("id"), chunk.get("model"), chunk.get("created")
        self.id = response_id if isinstance(response_id, str) and response_id else self.id
        self.model = model if isinstance(model, str) and model else self.model
        if type(created) is int and 0 < created < 2**53:
            self.created = created
        choices = chunk.get("choices")
        require(choices is None or isinstance(choices, list), "chat chunk: choices is not a list")
        for choice in choices or ():
            require(isinstance(choice, dict), "chat chunk: a choice is not an object")
            self._add_choice(choice)

    def _add_choice(self, choice: Mapping[str, Any]) -> None:
        delta = choice.get("delta")
        require(delta is None or isinstance(delta, dict), "chat chunk: delta is not an object")
        delta = delta or {}
        content = delta.get("content")
        if isinstance(content, str):
            self.text.append(content)
        calls = delta.get("tool_calls")
        require(calls is None or isinstance(calls, list), "chat chunk: tool_calls is not a list")
        for position, call in enumerate(calls or ()):
            require(isinstance(call, dict), "chat chunk: a tool call is not an object")
            self._add_call(call, position)
        reason = choice.get("finish_reason")
        if isinstance(reason, str) and reason:
            self.finish_reason = reason

    def _add_call(self, call: Mapping[str, Any], position: int) -> None:
        index = call.get("index", position)
        require(type(index) is int, "chat chunk: a tool call's index is not an integer")
        known = self.tool_calls.get(index)
        if known is None:
            require(len(self.tool_calls) < _MAX_CALLS, "chat chunk: too many tool calls")
            known = self.tool_calls[index] = {
                "id": "",
                "type": "function",
                "function": {"name": "", "arguments": ""},
            }
        call_id = call.get("id")
        if isinstance(call_id, str) and call_id:
            known["id"] = call_id
        function = call.get("function")
        require(function is None or isinstance(function, dict), "chat chunk: bad function")
        for part in ("name", "arguments"):
            piece = (function or {}).get(part)
            if isinstance(piece, str):
                known["function"][part] += piece

    def to_json(self, usage: Usage | None) -> bytes:
        message: dict[str, Any] = {"role": "assistant", "content": "".join(self.text) or None}
        if self.tool_calls:
            message["tool_calls"] = [self.tool_calls[i] for i in sorted(self.tool_calls)]
        document: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": self.finish_reason}],
        }
        if usage is not None:
            document["usage"] = {
                "prompt_tokens": usage.input_tokens,
                "completion_tokens": usage.output_tokens,
                "total_tokens": usage.total_tokens,
                "prompt_tokens_details": {"cached_tokens": usage.cached_input_tokens},
                "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
            }
        return orjson.dumps(document)


class ChatPassthrough:
    __slots__ = (
        "_anomalies",
        "_answer",
        "_call",
        "_done",
        "_failure",
        "_outcome",
        "_parser",
        "_response",
        "_usage",
        "_wants_usage",
    )

    def __init__(self, body: Mapping[str, Any], *, model: str, api_key: str, path: str) -> None:
        upstream = dict(body)
        upstream["model"] = model
        stream = bool(body.get("stream"))
        options = body.get("stream_options")
        self._wants_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        if stream and not self._wants_usage:
            upstream["stream_options"] = {**(options or {}), "include_usage": True}
        accept = "text/event-stream" if stream else "application/json"
        self._call = HttpCall(
            method="POST",
            path=path,
            headers=(
                ("authorization", "Bearer " + api_key),
                ("accept", accept),
                ("content-type", "application/json"),
            ),
            body=orjson.dumps(upstream),
        )
        self._parser = SseParser()
        self._answer = _ChatAnswer()
        self._usage: Usage | None = None
        self._anomalies: list[UsageAnomaly] = []
        self._failure: ErrorInfo | None = None
        self._response: bytes | None = None
        self._done = False
        self._outcome: ExchangeOutcome | None = None  # until the state changes again

    def call(self) -> HttpCall:
        return self._call

    def start(self) -> bytes:
        return b""

    def feed(self, chunk: bytes) -> bytes:
        """Forward each event as it came, its data checked and observed (``_keep``); the
        usual ``data: ...`` block is read without decoding it to text first."""
        self._outcome = None
        out = []
        for block in self._parser.feed_blocks(chunk):
            data = common_block_data(block)
            if data is None:
                event = parse_block(block)
                if event is None:
                    continue  # comments only
                data = event.data.encode()
            if self._keep(data):
                out.append(block)
        return b"".join(out)

    def _keep(self, data: bytes) -> bool:
        """Observe one chunk; whether it goes to the client. Garbage raises."""
        if data == _DONE:
            self._done = True
            return True
        if self._done:
            _utf8(data)
            return True
        chunk = json_object(data, "a chat chunk")
        if "error" in chunk:
            self._failure = _stream_error(chunk["error"])
            return True
        self._answer.add(chunk)
        usage = chunk.get("usage")
        if usage is None:
            groq = chunk.get("x_groq")
            usage = groq.get("usage") if isinstance(groq, dict) else None
        if usage is not None:
            self._usage = chat_usage(usage, self._anomalies) or self._usage
            return self._wants_usage or bool(chunk.get("choices"))
        return True

    def finish(self) -> bytes:
        self._outcome = None
        if self._done:
            return b""
        return self.fail(
            ErrorInfo(
                kind=ErrorKind.PROTOCOL, status=502, message="upstream stream ended before [DONE]"
            )
        )

    def fail(self, error: ErrorInfo) -> bytes:
        self._outcome = None
        self._failure = error
        return chat_failure_chunk(error)

    def complete(self, body: bytes) -> bytes:
        self._outcome = None
        try:
            document = json_object(body, "its response body")
            choices = document.get("choices")
            if not isinstance(choices, list):
                raise ProviderGarbage("the upstream's completion has no choices list")
            for choice in choices:
                require(isinstance(choice, dict), "chat completion: a choice is not an object")
        except ProviderGarbage as exc:
            self._failure = exc.error
            return body
        self._usage = chat_usage(document.get("usage"), self._anomalies)
        self._response = body
        return body

    def map_error(self, status: int, headers: Sequence[tuple[str, str]], body: bytes) -> ErrorInfo:
        return map_openai_error(status, headers, body)

    def outcome(self) -> ExchangeOutcome:
        """What the exchange amounted to; built once until ``feed``, ``finish``, ``fail`` or
        ``complete`` changes it (an attempt asks several times at its end)."""
        if self._outcome is None:
            self._outcome = ExchangeOutcome(
                usage=self._usage,
                response=self._response or self._answer.to_json(self._usage),
                failure=self._failure,
                finish_reason=self._answer.finish_reason,
                anomalies=tuple(self._anomalies),
            )
        return self._outcome


def _utf8(data: bytes) -> None:
    """A chunk after ``[DONE]`` is forwarded unread, but must still be text."""
    try:
        data.decode()
    except UnicodeDecodeError:
        raise ProviderGarbage("the upstream sent an SSE event that is not UTF-8") from None


def _stream_error(error: object) -> ErrorInfo:
    message = error.get("message") if isinstance(error, dict) else None
    return ErrorInfo(
        kind=ErrorKind.UPSTREAM_ERROR,
        status=502,
        message=message if isinstance(message, str) else "upstream reported an error mid-stream",
    )


__all__ = ["ChatPassthrough"]
