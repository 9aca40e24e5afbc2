"""Statement parameters that project a batch of events onto ``requests`` and ``attempts``.

Pure: one pass over the batch sorts each event into the statement it feeds, so the
SQL recorder runs one executemany per statement instead of a round trip per event.
Most requests start and finish within one batch: their ``requests`` and ``attempts``
rows are then inserted whole, with what the later events say already folded in, so a
request costs two inserts and no update. A request's terminal event may arrive in a
later batch than its ``request.received``; then it becomes an update keyed by primary
key, run after the inserts (the row it updates is in an earlier batch).

Timestamps go through ``stamp`` (unix seconds → the driver's value for a UTC
timestamp), since the recorder hands these rows to the driver as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, assert_never

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
)
from messages.usage import Usage
from storage.recorder import SequencedEvent

Params = dict[str, Any]
Stamp = Callable[[float], object]

_NO_USAGE = Usage()


@dataclass(frozen=True, slots=True, kw_only=True)
class Projection:
    """Parameter lists, one per statement, in the order they must run."""

    requests_started: list[Params] = field(default_factory=list)
    attempts_started: list[Params] = field(default_factory=list)
    attempts_first_byte: list[Params] = field(default_factory=list)
    attempts_finished: list[Params] = field(default_factory=list)
    requests_finished: list[Params] = field(default_factory=list)


def project(batch: Sequence[SequencedEvent], stamp: Stamp) -> Projection:
    projection = Projection()
    started_requests: dict[str, Params] = {}
    started_attempts: dict[tuple[str, int], Params] = {}
    for item in batch:
        event = item.event
        match event:
            case RequestReceived():
                row = _request_started(event, stamp)
                started_requests[event.request_id] = row
                projection.requests_started.append(row)
            case RouteDecided() | AttemptAnomaly() | CacheHit() | CacheMiss():
                pass
            case AttemptStarted():
                row = _attempt_started(event, stamp)
                started_attempts[event.request_id, event.attempt] = row
                projection.attempts_started.append(row)
            case AttemptFirstByte():
                attempt = started_attempts.get((event.request_id, event.attempt))
                if attempt is None:
                    projection.attempts_first_byte.append(_attempt_first_byte(event))
                else:
                    attempt["first_byte_ms"] = event.ttfb_ms
                    attempt["http_status"] = event.status
            case AttemptFinished():
                attempt = started_attempts.get((event.request_id, event.attempt))
                if attempt is None:
                    projection.attempts_finished.append(_attempt_finished(event, stamp))
                else:
                    _fold_attempt_finished(attempt, event, stamp)
            case ResponseCompleted() | ResponseFailed():
                request = started_requests.get(event.request_id)
                if request is None:
                    projection.requests_finished.append(_request_finished(event, stamp))
                else:
                    fold_outcome(request, _request_outcome(event, stamp))
            case _:
                assert_never(event)
    return projection


def _tokens(usage: Usage | None) -> Params:
    usage = usage or _NO_USAGE
    return {
        "input_tokens": usage.input_tokens,
        "cached_input_tokens": usage.cached_input_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "output_tokens": usage.output_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
    }


_NO_TOKENS = _tokens(None)


def _request_started(event: RequestReceived, stamp: Stamp) -> Params:
    return {
        "request_id": event.request_id,
        "session_id": event.session_id,
        "thread_id": event.thread_id,
        "started_at": stamp(event.at),
        "finished_at": None,
        "latency_ms": None,
        "virtual_key": event.virtual_key_id,
        "account_id": event.account_id,
        "team": event.team,
        "customer": event.customer,
        "replay_run_id": event.replay_run_id,
        "original_request_id": event.original_request_id,
        "client_format": event.client_format,
        "endpoint": event.endpoint,
        "stream": event.stream,
        "model_requested": event.model_requested,
        "provider": None,
        "model": None,
        "status": "in_progress",
        "http_status": None,
        "error_kind": None,
        "attempts": 0,
        **_NO_TOKENS,
        "cost_usd": None,
        "price_source": None,
        "cost_saved_usd": None,
    }


OUTCOME = ("finished_at", "latency_ms", "status", "http_status", "error_kind")
"""What the client was told. A request can have two terminal events when our bug fails
it in the ingress while its worker runs: the ingress's ``internal`` then the worker's
``client_closed``, or the worker's completion then the ingress's ``internal`` (the
answer never reached the client). So a failure replaces a completion, and otherwise
the first outcome stays; a later terminal event still adds what was spent."""
LATEST_KNOWN = ("provider", "model", "cost_usd", "price_source", "cost_saved_usd")
"""A later terminal event's value when it has one (its cost is the request's running sum)."""
LARGEST = (
    "attempts",
    "input_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
)


def fold_outcome(row: Params, outcome: Params) -> None:
    """A terminal event's ``outcome`` into a request ``row`` of the same batch."""
    if replaces_outcome(row["status"], outcome["status"]):
        for name in OUTCOME:
            row[name] = outcome[name]
    for name in LATEST_KNOWN:
        if outcome[name] is not None:
            row[name] = outcome[name]
    for name in LARGEST:
        row[name] = max(row[name], outcome[name])


