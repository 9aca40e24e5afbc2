"""The ``response.failed`` event, built in one place for every actor that ends a request
(ingress, router, provider worker, attempt): its time, its latency from the request's
start on the trio clock, and its status (200 once the answer had begun)."""

from __future__ import annotations

import time

import trio

from messages.errors import ErrorInfo
from messages.events import ResponseFailed
from messages.usage import Usage


def response_failed(
    request_id: str,
    started: float,
    error: ErrorInfo,
    *,
    provider_id: str | None = None,
    model: str | None = None,
    attempts: int = 0,
    usage: Usage | None = None,
    after_first_byte: bool = False,
) -> ResponseFailed:
    """``started`` is the request's start on the trio clock (``ClientRequest.started``)."""
    return ResponseFailed(
        request_id=request_id,
        at=time.time(),
        status=200 if after_first_byte else error.status,
        latency_ms=(trio.current_time() - started) * 1000,
        provider_id=provider_id,
        model=model,
        attempts=attempts,
        error=error,
        usage=usage,
        after_first_byte=after_first_byte,
    )


__all__ = ["response_failed"]
