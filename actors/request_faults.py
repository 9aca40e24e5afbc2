"""One request's failure, kept to that request: what our own bug looks like to the client
and in the trail, and trail events sent without ever raising on the request's path.

A bug met while serving one request (an exception in the ingress, the router or a
provider worker's job) is caught at that request's boundary: it is logged with its
traceback and the request id, the client gets a 500 naming the request id (in the
stream, if the answer had begun), and the trail gets ``response.failed`` with kind
``internal``. It never cancels another request and never reaches a supervisor, whose
restart budget is for actor-level failures only.
"""

from __future__ import annotations

import structlog
import trio

from config.model import GatewayConfig, VirtualKeyConfig
from messages.chat import ClientFormat
from messages.errors import ErrorInfo, ErrorKind
from messages.events import TrailEvent
from providers.client_formats.inbound import ParsedRequest, RequestRejected, parse_request

log = structlog.get_logger("switchyard.request_faults")

_dropped = 0


def internal_error(request_id: str) -> ErrorInfo:
    """The client's view of our bug: one line, the request id to quote, no internals."""
    return ErrorInfo(
        kind=ErrorKind.INTERNAL,
        status=500,
        message=f"internal error while serving request {request_id}; the gateway logged it",
    )


def emit(audit: trio.MemorySendChannel[TrailEvent], event: TrailEvent) -> None:
    """Queue ``event`` for the audit logger without waiting; a full or closed inbox drops
    it (counted, logged loudly at 1, 2, 4, 8… drops) rather than failing the request."""
    try:
        audit.send_nowait(event)
    except (trio.WouldBlock, trio.BrokenResourceError, trio.ClosedResourceError) as exc:
        global _dropped
        _dropped += 1
        if _dropped & (_dropped - 1) == 0:
            log.error(
                "audit inbox cannot take a trail event: event dropped",
                request_id=event.request_id,
                kind=type(event).__name__,
                why=type(exc).__name__,
                dropped=_dropped,
            )


def parse_guarded(
    raw: bytes,
    fmt: ClientFormat,
    config: GatewayConfig,
    key: VirtualKeyConfig | None,
    request_id: str,
) -> ParsedRequest:
    """``parse_request``, with a bug in it turned into this request's own 500."""
    try:
        return parse_request(raw, fmt, config, key)
    except RequestRejected:
        raise
    except Exception as exc:
        log.exception("request failed: internal error", request_id=request_id)
        error = internal_error(request_id)
        key_id = key.id if key is not None else None
        raise RequestRejected(error, key_id=key_id, model=None, body_json=b"null") from exc


def log_handler_failure(exc: Exception) -> None:
    """The HTTP server's report (``on_handler_error``) of a handler that raised, or left
    its request unanswered, outside an inference request's own boundary."""
    log.error("request handler failed", exc_info=exc)


def trail_events_dropped() -> int:
    """Trail events dropped so far by ``emit`` in this process."""
    return _dropped


__all__ = [
    "emit",
    "internal_error",
    "log_handler_failure",
    "parse_guarded",
    "trail_events_dropped",
]
