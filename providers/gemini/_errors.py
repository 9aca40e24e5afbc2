"""Gemini's google.rpc error bodies, mapped into the shared error vocabulary.

A body is ``{"error": {"code", "message", "status", "details": [...]}}`` (a JSON array of
one such object when the non-SSE stream fails). The mapping keys on the HTTP status,
the rpc ``status`` and typed ``details``:

- 429 ``RESOURCE_EXHAUSTED`` → ``rate_limited`` with ``retry_after`` from the
  ``google.rpc.RetryInfo`` detail (``"34.4s"`` → 34.4; Gemini sends no header), unless a
  ``google.rpc.QuotaFailure`` violation is a per-day quota (``quotaId`` containing
  ``PerDay``) or a zero quota (``quotaValue: "0"``, the model is not in the plan): that
  will not clear in seconds, so ``quota_exhausted`` — fail over, do not retry (the
  RetryInfo Gemini attaches to those is dropped).
- Our key (bench it): 401 ``UNAUTHENTICATED``; a ``google.rpc.ErrorInfo`` detail whose
  reason is about the key or its project (``API_KEY_INVALID`` — Gemini answers a bad key
  with 400 —, ``CONSUMER_SUSPENDED``, ``SERVICE_DISABLED``, ``BILLING_DISABLED``, an
  ``API_KEY_*_BLOCKED`` restriction, ...); a 403 whose message speaks of the API key
  ("Your API key was reported as leaked", which has no structured reason; request-named
  resources are ids without spaces, so a client cannot make a message say "API key")
  → ``provider_auth`` (502).
- Anything else forbidden (403 ``PERMISSION_DENIED``: "You do not have permission to
  access the File … or it may not exist", a tuned model of another project) fails the
  request only → ``forbidden`` (403), never benching the key all tenants share; 400
  ``FAILED_PRECONDITION`` (a file not yet ``ACTIVE``, a region without the free tier)
  → ``bad_request`` (400).
- 400 ``INVALID_ARGUMENT`` whose message says the input token count exceeds the maximum
  → ``context_too_long``. Gemini has no structured signal for this, so the message is
  matched; other 400s → ``bad_request``.
- 404 → ``not_found``; 413 → ``payload_too_large``; 503 ``UNAVAILABLE`` (Gemini's "model
  is overloaded") → ``overloaded``; other 5xx (500 ``INTERNAL``, 504
  ``DEADLINE_EXCEEDED``) → ``upstream_error`` (502).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import orjson

from messages.errors import ErrorInfo, ErrorKind
from providers.retry_after import retry_after_header

_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
_QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure"
_ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
_NUMBER = re.compile(r"\s*(\d+(?:\.\d*)?)\s*")
_CONTEXT_TOO_LONG = re.compile(r"exceeds the maximum number of tokens", re.IGNORECASE)
_KEY_REASONS = frozenset(
    {
        "API_KEY_INVALID",
        "API_KEY_EXPIRED",
        "API_KEY_SERVICE_BLOCKED",
        "API_KEY_HTTP_REFERRER_BLOCKED",
        "API_KEY_IP_ADDRESS_BLOCKED",
        "API_KEY_ANDROID_APP_BLOCKED",
        "API_KEY_IOS_APP_BLOCKED",
        "CONSUMER_SUSPENDED",
        "CONSUMER_INVALID",
        "SERVICE_DISABLED",
        "BILLING_DISABLED",
        "ACCESS_TOKEN_EXPIRED",
        "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
        "IAM_PERMISSION_DENIED",
    }
)
_ABOUT_THE_KEY = re.compile(r"\bapi key\b", re.IGNORECASE)


def map_gemini_error(status: int, headers: Sequence[tuple[str, str]], body: bytes) -> ErrorInfo:
    """A non-2xx reply as one ``ErrorInfo``."""
    error = _error_object(body)
    info = rpc_error(error, status)
    if info.retry_after is None and info.kind is not ErrorKind.QUOTA_EXHAUSTED:
        seconds = retry_after_header(headers)
        if seconds is not None:
            return _with_retry_after(info, seconds)
    return info


def rpc_error(error: Mapping[str, object], http_status: int | None = None) -> ErrorInfo:
    """One google.rpc error object (from an error body or a mid-stream ``data:`` line)."""
    code = error.get("code")
    status = http_status or (code if isinstance(code, int) else 500)
    rpc_status = error.get("status")
    message = error.get("message")
    text = message if isinstance(message, str) and message else f"Gemini answered HTTP {status}"
    details = [d for d in _list(error.get("details")) if isinstance(d, Mapping)]
    kind, client_status = _classify(status, str(rpc_status or ""), text, details)
    retry_after = _retry_delay(details) if kind is not ErrorKind.QUOTA_EXHAUSTED else None
    return ErrorInfo(kind=kind, status=client_status, message=text, retry_after=retry_after)


def _classify(
    status: int, rpc_status: str, message: str, details: Sequence[Mapping[str, object]]
) -> tuple[ErrorKind, int]:
    if status == 429 or rpc_status == "RESOURCE_EXHAUSTED":
        if _quota_exhausted(details):
            return ErrorKind.QUOTA_EXHAUSTED, 429
        return ErrorKind.RATE_LIMITED, 429
    if status == 401 or rpc_status == "UNAUTHENTICATED" or _bad_key(details):
        return ErrorKind.PROVIDER_AUTH, 502
    if status == 403 or rpc_status == "PERMISSION_DENIED":
        if _ABOUT_THE_KEY.search(message):
            return ErrorKind.PROVIDER_AUTH, 502
        return ErrorKind.FORBIDDEN, 403
    if status == 404 or rpc_status == "NOT_FOUND":
        return ErrorKind.NOT_FOUND, 404
    if status == 413:
        return ErrorKind.PAYLOAD_TOO_LARGE, 413
    if 400 <= status < 500:
        if _CONTEXT_TOO_LONG.search(message):
            return ErrorKind.CONTEXT_TOO_LONG, 400
        return ErrorKind.BAD_REQUEST, 400
    if status == 503 or rpc_status == "UNAVAILABLE":
        return ErrorKind.OVERLOADED, 503
    return ErrorKind.UPSTREAM_ERROR, 502


def _quota_exhausted(details: Sequence[Mapping[str, object]]) -> bool:
    for detail in details:
        if detail.get("@type") != _QUOTA_FAILURE:
            continue
        for violation in _list(detail.get("violations")):
            if not isinstance(violation, Mapping):
                continue
            quota_id = violation.get("quotaId")
            if isinstance(quota_id, str) and "PerDay" in quota_id:
                return True
            if violation.get("quotaValue") in ("0", 0):
                return True
    return False


def _bad_key(details: Sequence[Mapping[str, object]]) -> bool:
    return any(d.get("@type") == _ERROR_INFO and d.get("reason") in _KEY_REASONS for d in details)


def _retry_delay(details: Sequence[Mapping[str, object]]) -> float | None:
    for detail in details:
        if detail.get("@type") == _RETRY_INFO:
            delay = detail.get("retryDelay")
            return _seconds(delay.strip().removesuffix("s") if isinstance(delay, str) else None)
    return None


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    found = _NUMBER.fullmatch(value)
    return None if found is None else float(found.group(1))


def _with_retry_after(info: ErrorInfo, seconds: float) -> ErrorInfo:
    return ErrorInfo(
        kind=info.kind,
        status=info.status,
        message=info.message,
        code=info.code,
        retry_after=seconds,
    )


def _error_object(body: bytes) -> Mapping[str, object]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    if isinstance(document, list) and document:
        document = document[0]
    error = document.get("error") if isinstance(document, dict) else None
    return error if isinstance(error, dict) else {}


def _list(value: object) -> Sequence[object]:
    return value if isinstance(value, list) else ()


__all__ = ["map_gemini_error", "rpc_error"]
