"""Gemini adapter: non-2xx replies mapped into the shared error vocabulary."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from messages.errors import ErrorKind
from providers.gemini.adapter import ADAPTER
from tests.providers.gemini_support import fixture_bytes


def rpc(
    code: int, status: str, message: str = "m", details: Sequence[object] | None = None
) -> bytes:
    error: dict[str, object] = {"code": code, "message": message, "status": status}
    if details is not None:
        error["details"] = list(details)
    return json.dumps({"error": error}).encode()


def quota(quota_id: str, value: str = "10") -> dict[str, object]:
    violation = {"quotaId": quota_id, "quotaValue": value}
    return {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [violation]}


RETRY_44 = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "44s"}


def test_recorded_429_is_rate_limited_with_the_body_retry_delay() -> None:
    body = fixture_bytes("error-429-resource-exhausted-retryinfo.json")
    error = ADAPTER.map_error(429, [("content-type", "application/json")], body)
    assert (error.kind, error.status, error.retry_after) == (ErrorKind.RATE_LIMITED, 429, 34.4)
    assert error.message == "You exceeded your current quota, please check your plan."


def test_per_day_quota_is_exhausted_and_not_retried() -> None:
    details = [quota("GenerateRequestsPerDayPerProjectPerModel-FreeTier"), RETRY_44]
    error = ADAPTER.map_error(429, [], rpc(429, "RESOURCE_EXHAUSTED", details=details))
    assert (error.kind, error.status, error.retry_after) == (ErrorKind.QUOTA_EXHAUSTED, 429, None)


def test_zero_quota_is_exhausted() -> None:
    details = [quota("GenerateContentInputTokensPerModelPerMinute-FreeTier", "0"), RETRY_44]
    error = ADAPTER.map_error(429, [], rpc(429, "RESOURCE_EXHAUSTED", details=details))
    assert error.kind is ErrorKind.QUOTA_EXHAUSTED


def test_per_minute_quota_keeps_the_delay() -> None:
    details = [quota("GenerateContentInputTokensPerModelPerMinute-FreeTier", "250000"), RETRY_44]
    error = ADAPTER.map_error(429, [], rpc(429, "RESOURCE_EXHAUSTED", details=details))
    assert (error.kind, error.retry_after) == (ErrorKind.RATE_LIMITED, 44.0)


def test_retry_after_header_is_a_fallback_only() -> None:
    error = ADAPTER.map_error(429, [("Retry-After", "3")], rpc(429, "RESOURCE_EXHAUSTED"))
    assert error.retry_after == 3.0
    details = [RETRY_44]
    error = ADAPTER.map_error(
        429, [("retry-after", "3")], rpc(429, "RESOURCE_EXHAUSTED", details=details)
    )
    assert error.retry_after == 44.0


def test_context_too_long_is_read_from_the_message() -> None:
    message = (
        "The input token count (1200293) exceeds the maximum number of tokens allowed (1048576)."
    )
    error = ADAPTER.map_error(400, [], rpc(400, "INVALID_ARGUMENT", message))
    assert (error.kind, error.status, error.message) == (ErrorKind.CONTEXT_TOO_LONG, 400, message)


def test_invalid_api_key_400_is_provider_auth() -> None:
    detail = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
    error = ADAPTER.map_error(400, [], rpc(400, "INVALID_ARGUMENT", details=[detail]))
    assert (error.kind, error.status) == (ErrorKind.PROVIDER_AUTH, 502)


@pytest.mark.parametrize(
    ("status", "rpc_status", "kind", "client_status"),
    [
        (400, "INVALID_ARGUMENT", ErrorKind.BAD_REQUEST, 400),
        (400, "FAILED_PRECONDITION", ErrorKind.BAD_REQUEST, 400),
        (401, "UNAUTHENTICATED", ErrorKind.PROVIDER_AUTH, 502),
        (403, "PERMISSION_DENIED", ErrorKind.FORBIDDEN, 403),
        (404, "NOT_FOUND", ErrorKind.NOT_FOUND, 404),
        (413, "INVALID_ARGUMENT", ErrorKind.PAYLOAD_TOO_LARGE, 413),
        (500, "INTERNAL", ErrorKind.UPSTREAM_ERROR, 502),
        (503, "UNAVAILABLE", ErrorKind.OVERLOADED, 503),
        (504, "DEADLINE_EXCEEDED", ErrorKind.UPSTREAM_ERROR, 502),
    ],
)
def test_status_mapping(status: int, rpc_status: str, kind: ErrorKind, client_status: int) -> None:
    error = ADAPTER.map_error(status, [], rpc(status, rpc_status, "why"))
    assert (error.kind, error.status, error.message) == (kind, client_status, "why")


def test_unreadable_and_array_bodies() -> None:
    error = ADAPTER.map_error(502, [], b"<html>Bad Gateway</html>")
    assert (error.kind, error.status) == (ErrorKind.UPSTREAM_ERROR, 502)
    assert "502" in error.message
    wrapped = b"[" + rpc(429, "RESOURCE_EXHAUSTED", details=[RETRY_44]) + b"]"
    assert ADAPTER.map_error(429, [], wrapped).retry_after == 44.0
