"""Trail events to stored payloads and back, one explicit mapping per event kind.

A payload is a JSON object holding the event's fields except ``request_id`` (a
column of its own). Request and response bodies are JSON documents already, so they
are embedded as JSON (``"body": {...}``), not as escaped strings, and users can query
them with ``json_extract(payload, '$.body.model')`` or ``payload->'body'->>'model'``.
A body that is not valid JSON is kept as text under ``body_text`` /
``response_text`` instead, so a malformed request can never corrupt the trail.

Decoding gives back an equal event, except that an embedded body comes back
re-serialised by orjson (the same JSON value, compact whitespace).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, assert_never

import orjson

from messages.errors import ErrorInfo, ErrorKind
from messages.events import (
    AttemptAnomaly,
    AttemptFinished,
    AttemptFirstByte,
    AttemptStarted,
    RequestReceived,
    ResponseCompleted,
    ResponseFailed,
    RouteDecided,
    TrailEvent,
)
from messages.usage import Usage

Fields = dict[str, Any]


def recorded_at(event: TrailEvent) -> datetime:
    """The event's ``at`` (unix seconds) as an aware UTC datetime."""
    return datetime.fromtimestamp(event.at, UTC)


def encode_payload(event: TrailEvent) -> bytes:
    """The event's fields as one JSON object (bytes)."""
    return orjson.dumps(_fields(event))


def _fields(event: TrailEvent) -> Fields:
    match event:
        case RequestReceived():
            return _received_fields(event)
        case RouteDecided():
            return {"at": event.at, "candidates": list(event.candidates), "reason": event.reason}
        case AttemptStarted():
            return _attempt_started_fields(event)
        case AttemptFirstByte():
            return {
                "at": event.at,
                "attempt": event.attempt,
                "status": event.status,
                "ttfb_ms": event.ttfb_ms,
            }
        case AttemptFinished():
            return _attempt_finished_fields(event)
        case AttemptAnomaly():
            return {
                "at": event.at,
                "attempt": event.attempt,
                "provider_id": event.provider_id,
                "field": event.field,
                "value": event.value,
            }
        case ResponseCompleted():
            return _completed_fields(event)
        case ResponseFailed():
            return _failed_fields(event)
        case _:
            assert_never(event)


def _received_fields(event: RequestReceived) -> Fields:
    return {
        "at": event.at,
        "client_format": event.client_format,
        "endpoint": event.endpoint,
        "model_requested": event.model_requested,
        "stream": event.stream,
        "virtual_key_id": event.virtual_key_id,
        "account_id": event.account_id,
        "session_id": event.session_id,
        "thread_id": event.thread_id,
        "user_agent": event.user_agent,
        "team": event.team,
        "customer": event.customer,
        **_document("body", event.body),
    }


def _attempt_started_fields(event: AttemptStarted) -> Fields:
    return {
        "at": event.at,
        "attempt": event.attempt,
        "provider_id": event.provider_id,
        "provider_type": event.provider_type,
        "model": event.model,
        "key_id": event.key_id,
        "reason": event.reason,
    }


def _attempt_finished_fields(event: AttemptFinished) -> Fields:
    return {
        "at": event.at,
        "attempt": event.attempt,
        "provider_id": event.provider_id,
        "model": event.model,
        "status": event.status,
        "latency_ms": event.latency_ms,
        "usage": _usage_fields(event.usage),
        "error": _error_fields(event.error),
        "cost_usd": event.cost_usd,
    }


def _completed_fields(event: ResponseCompleted) -> Fields:
    return {
        "at": event.at,
        "status": event.status,
        "latency_ms": event.latency_ms,
        "provider_id": event.provider_id,
        "model": event.model,
        "attempts": event.attempts,
        "usage": _usage_fields(event.usage),
        "cost_usd": event.cost_usd,
        **_document("response", event.response),
    }


def _failed_fields(event: ResponseFailed) -> Fields:
    return {
        "at": event.at,
        "status": event.status,
        "latency_ms": event.latency_ms,
        "provider_id": event.provider_id,
        "model": event.model,
        "attempts": event.attempts,
        "error": _error_fields(event.error),
        "usage": _usage_fields(event.usage),
        "after_first_byte": event.after_first_byte,
        "cost_usd": event.cost_usd,
    }


def _document(name: str, raw: bytes) -> Fields:
    """Embed ``raw`` as JSON under ``name``, or as text under ``<name>_text``."""
    if not raw:
        return {name: None}
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {name: None, f"{name}_text": raw.decode("utf-8", "backslashreplace")}
    return {name: orjson.Fragment(raw)}


def _usage_fields(usage: Usage | None) -> Fields | None:
    if usage is None:
        return None
    return {
        "input_tokens": usage.input_tokens,
        "cached_input_tokens": usage.cached_input_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "output_tokens": usage.output_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
    }


