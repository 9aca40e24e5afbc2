"""Trail events to stored payloads and back, one explicit mapping per event kind.

A payload is a JSON object holding the event's fields except ``request_id`` (a
column of its own). Request and response bodies are JSON documents already, so they
are embedded as JSON (``"body": {...}``), not as escaped strings, and users can query
them with ``json_extract(payload, '$.body.model')`` or ``payload->'body'->>'model'``.
A body that is not valid JSON is kept as text under ``body_text`` /
``response_text`` instead (``body_base64`` if it is not even UTF-8), so a malformed
request can never corrupt the trail.

The document is always the payload's last field, and ``<name>_size`` gives its length
in bytes: decoding slices it out of the payload, so a body comes back byte for byte
as it arrived (whitespace, escapes and all). The SQL recorder stores the large parts of
big bodies once (``storage.blobs``): such a payload also has ``<name>_parts`` and its
document is a skeleton; ``storage.blob_store.rebuild_payload`` puts the parts back,
and ``storage.event_decoding.decode_event`` takes rebuilt payloads only. A body
removed by retention reads back as empty (``<name>_pruned``).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, assert_never

import orjson

from messages.errors import ErrorInfo
from messages.events import (
    AttemptAnomaly,
    AttemptFinished,
    AttemptFirstByte,
    AttemptStarted,
    CacheHit,
    CacheMiss,
    RequestReceived,
    ResponseCompleted,
    ResponseFailed,
    RouteDecided,
    TrailEvent,
)
from messages.usage import Usage
from storage.blobs import BrokenTrail, Part

Fields = dict[str, Any]
Splitter = Callable[[bytes], tuple[bytes, list[Part]] | None]
"""A body → its skeleton and parts (with the blobs kept by the splitter); the body itself
and no parts when it is JSON kept whole; ``None`` when not split (JSON or not)."""
DOCUMENTS = ("body", "response")


def recorded_at(event: TrailEvent) -> datetime:
    """The event's ``at`` (unix seconds) as an aware UTC datetime."""
    return datetime.fromtimestamp(event.at, UTC)


def encode_payload(event: TrailEvent, split: Splitter | None = None) -> bytes:
    """The event's fields as one JSON object (bytes); ``split`` may store the large parts
    of its body elsewhere (see the module docstring)."""
    return orjson.dumps(_fields(event, split))


def _fields(event: TrailEvent, split: Splitter | None) -> Fields:
    match event:
        case RequestReceived():
            return _received_fields(event, split)
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
            return _completed_fields(event, split)
        case ResponseFailed():
            return _failed_fields(event)
        case CacheHit():
            return {
                "at": event.at,
                "layer": event.layer,
                "similarity": event.similarity,
                "origin_request_id": event.origin_request_id,
                "cost_saved_usd": event.cost_saved_usd,
            }
        case CacheMiss():
            return {"at": event.at, "mode": event.mode, "reason": event.reason}
        case _:
            assert_never(event)


def _received_fields(event: RequestReceived, split: Splitter | None) -> Fields:
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
        **_replay_fields(event),
        **_document("body", event.body, split),
    }


def _replay_fields(event: RequestReceived) -> Fields:
    """A replayed request's tags; a live request's payload has no such keys."""
    if event.replay_run_id is None:
        return {}
    return {"replay_run_id": event.replay_run_id, "original_request_id": event.original_request_id}


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
        "price_source": event.price_source,
    }


def _completed_fields(event: ResponseCompleted, split: Splitter | None) -> Fields:
    return {
        "at": event.at,
        "status": event.status,
        "latency_ms": event.latency_ms,
        "provider_id": event.provider_id,
        "model": event.model,
        "attempts": event.attempts,
        "usage": _usage_fields(event.usage),
        "cost_usd": event.cost_usd,
        "price_source": event.price_source,
        **({} if event.cost_saved_usd is None else {"cost_saved_usd": event.cost_saved_usd}),
        **_document("response", event.response, split),
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
        "price_source": event.price_source,
    }


def _document(name: str, raw: bytes, split: Splitter | None) -> Fields:
    """``raw`` as the last fields: embedded JSON (whole, or a skeleton and its parts), or
    text, or base64; see the module docstring."""
    if not raw:
        return {name: None}
    parts: list[Part] | None = None
    if split is not None and (done := split(raw)) is not None:
        raw, parts = done
    else:
        try:
            orjson.loads(raw)
        except orjson.JSONDecodeError:
            return _not_json(name, raw)
    fields: Fields = {f"{name}_size": len(raw)}
    if parts:
        fields[f"{name}_parts"] = parts
    fields[name] = orjson.Fragment(raw)
    return fields


def _not_json(name: str, raw: bytes) -> Fields:
    try:
        return {name: None, f"{name}_text": raw.decode("utf-8")}
    except UnicodeDecodeError:
        return {name: None, f"{name}_base64": base64.b64encode(raw).decode("ascii")}


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


def stored_document(name: str, fields: Fields, payload: bytes) -> bytes:
    """The document's bytes as they are in ``payload`` (a skeleton if it has parts)."""
    size = fields[f"{name}_size"]
    start = len(payload) - 1 - size
    label = b'"' + name.encode() + b'":'
    if start < len(label) or payload[start - len(label) : start] != label:
        raise BrokenTrail(f"the payload's {name} is not where its size says")
    return payload[start:-1]


def prune_documents(payload: bytes) -> bytes | None:
    """``payload`` without its body (or response): ``<name>: null`` and
    ``<name>_pruned: true``; ``None`` when it has none to remove."""
    fields: Fields = orjson.loads(payload)
    pruned = False
    for name in DOCUMENTS:
        if name not in fields or fields.get(f"{name}_pruned"):
            continue
        for suffix in ("_size", "_parts", "_text", "_base64"):
            fields.pop(f"{name}{suffix}", None)
        del fields[name]
        fields[f"{name}_pruned"] = True
        pruned = True
        fields[name] = None  # still the last field
    return orjson.dumps(fields) if pruned else None


def read_document(name: str, fields: Fields, payload: bytes) -> bytes:
    """The body (or response) of a payload, byte for byte as it arrived."""
    if f"{name}_parts" in fields:
        raise BrokenTrail(f"the {name} is stored in parts: rebuild the payload first")
    if f"{name}_size" in fields:  # first: a body may be the JSON ``null`` itself
        return stored_document(name, fields, payload)
    if (encoded := fields.get(f"{name}_base64")) is not None:
        return base64.b64decode(encoded)
    if fields[name] is None:
        text: str | None = fields.get(f"{name}_text")
        return b"" if text is None else text.encode("utf-8")
    return orjson.dumps(fields[name])  # written before sizes were: the same JSON value


__all__ = [
    "DOCUMENTS",
    "Splitter",
    "encode_payload",
    "prune_documents",
    "read_document",
    "recorded_at",
    "stored_document",
]
