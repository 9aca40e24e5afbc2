"""Stored payloads back to trail events: one explicit decoder per event kind (the
inverse of ``storage.codec``'s encoders). It takes whole payloads only: a payload whose
body was stored in parts is rebuilt first (``storage.blob_store.rebuild_payload``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

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
from storage.codec import DOCUMENTS, Fields, read_document


def decode_event(request_id: str, kind: str, payload: bytes) -> TrailEvent:
    """Rebuild the event stored as ``payload`` (raises ``KeyError`` on an unknown kind,
    ``BrokenTrail`` on a payload whose parts were not put back)."""
    fields: Fields = orjson.loads(payload)
    for name in DOCUMENTS:
        if name in fields:
            fields[name] = read_document(name, fields, payload)
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
        body=f["body"],
        team=f.get("team"),  # absent from trails written before budgets
        customer=f.get("customer"),
        replay_run_id=f.get("replay_run_id"),  # only a replayed request has these
        original_request_id=f.get("original_request_id"),
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
        price_source=f.get("price_source"),
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
        response=f["response"],
        cost_usd=f["cost_usd"],
        price_source=f.get("price_source"),
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
        price_source=f.get("price_source"),
    )


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


__all__ = ["decode_event"]
