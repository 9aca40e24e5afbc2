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
from messages.usage import Usage
from providers.adapter import HttpCall
from providers.exchange import ExchangeOutcome
from providers.openai_errors import map_openai_error
from providers.passthrough import chat_usage
from providers.sse import SseParser
from providers.stream_failure import chat_failure_chunk

_DONE = "[DONE]"


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
        self.id = chunk.get("id") or self.id
        self.model = chunk.get("model") or self.model
        self.created = chunk.get("created") or self.created
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            content = delta.get("content")
            if isinstance(content, str):
                self.text.append(content)
            for position, call in enumerate(delta.get("tool_calls") or ()):
                self._add_call(call, position)
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]

    def _add_call(self, call: Mapping[str, Any], position: int) -> None:
        index = call.get("index", position)
        known = self.tool_calls.setdefault(
            index, {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}
        )
        known["id"] = call.get("id") or known["id"]
        function = call.get("function") or {}
        known["function"]["name"] += function.get("name") or ""
        known["function"]["arguments"] += function.get("arguments") or ""

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
        "_answer",
        "_call",
        "_done",
        "_failure",
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
        self._failure: ErrorInfo | None = None
        self._response: bytes | None = None
        self._done = False

    def call(self) -> HttpCall:
        return self._call

    def start(self) -> bytes:
        return b""

    def feed(self, chunk: bytes) -> bytes:
        return b"".join(event.raw for event in self._parser.feed(chunk) if self._keep(event.data))

    def _keep(self, data: str) -> bool:
        if data == _DONE:
            self._done = True
            return True
        try:
            chunk = orjson.loads(data)
        except orjson.JSONDecodeError:
            return True
        if not isinstance(chunk, dict):
            return True
        if "error" in chunk:
            self._failure = _stream_error(chunk["error"])
            return True
        self._answer.add(chunk)
        usage = chat_usage(chunk.get("usage")) or chat_usage(
            (chunk.get("x_groq") or {}).get("usage")
        )
        if usage is not None:
            self._usage = usage
            return self._wants_usage or bool(chunk.get("choices"))
        return True

    def finish(self) -> bytes:
        if self._done:
            return b""
        return self.fail(
            ErrorInfo(
                kind=ErrorKind.PROTOCOL, status=502, message="upstream stream ended before [DONE]"
            )
        )

    def fail(self, error: ErrorInfo) -> bytes:
        self._failure = error
        return chat_failure_chunk(error)

    def complete(self, body: bytes) -> bytes:
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            self._failure = ErrorInfo(
                kind=ErrorKind.PROTOCOL, status=502, message="upstream returned invalid JSON"
            )
            return body
        if isinstance(document, dict):
            self._usage = chat_usage(document.get("usage"))
        self._response = body
        return body

    def map_error(self, status: int, headers: Sequence[tuple[str, str]], body: bytes) -> ErrorInfo:
        return map_openai_error(status, headers, body)

    def outcome(self) -> ExchangeOutcome:
        response = self._response or self._answer.to_json(self._usage)
        return ExchangeOutcome(
            usage=self._usage,
            response=response,
            failure=self._failure,
            finish_reason=self._answer.finish_reason,
        )


def _stream_error(error: object) -> ErrorInfo:
    message = error.get("message") if isinstance(error, dict) else None
    return ErrorInfo(
        kind=ErrorKind.UPSTREAM_ERROR,
        status=502,
        message=message if isinstance(message, str) else "upstream reported an error mid-stream",
    )


__all__ = ["ChatPassthrough"]
