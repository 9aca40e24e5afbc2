"""OpenAI's error bodies and statuses, mapped into the shared error vocabulary.

Used by every OpenAI-shaped provider (OpenAI, OpenAI-compatible servers, Mistral, Groq,
Cerebras, Perplexity). Which failures rest (bench) our key, and which fail the request
only:

- 401, whatever the code (``invalid_api_key``, ``account_deactivated``,
  ``invalid_organization``, a restricted key's missing scopes, Mistral's bare
  ``{"message": "Unauthorized"}``, Perplexity's HTML): our credentials → ``provider_auth``.
- 429 ``insufficient_quota``: our account is spent → ``quota_exhausted``.
- 403 with a code or type about the key or the account itself (``invalid_api_key``,
  ``account_deactivated``, ``unsupported_country_region_territory`` /
  ``request_forbidden``: the gateway's network is geo-blocked) → ``provider_auth``.
- any other 403 (``model_not_found`` "Project `proj_…` does not have access to model
  `gpt-4.1`", a file of another project, no body at all): the request asks for something
  our key may not use → ``forbidden`` (403 to the client, no bench, no failover): a client
  pinning ``provider/model`` must not be able to rest the keys every tenant shares.

Also the renderer of the OpenAI error shape, ``{"error": {message, type, param, code}}``,
which the ingress uses for every error on an OpenAI route.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from messages.errors import ErrorInfo, ErrorKind, client_message
from providers.retry_after import parse_retry_after

_TYPE_BY_KIND = {
    ErrorKind.BAD_REQUEST: "invalid_request_error",
    ErrorKind.NOT_FOUND: "invalid_request_error",
    ErrorKind.PAYLOAD_TOO_LARGE: "invalid_request_error",
    ErrorKind.CONTEXT_TOO_LONG: "invalid_request_error",
    ErrorKind.FORBIDDEN: "permission_error",
    ErrorKind.UNAUTHENTICATED: "authentication_error",
    ErrorKind.BUDGET_EXCEEDED: "budget_exceeded",
    ErrorKind.RATE_LIMITED: "rate_limit_error",
    ErrorKind.QUOTA_EXHAUSTED: "insufficient_quota",
    ErrorKind.PROVIDER_AUTH: "upstream_error",
    ErrorKind.OVERLOADED: "server_error",
    ErrorKind.UPSTREAM_ERROR: "server_error",
    ErrorKind.TIMEOUT: "timeout_error",
    ErrorKind.PROTOCOL: "server_error",
    ErrorKind.SHED: "server_error",
    ErrorKind.CLIENT_CLOSED: "client_closed",
    ErrorKind.INTERNAL: "server_error",
}

_DEFAULT_CODE = {
    ErrorKind.NOT_FOUND: "model_not_found",
    ErrorKind.UNAUTHENTICATED: "invalid_api_key",
    ErrorKind.RATE_LIMITED: "rate_limit_exceeded",
    ErrorKind.QUOTA_EXHAUSTED: "insufficient_quota",
    ErrorKind.CONTEXT_TOO_LONG: "context_length_exceeded",
    ErrorKind.OVERLOADED: "server_is_overloaded",
    ErrorKind.SHED: "server_is_overloaded",
    ErrorKind.PAYLOAD_TOO_LARGE: "request_too_large",
    ErrorKind.TIMEOUT: "timeout",
    ErrorKind.UPSTREAM_ERROR: "server_error",
    ErrorKind.PROVIDER_AUTH: "upstream_authentication_failed",
}

_KEY_CODES_ON_403 = frozenset(
    {
        "invalid_api_key",
        "account_deactivated",
        "invalid_organization",
        "no_organization",
        "unsupported_country_region_territory",
    }
)


def openai_error_type(kind: ErrorKind) -> str:
    return _TYPE_BY_KIND[kind]


def openai_error_code(error: ErrorInfo) -> str | None:
    """OpenAI's code for the kind where it has one (so a client sees ``rate_limit_exceeded``
    whichever provider was rate limited), else the provider's own code."""
    return _DEFAULT_CODE.get(error.kind) or error.code


def render_openai_error(error: ErrorInfo) -> bytes:
    """The body OpenAI clients expect for ``error``."""
    return orjson.dumps(
        {
            "error": {
                "message": client_message(error),
                "type": openai_error_type(error.kind),
                "param": error.param,
                "code": openai_error_code(error),
            }
        }
    )


def header_value(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def map_openai_error(status: int, headers: Sequence[tuple[str, str]], body: bytes) -> ErrorInfo:
    """An OpenAI (or OpenAI-compatible) non-2xx reply as one ``ErrorInfo``."""
    message, code, param, error_type = _error_fields(body)
    retry_after = parse_retry_after(header_value(headers, "retry-after"))
    kind, client_status = _classify(status, code, error_type)
    return ErrorInfo(
        kind=kind,
        status=client_status,
        message=message or f"upstream answered HTTP {status}",
        code=code,
        param=param,
        retry_after=retry_after,
    )


def _classify(status: int, code: str | None, error_type: str | None) -> tuple[ErrorKind, int]:
    if status == 429:
        if code == "insufficient_quota":
            return ErrorKind.QUOTA_EXHAUSTED, 429
        return ErrorKind.RATE_LIMITED, 429
    if code == "context_length_exceeded":
        return ErrorKind.CONTEXT_TOO_LONG, 400
    if status == 401:
        return ErrorKind.PROVIDER_AUTH, 502
    if status == 403:
        if code in _KEY_CODES_ON_403 or error_type == "request_forbidden":
            return ErrorKind.PROVIDER_AUTH, 502
        return ErrorKind.FORBIDDEN, 403
    if status == 404:
        return ErrorKind.NOT_FOUND, 404
    if status == 413:
        return ErrorKind.PAYLOAD_TOO_LARGE, 413
    if status in (400, 409, 422):
        return ErrorKind.BAD_REQUEST, status
    if status in (503, 529) or code == "server_is_overloaded":
        return ErrorKind.OVERLOADED, 503
    if 500 <= status <= 599:
        return ErrorKind.UPSTREAM_ERROR, status
    return ErrorKind.UPSTREAM_ERROR, 502


def _error_fields(body: bytes) -> tuple[str | None, str | None, str | None, str | None]:
    """(message, code, param, type) from OpenAI's shape and the shapes compatible servers use:
    ``{"error": "…"}``, ``{"message": …}`` (Mistral, sometimes an object of validation
    details) and ``{"detail": …}`` (FastAPI servers such as vLLM)."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None, None, None
    if not isinstance(document, dict):
        return None, None, None, None
    error = document.get("error")
    if isinstance(error, str):
        return error, None, None, None
    if isinstance(error, dict):
        message, param = _text(error.get("message")), _str_or_none(error.get("param"))
        return message, _code(error), param, _str_or_none(error.get("type"))
    return _text(document.get("message", document.get("detail"))), None, None, None


def _text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()[:2000]


def _code(error: dict[str, object]) -> str | None:
    code = error.get("code")
    if isinstance(code, str):
        return code
    kind = error.get("type")
    return kind if kind in ("insufficient_quota", "context_length_exceeded") else None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


__all__ = [
    "header_value",
    "map_openai_error",
    "openai_error_code",
    "openai_error_type",
    "render_openai_error",
]
