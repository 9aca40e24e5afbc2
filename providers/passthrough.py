"""Passthrough exchanges: the client speaks the upstream's own format (OpenAI Responses or
Chat Completions to an OpenAI-type server), so the body goes up with only ``model``
replaced and every SSE event comes back byte for byte. The exchange only *observes* the
stream — the terminal event, usage, and (for Chat) the pieces of the answer — so the trail
gets the full response without the hot path paying for a translation.
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
from providers.sse import SseParser, common_block_name, parse_block
from providers.stream_failure import responses_failure_events

_JSON_HEADERS = (("content-type", "application/json"),)


def _auth_headers(api_key: str, stream: bool) -> tuple[tuple[str, str], ...]:
    accept = "text/event-stream" if stream else "application/json"
    return (("authorization", "Bearer " + api_key), ("accept", accept), *_JSON_HEADERS)


def _protocol_failure(message: str) -> ErrorInfo:
    return ErrorInfo(kind=ErrorKind.PROTOCOL, status=502, message=message)


def responses_usage(usage: object) -> Usage | None:
    if not isinstance(usage, dict):
        return None
    input_details = usage.get("input_tokens_details") or {}
    output_details = usage.get("output_tokens_details") or {}
    return Usage(
        input_tokens=int(usage.get("input_tokens") or 0),
        cached_input_tokens=int(input_details.get("cached_tokens") or 0),
        output_tokens=int(usage.get("output_tokens") or 0),
        reasoning_tokens=int(output_details.get("reasoning_tokens") or 0),
    )


def chat_usage(usage: object) -> Usage | None:
    if not isinstance(usage, dict):
        return None
    prompt_details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    return Usage(
        input_tokens=int(usage.get("prompt_tokens") or 0),
        cached_input_tokens=int(prompt_details.get("cached_tokens") or 0),
        output_tokens=int(usage.get("completion_tokens") or 0),
        reasoning_tokens=int(completion_details.get("reasoning_tokens") or 0),
    )


class ResponsesPassthrough:
    """OpenAI Responses in, OpenAI Responses out."""

    __slots__ = ("_body", "_call", "_events", "_failure", "_parser", "_response", "_usage")

    _TERMINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})
    _WATCHED = frozenset(name.encode() for name in (*_TERMINAL, "error"))
    """Events whose data is read; the rest go through without being decoded."""

    def __init__(self, body: Mapping[str, Any], *, model: str, api_key: str, path: str) -> None:
        upstream = dict(body)
        upstream["model"] = model
        stream = bool(body.get("stream"))
        self._call = HttpCall(
            method="POST",
            path=path,
            headers=_auth_headers(api_key, stream),
            body=orjson.dumps(upstream),
        )
        self._parser = SseParser()
        self._events = 0
        self._response: bytes | None = None
        self._usage: Usage | None = None
        self._failure: ErrorInfo | None = None
        self._body = body

    def call(self) -> HttpCall:
        return self._call

    def start(self) -> bytes:
        return b""

    def feed(self, chunk: bytes) -> bytes:
        out = []
        for block in self._parser.feed_blocks(chunk):
            name = common_block_name(block)
            if name is None or name in self._WATCHED:
                event = parse_block(block)
                if event is None:
                    continue  # comments only
                if event.event is None or event.event in self._TERMINAL or event.event == "error":
                    self._observe(event.data)
            self._events += 1
            out.append(block)
        return b"".join(out)

    def _observe(self, data: str) -> None:
        try:
            document = orjson.loads(data)
        except orjson.JSONDecodeError:
            return
        if not isinstance(document, dict):
            return
        kind = document.get("type")
        if kind not in self._TERMINAL:
            return
        response = document.get("response")
        if not isinstance(response, dict):
            return
        self._response = orjson.dumps(response)
        self._usage = responses_usage(response.get("usage"))
        if kind == "response.failed":
            self._failure = _responses_failure(response.get("error"))

    def finish(self) -> bytes:
        if self._response is not None:
            return b""
        return self.fail(_protocol_failure("upstream stream ended before response.completed"))

    def fail(self, error: ErrorInfo) -> bytes:
        self._failure = error
        data, self._response = responses_failure_events(error, self._events)
        return data

    def complete(self, body: bytes) -> bytes:
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            self._failure = _protocol_failure("upstream returned invalid JSON")
            return body
        if isinstance(document, dict):
            self._usage = responses_usage(document.get("usage"))
        self._response = body
        return body

    def map_error(self, status: int, headers: Sequence[tuple[str, str]], body: bytes) -> ErrorInfo:
        return map_openai_error(status, headers, body)

    def outcome(self) -> ExchangeOutcome:
        return ExchangeOutcome(
            usage=self._usage, response=self._response or b"null", failure=self._failure
        )


def _responses_failure(error: object) -> ErrorInfo:
    if not isinstance(error, dict):
        return _protocol_failure("upstream reported response.failed")
    code = error.get("code")
    message = error.get("message")
    kind = ErrorKind.UPSTREAM_ERROR
    if code == "rate_limit_exceeded":
        kind = ErrorKind.RATE_LIMITED
    elif code == "context_length_exceeded":
        kind = ErrorKind.CONTEXT_TOO_LONG
    elif code == "insufficient_quota":
        kind = ErrorKind.QUOTA_EXHAUSTED
    return ErrorInfo(
        kind=kind,
        status=502,
        message=message if isinstance(message, str) else "upstream reported response.failed",
        code=code if isinstance(code, str) else None,
    )


__all__ = ["ResponsesPassthrough", "chat_usage", "responses_usage"]
