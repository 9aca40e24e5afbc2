"""Events to payloads and back, one kind at a time."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from messages.events import AttemptAnomaly, RequestReceived, ResponseCompleted, TrailEvent
from storage import decode_event, encode_payload
from storage.codec import recorded_at
from tests.storage.samples import T0, completed_request, failed_request, received

ANOMALY = AttemptAnomaly(
    request_id="req-c",
    at=T0,
    attempt=1,
    provider_id="p",
    field="usage.prompt_tokens",
    value="'x'",
)


@pytest.mark.parametrize(
    "event",
    [*completed_request("req-a"), *failed_request("req-b"), ANOMALY],
    ids=lambda event: f"{event.kind}",
)
def test_every_kind_round_trips(event: TrailEvent) -> None:
    assert decode_event(event.request_id, event.kind, encode_payload(event)) == event


def test_a_body_is_embedded_as_json_not_as_a_string() -> None:
    event = received("req-a", body=b'{"model": "m",\n "input": [1, 2]}')
    payload = encode_payload(event)
    assert b'"body":{"model": "m",\n "input": [1, 2]}' in payload
    assert orjson.loads(payload)["body"] == {"model": "m", "input": [1, 2]}


@pytest.mark.parametrize(
    "body",
    [
        b'{"model": "m",\n "input": [1, 2]}',
        b' {"a":"\\u00e9\\/","a":1.50,"b":1e2}\n',
        b'["body",{"body":"x"}]',
        b"null",
        b' "text" ',
    ],
    ids=["whitespace", "escapes-duplicates-numbers", "array", "null", "string"],
)
def test_a_decoded_body_is_the_bytes_that_arrived(body: bytes) -> None:
    event = received("req-a", body=body)
    payload = encode_payload(event)
    decoded = decode_event("req-a", event.kind, payload)
    assert isinstance(decoded, RequestReceived)
    assert decoded.body == body
    assert orjson.loads(payload)["body_size"] == len(body)


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (b'{"model": "m", ', '{"model": "m", '),
        (b"data: {}\n\n", "data: {}\n\n"),
    ],
    ids=["truncated", "sse-text"],
)
def test_a_body_that_is_not_json_is_kept_as_text(body: bytes, text: str) -> None:
    event = received("req-a", body=body)
    fields = orjson.loads(encode_payload(event))
    assert fields["body"] is None
    assert fields["body_text"] == text
    assert decode_event("req-a", event.kind, encode_payload(event)) == event


def test_a_body_that_is_not_even_utf8_is_kept_as_base64_and_comes_back_exactly() -> None:
    event = received("req-a", body=b"\xff\xfe{\\xff")
    fields = orjson.loads(encode_payload(event))
    assert fields["body"] is None
    assert fields["body_base64"] == "//57XHhmZg=="
    assert decode_event("req-a", event.kind, encode_payload(event)) == event


def test_text_bodies_decode_back_to_their_bytes() -> None:
    event = received("req-a", body=b"data: {}\n\n")
    assert decode_event("req-a", event.kind, encode_payload(event)) == event


def test_an_empty_body_is_null() -> None:
    event = received("req-a", body=b"")
    fields = orjson.loads(encode_payload(event))
    assert fields["body"] is None
    assert "body_text" not in fields
    assert decode_event("req-a", event.kind, encode_payload(event)) == event


def test_the_response_document_is_embedded_too() -> None:
    completed = completed_request("req-a")[-1]
    assert isinstance(completed, ResponseCompleted)
    fields = orjson.loads(encode_payload(completed))
    assert fields["response"]["id"] == "resp_1"
    assert fields["usage"]["reasoning_tokens"] == 64


def test_payloads_leave_the_request_id_to_its_column() -> None:
    for event in completed_request("req-a"):
        assert "request_id" not in orjson.loads(encode_payload(event))


def test_recorded_at_is_utc() -> None:
    assert recorded_at(received("req-a", at=T0)) == datetime(2026, 1, 1, 0, 0, 0, 250000, UTC)


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(KeyError):
        decode_event("req-a", "cache.hit", b"{}")
