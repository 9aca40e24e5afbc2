"""Anthropic errors → the shared vocabulary (``messages.errors``).

Keys on the structured ``error.type`` first, then on the HTTP status. Only
``authentication_error`` (401: the key is invalid or revoked) and ``billing_error``
(the account cannot pay) are about our key and bench it; ``permission_error`` (403:
"Your API key does not have permission to use the specified resource" — a model, a
file or a feature the request names) fails that request only, as a 403 ``forbidden``,
so no client can rest the key every tenant shares. The one exception
to "no message matching": Anthropic reports a prompt over the context window as a plain
``invalid_request_error`` ("prompt is too long: 208656 tokens > 200000 maximum", or
"input length and `max_tokens` exceed context limit: …") with no code of its own, so
that message is the only signal for ``CONTEXT_TOO_LONG``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import orjson

from messages.errors import ErrorInfo, ErrorKind
from messages.json import Json
from providers.retry_after import retry_after_header

_BY_TYPE: dict[str, tuple[ErrorKind, int]] = {
    "invalid_request_error": (ErrorKind.BAD_REQUEST, 400),
    "authentication_error": (ErrorKind.PROVIDER_AUTH, 502),
    "permission_error": (ErrorKind.FORBIDDEN, 403),
    "billing_error": (ErrorKind.QUOTA_EXHAUSTED, 429),
    "not_found_error": (ErrorKind.NOT_FOUND, 404),
    "request_too_large": (ErrorKind.PAYLOAD_TOO_LARGE, 413),
    "rate_limit_error": (ErrorKind.RATE_LIMITED, 429),
    "api_error": (ErrorKind.UPSTREAM_ERROR, 502),
    "timeout_error": (ErrorKind.TIMEOUT, 504),
    "overloaded_error": (ErrorKind.OVERLOADED, 503),
}
_BY_STATUS: dict[int, tuple[ErrorKind, int]] = {
    400: (ErrorKind.BAD_REQUEST, 400),
    401: (ErrorKind.PROVIDER_AUTH, 502),
    402: (ErrorKind.QUOTA_EXHAUSTED, 429),
    403: (ErrorKind.FORBIDDEN, 403),
    404: (ErrorKind.NOT_FOUND, 404),
    408: (ErrorKind.TIMEOUT, 504),
    413: (ErrorKind.PAYLOAD_TOO_LARGE, 413),
    429: (ErrorKind.RATE_LIMITED, 429),
    503: (ErrorKind.OVERLOADED, 503),
    504: (ErrorKind.TIMEOUT, 504),
    529: (ErrorKind.OVERLOADED, 503),
}
_CONTEXT_TOO_LONG_MARKERS = ("prompt is too long", "exceed context limit")


def map_http_error(status: int, headers: Sequence[tuple[str, str]], body: bytes) -> ErrorInfo:
    """A non-2xx reply as one ``ErrorInfo``, keeping ``retry-after`` (seconds)."""
    error_type, message = _read_error_body(body)
    kind, client_status = _classify(error_type, status)
    if not message:
        snippet = body[:200].decode("utf-8", "replace").strip()
        message = f"anthropic answered HTTP {status}" + (f": {snippet}" if snippet else "")
    return _info(kind, client_status, message, error_type, retry_after_header(headers))


def map_error_object(error: Json) -> ErrorInfo:
    """An ``error`` event's (or 200 body's) ``{"type", "message"}`` object."""
    error_type = message = None
    if isinstance(error, Mapping):
        error_type = _text(error.get("type"))
        message = _text(error.get("message"))
    kind, client_status = _classify(error_type, 0)
    return _info(kind, client_status, message or "anthropic reported an error", error_type, None)


def _info(
    kind: ErrorKind, status: int, message: str, code: str | None, retry_after: float | None
) -> ErrorInfo:
    if kind is ErrorKind.BAD_REQUEST and _says_context_too_long(message):
        kind = ErrorKind.CONTEXT_TOO_LONG
    return ErrorInfo(kind=kind, status=status, message=message, code=code, retry_after=retry_after)


def _classify(error_type: str | None, status: int) -> tuple[ErrorKind, int]:
    if error_type in _BY_TYPE:
        return _BY_TYPE[error_type]
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if 400 <= status < 500:
        return ErrorKind.BAD_REQUEST, 400
    return ErrorKind.UPSTREAM_ERROR, 502


def _read_error_body(body: bytes) -> tuple[str | None, str | None]:
    try:
        document: Json = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None
    error = document.get("error") if isinstance(document, Mapping) else None
    if not isinstance(error, Mapping):
        return None, None
    return _text(error.get("type")), _text(error.get("message"))


def _says_context_too_long(message: str) -> bool:
    lowered = message.lower()
    return any(marker in lowered for marker in _CONTEXT_TOO_LONG_MARKERS)


def _text(value: Json) -> str | None:
    return value if isinstance(value, str) else None


__all__ = ["map_error_object", "map_http_error"]
