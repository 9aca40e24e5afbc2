"""Cohere v2 errors → the shared vocabulary (``messages.errors``).

Cohere's error body is only ``{"id", "message"}``: no type or code field, so the HTTP
status decides the kind: 401 (our key is invalid) and 402 (our account cannot pay) bench
the key; 403 fails the request only. The one exception to "no message matching": a prompt over the
context window is a plain 400 whose message says "too many tokens" (e.g. "too many
tokens: total number of tokens in the prompt cannot exceed 128000"), so that text is the
only signal for ``CONTEXT_TOO_LONG``. ``Retry-After`` is kept when Cohere sends one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import orjson

from messages.errors import ErrorInfo, ErrorKind
from messages.json import Json
from providers.retry_after import parse_retry_after

_BY_STATUS: dict[int, tuple[ErrorKind, int]] = {
    400: (ErrorKind.BAD_REQUEST, 400),
    401: (ErrorKind.PROVIDER_AUTH, 502),  # our key, not the client's
    402: (ErrorKind.QUOTA_EXHAUSTED, 429),  # the account cannot pay: fail over
    403: (ErrorKind.FORBIDDEN, 403),  # what the request asks for, not our key: no bench
    404: (ErrorKind.NOT_FOUND, 404),
    413: (ErrorKind.PAYLOAD_TOO_LARGE, 413),
    422: (ErrorKind.BAD_REQUEST, 400),
    429: (ErrorKind.RATE_LIMITED, 429),
    498: (ErrorKind.BAD_REQUEST, 400),  # a deny-listed token in the request
    499: (ErrorKind.UPSTREAM_ERROR, 502),  # Cohere cancelled it: worth another try
    500: (ErrorKind.UPSTREAM_ERROR, 502),
    501: (ErrorKind.BAD_REQUEST, 400),  # a feature Cohere does not implement
    503: (ErrorKind.OVERLOADED, 503),
    504: (ErrorKind.TIMEOUT, 504),
}
_CONTEXT_TOO_LONG_MARKER = "too many tokens"


def map_cohere_error(status: int, headers: Sequence[tuple[str, str]], body: bytes) -> ErrorInfo:
    """A non-2xx reply as one ``ErrorInfo``, keeping ``retry-after`` (seconds)."""
    kind, client_status = _classify(status)
    message = _message(body)
    if kind is ErrorKind.BAD_REQUEST and _CONTEXT_TOO_LONG_MARKER in message.lower():
        kind = ErrorKind.CONTEXT_TOO_LONG
    if not message:
        snippet = body[:200].decode("utf-8", "replace").strip()
        message = f"cohere answered HTTP {status}" + (f": {snippet}" if snippet else "")
    return ErrorInfo(
        kind=kind,
        status=client_status,
        message=message,
        retry_after=parse_retry_after(_header(headers, "retry-after")),
    )


def _classify(status: int) -> tuple[ErrorKind, int]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if 400 <= status < 500:
        return ErrorKind.BAD_REQUEST, 400
    return ErrorKind.UPSTREAM_ERROR, 502


def _message(body: bytes) -> str:
    try:
        document: Json = orjson.loads(body)
    except orjson.JSONDecodeError:
        return ""
    message = document.get("message") if isinstance(document, Mapping) else None
    return message if isinstance(message, str) else ""


def _header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in headers if key.lower() == name), None)


__all__ = ["map_cohere_error"]