def _error_fields(error: ErrorInfo | None) -> Fields | None:
    if error is None:
        return None
    return {
        "kind": error.kind.value,
        "status": error.status,
        "message": error.message,
        "code": error.code,
        "param": error.param,
        "retry_after": error.retry_after,
        "provider_id": error.provider_id,
    }


# -- decoding -----------------------------------------------------------------------


def decode_event(request_id: str, kind: str, payload: bytes) -> TrailEvent:
    """Rebuild the event stored as ``payload`` (raises ``KeyError`` on an unknown kind)."""
    fields: Fields = orjson.loads(payload)
    return _DECODERS[kind](request_id, fields)


def _decode_received(request_id: str, f: Fields) -> RequestReceived:
    return RequestReceived(
        request_id=request_id,
        at=f["at"],
        client_format=f["client_format"],
        endpoint=f["endpoint"],
        model_requested=f["model_requested"],
        stream=f["stream"],
        virtual_key_id=f["virtual_key_id"],
        account_id=f["account_id"],
        session_id=f["session_id"],
        thread_id=f["thread_id"],
        user_agent=f["user_agent"],
        body=_read_document("body", f),
        team=f.get("team"),  # absent from trails written before budgets
        customer=f.get("customer"),
    )


def _decode_routed(request_id: str, f: Fields) -> RouteDecided:
    return RouteDecided(
        request_id=request_id, at=f["at"], candidates=tuple(f["candidates"]), reason=f["reason"]
    )


def _decode_attempt_started(request_id: str, f: Fields) -> AttemptStarted:
    return AttemptStarted(
        request_id=request_id,
        at=f["at"],
        attempt=f["attempt"],
        provider_id=f["provider_id"],
        provider_type=f["provider_type"],
        model=f["model"],
        key_id=f["key_id"],
        reason=f["reason"],
    )


def _decode_first_byte(request_id: str, f: Fields) -> AttemptFirstByte:
    return AttemptFirstByte(
        request_id=request_id,
        at=f["at"],
        attempt=f["attempt"],
        status=f["status"],
        ttfb_ms=f["ttfb_ms"],
    )


def _decode_attempt_finished(request_id: str, f: Fields) -> AttemptFinished:
    return AttemptFinished(
        request_id=request_id,
        at=f["at"],
        attempt=f["attempt"],
        provider_id=f["provider_id"],
        model=f["model"],
        status=f["status"],
        latency_ms=f["latency_ms"],
        usage=_read_usage(f["usage"]),
        error=_read_error(f["error"]),
        cost_usd=f["cost_usd"],
    )


def _decode_anomaly(request_id: str, f: Fields) -> AttemptAnomaly:
    return AttemptAnomaly(
        request_id=request_id,
        at=f["at"],
        attempt=f["attempt"],
        provider_id=f["provider_id"],
        field=f["field"],
        value=f["value"],
    )


def _decode_completed(request_id: str, f: Fields) -> ResponseCompleted:
    return ResponseCompleted(
        request_id=request_id,
        at=f["at"],
        status=f["status"],
        latency_ms=f["latency_ms"],
        provider_id=f["provider_id"],
        model=f["model"],
        attempts=f["attempts"],
        usage=_read_usage(f["usage"]),
        response=_read_document("response", f),
        cost_usd=f["cost_usd"],
    )


def _decode_failed(request_id: str, f: Fields) -> ResponseFailed:
    error = _read_error(f["error"])
    assert error is not None, "response.failed always carries its error"
    return ResponseFailed(
        request_id=request_id,
        at=f["at"],
        status=f["status"],
        latency_ms=f["latency_ms"],
        provider_id=f["provider_id"],
        model=f["model"],
        attempts=f["attempts"],
        error=error,
        usage=_read_usage(f["usage"]),
        after_first_byte=f["after_first_byte"],
        cost_usd=f["cost_usd"],
    )


def _read_document(name: str, f: Fields) -> bytes:
    value = f[name]
    if value is not None:
        return orjson.dumps(value)
    text: str | None = f.get(f"{name}_text")
    return b"" if text is None else text.encode("utf-8")


def _read_usage(value: Fields | None) -> Usage | None:
    return None if value is None else Usage(**value)


def _read_error(value: Fields | None) -> ErrorInfo | None:
    if value is None:
        return None
    return ErrorInfo(**{**value, "kind": ErrorKind(value["kind"])})


_DECODERS: Mapping[str, Callable[[str, Fields], TrailEvent]] = {
    RequestReceived.kind: _decode_received,
    RouteDecided.kind: _decode_routed,
    AttemptStarted.kind: _decode_attempt_started,
    AttemptFirstByte.kind: _decode_first_byte,
    AttemptFinished.kind: _decode_attempt_finished,
    AttemptAnomaly.kind: _decode_anomaly,
    ResponseCompleted.kind: _decode_completed,
    ResponseFailed.kind: _decode_failed,
}

__all__ = ["decode_event", "encode_payload", "recorded_at"]
