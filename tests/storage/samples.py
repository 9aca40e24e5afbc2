"""Realistic trail events for storage and audit tests."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from messages.errors import ErrorInfo, ErrorKind
from messages.events import (
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
from storage import SequencedEvent

T0 = 1_767_225_600.25  # 2026-01-01T00:00:00.25Z


def request_body(request_id: str, *, padding: int = 0) -> bytes:
    return orjson.dumps(
        {
            "model": "gpt-5-codex",
            "input": [{"role": "user", "content": f"fix the bug ({request_id})" + "x" * padding}],
            "stream": True,
        }
    )


def received(request_id: str, *, at: float = T0, body: bytes | None = None) -> RequestReceived:
    return RequestReceived(
        request_id=request_id,
        at=at,
        client_format="openai-responses",
        endpoint="/v1/responses",
        model_requested="gpt-5-codex",
        stream=True,
        virtual_key_id="vk-team-a",
        account_id="acct-1",
        session_id=f"session-{request_id}",
        thread_id="thread-1",
        user_agent="codex_cli_rs/0.169.0",
        body=request_body(request_id) if body is None else body,
    )


def completed_request(request_id: str, *, at: float = T0, padding: int = 0) -> list[TrailEvent]:
    """received → routed → one attempt with first byte → completed."""
    usage = Usage(
        input_tokens=1200, cached_input_tokens=1000, output_tokens=300, reasoning_tokens=64
    )
    return [
        received(request_id, at=at, body=request_body(request_id, padding=padding)),
        RouteDecided(
            request_id=request_id, at=at + 0.001, candidates=("openai-main",), reason="weighted"
        ),
        AttemptStarted(
            request_id=request_id,
            at=at + 0.002,
            attempt=1,
            provider_id="openai-main",
            provider_type="openai",
            model="gpt-5-codex",
            key_id="key-3f9a",
            reason="primary",
        ),
        AttemptFirstByte(
            request_id=request_id, at=at + 0.250, attempt=1, status=200, ttfb_ms=248.0
        ),
        AttemptFinished(
            request_id=request_id,
            at=at + 1.500,
            attempt=1,
            provider_id="openai-main",
            model="gpt-5-codex",
            status=None,
            latency_ms=1498.0,
            usage=usage,
            error=None,
            cost_usd=0.0042,
        ),
        ResponseCompleted(
            request_id=request_id,
            at=at + 1.501,
            status=200,
            latency_ms=1501.0,
            provider_id="openai-main",
            model="gpt-5-codex",
            attempts=1,
            usage=usage,
            response=orjson.dumps({"id": "resp_1", "status": "completed", "output": []}),
            cost_usd=0.0042,
        ),
    ]


def failed_request(request_id: str, *, at: float = T0) -> list[TrailEvent]:
    """received → attempt 1 rate limited → failover attempt 2 refused → failed 502."""
    return [
        received(request_id, at=at),
        AttemptStarted(
            request_id=request_id,
            at=at + 0.01,
            attempt=1,
            provider_id="openai-main",
            provider_type="openai",
            model="gpt-5-codex",
            key_id="key-3f9a",
            reason="primary",
        ),
        AttemptFirstByte(request_id=request_id, at=at + 0.05, attempt=1, status=429, ttfb_ms=40.0),
        AttemptFinished(
            request_id=request_id,
            at=at + 0.06,
            attempt=1,
            provider_id="openai-main",
            model="gpt-5-codex",
            status=429,
            latency_ms=50.0,
            usage=None,
            error=ErrorInfo(kind=ErrorKind.RATE_LIMITED, status=429, message="slow down"),
        ),
        AttemptStarted(
            request_id=request_id,
            at=at + 0.07,
            attempt=2,
            provider_id="azure-backup",
            provider_type="azure",
            model="gpt-5-codex",
            key_id="key-77c1",
            reason="failover:rate_limited",
        ),
        AttemptFinished(
            request_id=request_id,
            at=at + 0.08,
            attempt=2,
            provider_id="azure-backup",
            model="gpt-5-codex",
            status=None,
            latency_ms=10.0,
            usage=None,
            error=ErrorInfo(
                kind=ErrorKind.UPSTREAM_ERROR, status=502, message="connection refused"
            ),
        ),
        ResponseFailed(
            request_id=request_id,
            at=at + 0.09,
            status=502,
            latency_ms=90.0,
            provider_id="azure-backup",
            model="gpt-5-codex",
            attempts=2,
            error=ErrorInfo(
                kind=ErrorKind.UPSTREAM_ERROR, status=502, message="all providers failed"
            ),
        ),
    ]


def sequenced(events: Sequence[TrailEvent], *, first_seq: int = 1) -> list[SequencedEvent]:
    """Number one request's events from ``first_seq``."""
    return [SequencedEvent(seq=first_seq + i, event=event) for i, event in enumerate(events)]
