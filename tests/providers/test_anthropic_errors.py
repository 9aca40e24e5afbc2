"""Anthropic adapter: errors, before a stream (HTTP status + body) and inside one."""

from __future__ import annotations

import json

import pytest

from messages.errors import ErrorKind
from providers.anthropic.adapter import ADAPTER
from tests.providers.anthropic_support import (
    decode_events,
    event,
    fixture_bytes,
    fixture_json,
    fold,
)


def test_recorded_429_keeps_retry_after() -> None:
    recorded = fixture_json("error-429-rate-limit.http.json")
    assert isinstance(recorded, dict)
    body = json.dumps(recorded["body"]).encode()
    headers = [*recorded["headers"].items(), ("Retry-After", "7")]
    info = ADAPTER.map_error(429, headers, body)
    assert (info.kind, info.status, info.retry_after) == (ErrorKind.RATE_LIMITED, 429, 7.0)
    assert info.code == "rate_limit_error"
    assert info.message.startswith("This request would exceed")
    assert ADAPTER.map_error(429, list(recorded["headers"].items()), body).retry_after is None


def test_recorded_529_is_overloaded_503() -> None:
    info = ADAPTER.map_error(
        529, [("retry-after", "2")], fixture_bytes("error-529-overloaded.json")
    )
    assert (info.kind, info.status, info.retry_after, info.message) == (
        ErrorKind.OVERLOADED,
        503,
        2.0,
        "Overloaded",
    )


def test_recorded_400_tool_result_mismatch_is_bad_request() -> None:
    recorded = fixture_json("error-400-tool-result-mismatch.http.json")
    assert isinstance(recorded, dict)
    info = ADAPTER.map_error(400, [], json.dumps(recorded["body"]).encode())
    assert (info.kind, info.status, info.code) == (
        ErrorKind.BAD_REQUEST,
        400,
        "invalid_request_error",
    )


def anthropic_error(kind: str, message: str = "boom") -> bytes:
    return json.dumps({"type": "error", "error": {"type": kind, "message": message}}).encode()


@pytest.mark.parametrize(
    ("status", "body", "kind", "client_status"),
    [
        (
            400,
            anthropic_error(
                "invalid_request_error", "prompt is too long: 208656 tokens > 200000 maximum"
            ),
            ErrorKind.CONTEXT_TOO_LONG,
            400,
        ),
        (
            400,
            anthropic_error(
                "invalid_request_error",
                "input length and `max_tokens` exceed context limit: 188240 + 21333 > 200000",
            ),
            ErrorKind.CONTEXT_TOO_LONG,
            400,
        ),
        (401, anthropic_error("authentication_error"), ErrorKind.PROVIDER_AUTH, 502),
        (403, anthropic_error("permission_error"), ErrorKind.FORBIDDEN, 403),
        (402, anthropic_error("billing_error"), ErrorKind.QUOTA_EXHAUSTED, 429),
        (404, anthropic_error("not_found_error"), ErrorKind.NOT_FOUND, 404),
        (413, anthropic_error("request_too_large"), ErrorKind.PAYLOAD_TOO_LARGE, 413),
        (500, anthropic_error("api_error"), ErrorKind.UPSTREAM_ERROR, 502),
        (504, anthropic_error("timeout_error"), ErrorKind.TIMEOUT, 504),
        (529, b"", ErrorKind.OVERLOADED, 503),
        (502, b"<html>Bad Gateway</html>", ErrorKind.UPSTREAM_ERROR, 502),
        (418, b"", ErrorKind.BAD_REQUEST, 400),
    ],
)
def test_error_mapping(status: int, body: bytes, kind: ErrorKind, client_status: int) -> None:
    info = ADAPTER.map_error(status, [], body)
    assert (info.kind, info.status) == (kind, client_status)
    assert info.message


@pytest.mark.parametrize("value", ["soon", "-1", "inf"])
def test_unusable_retry_after_is_ignored(value: str) -> None:
    assert (
        ADAPTER.map_error(
            429, [("retry-after", value)], anthropic_error("rate_limit_error")
        ).retry_after
        is None
    )


@pytest.mark.parametrize(
    ("error_type", "kind"),
    [
        ("overloaded_error", ErrorKind.OVERLOADED),
        ("rate_limit_error", ErrorKind.RATE_LIMITED),
        ("api_error", ErrorKind.UPSTREAM_ERROR),
        ("invalid_request_error", ErrorKind.BAD_REQUEST),
        ("something_new", ErrorKind.UPSTREAM_ERROR),
    ],
)
def test_in_stream_error_kinds(error_type: str, kind: ErrorKind) -> None:
    events = [
        event({"type": "message_start", "message": {"usage": {"input_tokens": 3}}}),
        event({"type": "error", "error": {"type": error_type, "message": "m"}}, name="error"),
        event({"type": "message_stop"}),
    ]
    [failure] = fold(decode_events(events)).failures
    assert failure.error.kind is kind
