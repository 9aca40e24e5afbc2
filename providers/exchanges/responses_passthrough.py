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
from messages.usage import Usage, UsageAnomaly, note_anomaly, token_count
from providers.adapter import HttpCall
from providers.client_formats.stream_failure import (
    failed_response,
    response_base,
    responses_failure_events,
)
from providers.exchanges.protocol import ExchangeOutcome
from providers.garbage import ProviderGarbage, json_object, require
from providers.openai_chat._reply import chat_usage
from providers.openai_errors import map_openai_error
from providers.sse import SseParser, parse_block

_JSON_HEADERS = (("content-type", "application/json"),)


def _auth_headers(api_key: str, stream: bool) -> tuple[tuple[str, str], ...]:
    accept = "text/event-stream" if stream else "application/json"
    return (("authorization", "Bearer " + api_key), ("accept", accept), *_JSON_HEADERS)


def _protocol_failure(message: str) -> ErrorInfo:
    return ErrorInfo(kind=ErrorKind.PROTOCOL, status=502, message=message)


def responses_usage(usage: object, anomalies: list[UsageAnomaly]) -> Usage | None:
    """A Responses ``usage`` object, every count range-checked (``messages.usage``)."""
    if not isinstance(usage, dict):
        if usage is not None:
            note_anomaly(anomalies, "usage", usage)
        return None
    input_details = _details(usage, "input_tokens_details", anomalies)
    output_details = _details(usage, "output_tokens_details", anomalies)
    return Usage(
        input_tokens=token_count(usage.get("input_tokens"), "input_tokens", anomalies) or 0,
        cached_input_tokens=token_count(
            input_details.get("cached_tokens"), "input_tokens_details.cached_tokens", anomalies
        )
        or 0,
        output_tokens=token_count(usage.get("output_tokens"), "output_tokens", anomalies) or 0,
        reasoning_tokens=token_count(
            output_details.get("reasoning_tokens"),
            "output_tokens_details.reasoning_tokens",
            anomalies,
        )
        or 0,
    )


def _details(usage: dict[str, Any], name: str, anomalies: list[UsageAnomaly]) -> dict[str, Any]:
    details = usage.get(name)
    if isinstance(details, dict):
        return details
    if details is not None:
        note_anomaly(anomalies, name, details)
    return {}


class ResponsesPassthrough:
    """OpenAI Responses in, OpenAI Responses out."""

    __slots__ = (
        "_anomalies",
        "_body",
        "_call",
        "_events",
        "_failure",
        "_head",
        "_model",
        "_output",
        "_parser",
        "_request_id",
        "_response",
        "_usage",
    )

    _TERMINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})
    _TERMINAL_NAMES = frozenset(name.encode() for name in _TERMINAL)
    _WATCHED = frozenset(name.encode() for name in (*_TERMINAL, "error"))
    """Events whose data may be ``[DONE]`` (some OpenAI-compatible servers end so)."""
    _KEPT_NAMES = frozenset({"response.created", "response.output_item.done"})
    _KEPT = frozenset(name.encode() for name in _KEPT_NAMES)
    """Events kept for a ``response.failed`` of our own if the stream is cut."""

    def __init__(
        self,
        body: Mapping[str, Any],
        *,
        model: str,
        api_key: str,
        path: str,
        request_id: str = "",
    ) -> None:
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
        self._anomalies: list[UsageAnomaly] = []
        self._body = body
        self._request_id = request_id
        self._model = model
        self._head: dict[str, Any] | None = None  # the upstream's response.created object
        self._output: list[object] = []  # the items done so far

    def call(self) -> HttpCall:
        return self._call

    def start(self) -> bytes:
        return b""

    def feed(self, chunk: bytes) -> bytes:
        """Forward each event as it came, after checking that its data is a JSON object
        (which also checks its UTF-8); the terminal events are read for the trail.
        Garbage raises ``ProviderGarbage``."""
        out = []
        watched, kept, terminal = self._WATCHED, self._KEPT, self._TERMINAL_NAMES
        for block in self._parser.feed_blocks(chunk):
            # the common shape (``event: name`` + one ``data:`` line) read in place, without
            # decoding it to text: this loop runs for every event of every stream
            end = block.find(b"\n") if block.startswith(b"event: ") else -1
            name = block[7:end].strip() if end > 0 else b""
            if (
                name
                and block.startswith(b"data: ", end + 1)
                and block.find(b"\n", end + 1) == len(block) - 2
                and name.isascii()
            ):
                data = block[end + 7 : -2]
                if data != b"[DONE]" or name not in watched:
                    try:
                        document = orjson.loads(data)
                    except orjson.JSONDecodeError:
                        document = None
                    if type(document) is not dict:
                        json_object(data, "a Responses event")  # raises, saying what is wrong
                    elif name in kept:
                        self._keep(document)
                    elif name in terminal:
                        self._observe(document)
            else:
                event = parse_block(block)
                if event is None:
                    continue  # comments only
                if event.data != "[DONE]":  # some OpenAI-compatible servers end with it
                    document = json_object(event.data, "a Responses event")
                    if event.event is None or event.event in self._TERMINAL:
                        self._observe(document)
                    elif event.event in self._KEPT_NAMES:
                        self._keep(document)
            out.append(block)
        self._events += len(out)
        return b"".join(out)

    def _keep(self, document: dict[str, Any]) -> None:
        if document.get("type") == "response.created":
            response = document.get("response")
            self._head = response if isinstance(response, dict) else None
        elif isinstance(item := document.get("item"), dict):
            self._output.append(item)

    def _observe(self, document: dict[str, Any]) -> None:
        kind = document.get("type")
        if not isinstance(kind, str):  # a list is unhashable
            return
        if kind in self._KEPT_NAMES:
            self._keep(document)
        if kind not in self._TERMINAL:
            return
        response = document.get("response")
        if not isinstance(response, dict):
            raise ProviderGarbage(f"the upstream's {kind} has no response object")
        self._response = orjson.dumps(response)
        self._usage = responses_usage(response.get("usage"), self._anomalies)
        if kind == "response.failed":
            self._failure = _responses_failure(response.get("error"))

    def finish(self) -> bytes:
        if self._response is not None:
            return b""
        return self.fail(_protocol_failure("upstream stream ended before response.completed"))

    def fail(self, error: ErrorInfo) -> bytes:
        """``error`` + ``response.failed``: the stream's own response (id, model …) with
        the items done so far, as the translated path ends a stream."""
        self._failure = error
        base = self._head or response_base(self._request_id, self._model)
        response = failed_response(base, error, self._output)
        data, self._response = responses_failure_events(error, self._events, response)
        return data

    def complete(self, body: bytes) -> bytes:
        try:
            document = json_object(body, "its response body")
            require(
                isinstance(document.get("output"), list),
                "the upstream's response has no output list",
            )
        except ProviderGarbage as exc:
            self._failure = exc.error
            return body
        self._usage = responses_usage(document.get("usage"), self._anomalies)
        self._response = body
        return body

    def map_error(self, status: int, headers: Sequence[tuple[str, str]], body: bytes) -> ErrorInfo:
        return map_openai_error(status, headers, body)

    def outcome(self) -> ExchangeOutcome:
        return ExchangeOutcome(
            usage=self._usage,
            response=self._response or b"null",
            failure=self._failure,
            anomalies=tuple(self._anomalies),
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