def replaces_outcome(current: str, new: str) -> bool:
    return current == "in_progress" or (current == "completed" and new == "failed")


def _request_finished(event: ResponseCompleted | ResponseFailed, stamp: Stamp) -> Params:
    outcome = _request_outcome(event, stamp)
    return {"key_request_id": event.request_id, **{f"new_{k}": v for k, v in outcome.items()}}


def _request_outcome(event: ResponseCompleted | ResponseFailed, stamp: Stamp) -> Params:
    failed = isinstance(event, ResponseFailed)
    return {
        "finished_at": stamp(event.at),
        "latency_ms": event.latency_ms,
        "provider": event.provider_id,
        "model": event.model,
        "status": "failed" if failed else "completed",
        "http_status": event.status,
        "error_kind": event.error.kind.value if isinstance(event, ResponseFailed) else None,
        "attempts": event.attempts,
        **_tokens(event.usage),
        "cost_usd": event.cost_usd,
        "price_source": event.price_source,
        "cost_saved_usd": None if failed else event.cost_saved_usd,  # type: ignore[union-attr]
    }


def _attempt_started(event: AttemptStarted, stamp: Stamp) -> Params:
    return {
        "request_id": event.request_id,
        "attempt": event.attempt,
        "provider": event.provider_id,
        "provider_type": event.provider_type,
        "model": event.model,
        "key_id": event.key_id,
        "reason": event.reason,
        "started_at": stamp(event.at),
        "first_byte_ms": None,
        "finished_at": None,
        "latency_ms": None,
        "http_status": None,
        "outcome": None,
        "error_message": None,
        **_NO_TOKENS,
        "cost_usd": None,
        "price_source": None,
    }


def _attempt_first_byte(event: AttemptFirstByte) -> Params:
    return {
        "key_request_id": event.request_id,
        "key_attempt": event.attempt,
        "first_byte_ms": event.ttfb_ms,
        "http_status": event.status,
    }


def _attempt_finished(event: AttemptFinished, stamp: Stamp) -> Params:
    return {
        "key_request_id": event.request_id,
        "key_attempt": event.attempt,
        "new_http_status": event.status,
        **_attempt_outcome(event, stamp),
    }


def _fold_attempt_finished(row: Params, event: AttemptFinished, stamp: Stamp) -> None:
    """The update ``_attempt_finished`` would run, applied to a row not inserted yet."""
    row.update(_attempt_outcome(event, stamp))
    if event.status is not None:  # a failure without a response keeps the first byte's
        row["http_status"] = event.status


def _attempt_outcome(event: AttemptFinished, stamp: Stamp) -> Params:
    error = event.error
    return {
        "finished_at": stamp(event.at),
        "latency_ms": event.latency_ms,
        "outcome": "ok" if error is None else error.kind.value,
        "error_message": None if error is None else error.message,
        **_tokens(event.usage),
        "cost_usd": event.cost_usd,
        "price_source": event.price_source,
    }


__all__ = ["Params", "Projection", "Stamp", "project"]
