"""The canonical line per request: one ``request.finished`` on the ``switchyard.request``
logger when a request's terminal event reaches the audit logger (ids, status, latency,
provider, tokens, cost; never bodies or secrets)."""

from __future__ import annotations

import structlog

from messages.events import ResponseCompleted, ResponseFailed

REQUEST_LOGGER = "switchyard.request"
# A lazy proxy: it picks up the configuration the entry point sets after import.
_request_log = structlog.get_logger(REQUEST_LOGGER)


def log_request(event: ResponseCompleted | ResponseFailed, session_id: str | None) -> None:
    usage = event.usage
    _request_log.info(
        "request.finished",
        logger=REQUEST_LOGGER,  # the name as a field, whatever logger factory is configured
        request_id=event.request_id,
        status="failed" if isinstance(event, ResponseFailed) else "completed",
        http_status=event.status,
        error_kind=event.error.kind.value if isinstance(event, ResponseFailed) else None,
        latency_ms=round(event.latency_ms, 1),
        provider=event.provider_id,
        model=event.model,
        attempts=event.attempts,
        input_tokens=usage.input_tokens if usage else 0,
        cached_input_tokens=usage.cached_input_tokens if usage else 0,
        output_tokens=usage.output_tokens if usage else 0,
        reasoning_tokens=usage.reasoning_tokens if usage else 0,
        cost_usd=event.cost_usd,
        session_id=session_id,
    )


__all__ = ["REQUEST_LOGGER", "log_request"]
