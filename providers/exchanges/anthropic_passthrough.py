"""Anthropic Messages in, Anthropic Messages out (to an ``anthropic`` upstream).

The client already speaks the upstream's format, so nothing it sent is lost to a
translation — ``cache_control`` marks (prompt caching), ``top_k``, ``context_management``,
``metadata``, server tools, documents — and every event comes back byte for byte.
What the gateway changes on the way up:

- ``model`` (the route's model) and ``max_tokens``, capped at the model's ceiling when the
  model is known (``output_limit.anthropic_max_tokens``: what the budget estimate holds);
- the headers: the provider's key, ``anthropic-version``, and the client's
  ``anthropic-beta`` (the fields of a beta, like Claude Code's mid-conversation system
  messages, are rejected without it);
- thinking blocks whose signature another provider made (``swy1:…``, from an earlier
  turn served elsewhere) are left out: Anthropic would reject the request for them.

The exchange observes the stream through the Anthropic adapter's own decoder, to give
the trail its usage, finish, failure and the Message the stream amounted to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from messages.chat import StreamDelta, StreamFailure, UsageReport
from messages.errors import ErrorInfo, ErrorKind
from messages.usage import UsageAnomaly
from providers.adapter import HttpCall
from providers.anthropic.adapter import ADAPTER, API_VERSION, MESSAGES_PATH
from providers.client_formats.anthropic_encoder import AnthropicStreamEncoder
from providers.client_formats.anthropic_errors import anthropic_stream_error
from providers.exchanges.protocol import ExchangeOutcome
from providers.garbage import ProviderGarbage, json_object
from providers.output_limit import anthropic_max_tokens
from providers.sse import SseParser

FORWARDED_HEADERS = frozenset({"anthropic-beta"})
_WRAPPED = ("swy1:", "swy1r:")


class AnthropicPassthrough:
    __slots__ = (
        "_anomalies",
        "_call",
        "_decoder",
        "_ended",
        "_failure",
        "_parser",
        "_response",
        "_trail",
    )

    def __init__(
        self,
        body: Mapping[str, Any],
        *,
        model: str,
        api_key: str,
        client_headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        upstream = dict(body)
        upstream["model"] = model
        requested = body.get("max_tokens")
        upstream["max_tokens"] = anthropic_max_tokens(
            model, requested if isinstance(requested, int) else None
        )
        messages = body.get("messages")
        if isinstance(messages, list):
            upstream["messages"] = _without_foreign_thinking(messages)
        stream = bool(body.get("stream"))
        headers = [
            ("x-api-key", api_key),
            ("anthropic-version", API_VERSION),
            ("accept", "text/event-stream" if stream else "application/json"),
            ("content-type", "application/json"),
        ]
        headers += [(k, v) for k, v in client_headers if k in FORWARDED_HEADERS]
        self._call = HttpCall(
            method="POST", path=MESSAGES_PATH, headers=tuple(headers), body=orjson.dumps(upstream)
        )
        self._parser = SseParser()
        self._decoder = ADAPTER.new_stream_decoder(())
        self._trail = AnthropicStreamEncoder(message_id="", model=model, streaming=False)
        self._failure: ErrorInfo | None = None
        self._anomalies: tuple[UsageAnomaly, ...] = ()
        self._ended = False  # message_stop seen, or the stream failed
        self._response: bytes | None = None  # a non-streamed answer, as it came

    def call(self) -> HttpCall:
        return self._call

    def start(self) -> bytes:
        return b""

    def feed(self, chunk: bytes) -> bytes:
        """Forward each event as it came, after reading it (garbage raises)."""
        out = []
        for event in self._parser.feed(chunk):
            self._observe(self._decoder.feed(event))
            if event.event == "message_stop":
                self._ended = True
            out.append(event.raw)
        return b"".join(out)

    def _observe(self, deltas: Sequence[StreamDelta]) -> None:
        for delta in deltas:
            if isinstance(delta, StreamFailure):
                if delta.error.kind is ErrorKind.PROTOCOL:
                    raise ProviderGarbage(delta.error.message)
                self._failure = delta.error
                self._ended = True
            elif isinstance(delta, UsageReport) and delta.anomalies:
                self._anomalies = delta.anomalies
            self._trail.feed(delta)

    def finish(self) -> bytes:
        if self._ended:
            return b""
        message = "upstream stream ended before message_stop"
        return self.fail(ErrorInfo(kind=ErrorKind.PROTOCOL, status=502, message=message))

    def fail(self, error: ErrorInfo) -> bytes:
        self._failure = error
        self._ended = True
        return anthropic_stream_error(error)

    def complete(self, body: bytes) -> bytes:
        try:
            json_object(body, "its response body")
            self._observe(ADAPTER.parse_reply(body))
            self._response = body
        except ProviderGarbage as exc:
            self._failure = exc.error
        return body

    def map_error(self, status: int, headers: Sequence[tuple[str, str]], body: bytes) -> ErrorInfo:
        return ADAPTER.map_error(status, headers, body)

    def outcome(self) -> ExchangeOutcome:
        if self._failure is None:
            self._trail.finish()
        return ExchangeOutcome(
            usage=self._trail.usage,
            response=self._response or self._trail.response_json(),
            failure=self._failure,
            anomalies=self._anomalies,
        )


def _without_foreign_thinking(messages: list[Any]) -> list[Any]:
    """``messages`` without thinking blocks another provider made (a copy only if any)."""
    kept: list[Any] | None = None
    for index, message in enumerate(messages):
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list) or not any(_foreign(block) for block in content):
            if kept is not None:
                kept.append(message)
            continue
        if kept is None:
            kept = list(messages[:index])
        kept.append({**message, "content": [b for b in content if not _foreign(b)]})
    return messages if kept is None else kept


def _foreign(block: object) -> bool:
    if not isinstance(block, dict):
        return False
    value = block.get("signature") if block.get("type") == "thinking" else block.get("data")
    return block.get("type") in ("thinking", "redacted_thinking") and (
        isinstance(value, str) and value.startswith(_WRAPPED)
    )


__all__ = ["FORWARDED_HEADERS", "AnthropicPassthrough"]
