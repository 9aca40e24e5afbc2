"""Errors in Anthropic's shape, for clients of the Messages API.

A body is ``{"type": "error", "error": {"type": …, "message": …}, "request_id": …}``;
in a stream, ``event: error`` with the same object. The ``error.type`` follows
Anthropic's own status ↔ type table: 400 ``invalid_request_error``, 401
``authentication_error``, 402 ``billing_error``, 403 ``permission_error``, 404
``not_found_error``, 413 ``request_too_large``, 429 ``rate_limit_error``, 500
``api_error``, 504 ``timeout_error``, 529 ``overloaded_error``. The gateway keeps its
own statuses where they say more (502 for a provider that failed, 503 when the gateway
sheds load) with the type of the nearest Anthropic status; the SDK picks its exception
class by status and retries 408, 409, 429 and 5xx.
"""

from __future__ import annotations

import orjson

from messages.errors import ErrorInfo, ErrorKind, client_message

_TYPE_BY_KIND = {
    ErrorKind.BAD_REQUEST: "invalid_request_error",
    ErrorKind.NOT_FOUND: "not_found_error",
    ErrorKind.PAYLOAD_TOO_LARGE: "request_too_large",
    ErrorKind.CONTEXT_TOO_LONG: "invalid_request_error",
    ErrorKind.FORBIDDEN: "permission_error",
    ErrorKind.UNAUTHENTICATED: "authentication_error",
    ErrorKind.BUDGET_EXCEEDED: "billing_error",
    ErrorKind.RATE_LIMITED: "rate_limit_error",
    ErrorKind.QUOTA_EXHAUSTED: "rate_limit_error",
    ErrorKind.PROVIDER_AUTH: "api_error",
    ErrorKind.OVERLOADED: "overloaded_error",
    ErrorKind.UPSTREAM_ERROR: "api_error",
    ErrorKind.TIMEOUT: "timeout_error",
    ErrorKind.PROTOCOL: "api_error",
    ErrorKind.SHED: "overloaded_error",
    ErrorKind.CLIENT_CLOSED: "api_error",
    ErrorKind.INTERNAL: "api_error",
}


def anthropic_error_type(kind: ErrorKind) -> str:
    return _TYPE_BY_KIND[kind]


def _error_object(error: ErrorInfo, request_id: str | None) -> dict[str, object]:
    message = client_message(error)
    if error.param and error.param not in message:
        message = f"{error.param}: {message}"
    body: dict[str, object] = {
        "type": "error",
        "error": {"type": anthropic_error_type(error.kind), "message": message},
    }
    if request_id is not None:
        body["request_id"] = request_id
    return body


def render_anthropic_error(error: ErrorInfo, request_id: str | None = None) -> bytes:
    """An error response body."""
    return orjson.dumps(_error_object(error, request_id))


def anthropic_stream_error(error: ErrorInfo) -> bytes:
    """The in-stream ``event: error`` (after which the stream ends)."""
    return b"event: error\ndata: " + orjson.dumps(_error_object(error, None)) + b"\n\n"


__all__ = ["anthropic_error_type", "anthropic_stream_error", "render_anthropic_error"]
