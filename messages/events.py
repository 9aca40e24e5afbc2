"""The request trail: what happened to each request, in order.

Actors emit these to the audit logger, which gives each one its ``seq`` within the
request (arrival order at the single audit inbox is causal order) and writes them to
the append-only ``events`` table, projecting ``requests`` and ``attempts`` rows as it
goes. Payload fields are plain values; request and response bodies are the exact JSON
bytes seen on the wire, minus credentials.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from messages.errors import ErrorInfo
from messages.usage import Usage


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestReceived:
    kind = "request.received"
    request_id: str
    at: float
    client_format: str
    endpoint: str
    model_requested: str
    stream: bool
    virtual_key_id: str | None
    account_id: str | None
    session_id: str | None
    thread_id: str | None
    user_agent: str | None
    body: bytes
    team: str | None = None  # the virtual key's team and customer when the request came
    customer: str | None = None
    replay_run_id: str | None = None  # a replayed request: its run (``switchyard replay``)
    original_request_id: str | None = None  # ... and the logged request it sends again


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteDecided:
    kind = "route.decided"
    request_id: str
    at: float
    candidates: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptStarted:
    kind = "attempt.started"
    request_id: str
    at: float
    attempt: int
    provider_id: str
    provider_type: str
    model: str
    key_id: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptFirstByte:
    kind = "attempt.first_byte"
    request_id: str
    at: float
    attempt: int
    status: int
    ttfb_ms: float


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptFinished:
    kind = "attempt.finished"
    request_id: str
    at: float
    attempt: int
    provider_id: str
    model: str
    status: int | None
    latency_ms: float
    usage: Usage | None
    error: ErrorInfo | None
    cost_usd: float | None = None
    price_source: str | None = None  # shipped | config | fallback; None: not priced


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptAnomaly:
    """A number the provider sent that was not believed (negative, fractional, a string,
    absurdly large…): what it was, truncated, and the safe value used instead."""

    kind = "attempt.anomaly"
    request_id: str
    at: float
    attempt: int
    provider_id: str
    field: str
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseCompleted:
    kind = "response.completed"
    request_id: str
    at: float
    status: int
    latency_ms: float
    provider_id: str
    model: str
    attempts: int
    usage: Usage | None
    response: bytes
    cost_usd: float | None = None
    price_source: str | None = None  # the attempts' least certain: fallback > config > shipped


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseFailed:
    kind = "response.failed"
    request_id: str
    at: float
    status: int
    latency_ms: float
    provider_id: str | None
    model: str | None
    attempts: int
    error: ErrorInfo
    usage: Usage | None = None
    after_first_byte: bool = False
    cost_usd: float | None = None
    price_source: str | None = None


TrailEvent: TypeAlias = (
    RequestReceived
    | RouteDecided
    | AttemptStarted
    | AttemptFirstByte
    | AttemptFinished
    | AttemptAnomaly
    | ResponseCompleted
    | ResponseFailed
)
TERMINAL_KINDS = frozenset({ResponseCompleted.kind, ResponseFailed.kind})

__all__ = [
    "TERMINAL_KINDS",
    "AttemptAnomaly",
    "AttemptFinished",
    "AttemptFirstByte",
    "AttemptStarted",
    "RequestReceived",
    "ResponseCompleted",
    "ResponseFailed",
    "RouteDecided",
    "TrailEvent",
]
