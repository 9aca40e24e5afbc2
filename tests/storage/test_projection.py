"""``requests`` and ``attempts`` rows as the SQL recorder projects them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from messages.errors import ErrorInfo, ErrorKind
from messages.events import ResponseFailed
from storage import SqlRecorder, TrailIntegrityError
from storage.tables import attempts, requests
from tests.storage.conftest import rows
from tests.storage.samples import T0, completed_request, failed_request, received, sequenced

START = datetime.fromtimestamp(T0, UTC)


def _ms(seconds: float) -> timedelta:
    return timedelta(milliseconds=round(seconds * 1000))


def _assert_completed_rows(engine: Engine) -> None:
    [request] = rows(engine, requests)
    assert request._asdict() == {
        "request_id": "req-a",
        "session_id": "session-req-a",
        "thread_id": "thread-1",
        "started_at": START,
        "finished_at": START + _ms(1.501),
        "latency_ms": 1501.0,
        "virtual_key": "vk-team-a",
        "account_id": "acct-1",
        "team": None,
        "customer": None,
        "replay_run_id": None,
        "original_request_id": None,
        "client_format": "openai-responses",
        "endpoint": "/v1/responses",
        "stream": True,
        "model_requested": "gpt-5-codex",
        "provider": "openai-main",
        "model": "gpt-5-codex",
        "status": "completed",
        "http_status": 200,
        "error_kind": None,
        "attempts": 1,
        "input_tokens": 1200,
        "cached_input_tokens": 1000,
        "cache_write_tokens": 0,
        "output_tokens": 300,
        "reasoning_tokens": 64,
        "cost_usd": 0.0042,
        "price_source": None,
    }
    [attempt] = rows(engine, attempts)
    assert attempt._asdict() == {
        "request_id": "req-a",
        "attempt": 1,
        "provider": "openai-main",
        "provider_type": "openai",
        "model": "gpt-5-codex",
        "key_id": "key-3f9a",
        "reason": "primary",
        "started_at": START + _ms(0.002),
        "first_byte_ms": 248.0,
        "finished_at": START + _ms(1.5),
        "latency_ms": 1498.0,
        "http_status": 200,  # from first byte: the finish reported none
        "outcome": "ok",
        "error_message": None,
        "input_tokens": 1200,
        "cached_input_tokens": 1000,
        "cache_write_tokens": 0,
        "output_tokens": 300,
        "reasoning_tokens": 64,
        "cost_usd": 0.0042,
        "price_source": None,
    }


def test_a_completed_request_in_one_batch(engine: Engine) -> None:
    SqlRecorder(engine).append(sequenced(completed_request("req-a")))
    _assert_completed_rows(engine)


@pytest.mark.parametrize("split", [1, 2, 3, 4, 5], ids=lambda n: f"split-after-{n}")
def test_a_completed_request_split_across_batches(engine: Engine, split: int) -> None:
    recorder = SqlRecorder(engine)
    events = sequenced(completed_request("req-a"))
    recorder.append(events[:split])
    recorder.append(events[split:])
    _assert_completed_rows(engine)


def test_a_request_in_progress(engine: Engine) -> None:
    SqlRecorder(engine).append(sequenced(completed_request("req-a"))[:3])
    [request] = rows(engine, requests)
    assert request.status == "in_progress"
    assert (request.finished_at, request.latency_ms, request.provider) == (None, None, None)
    assert (request.attempts, request.input_tokens, request.cost_usd) == (0, 0, None)
    [attempt] = rows(engine, attempts)
    assert (attempt.outcome, attempt.first_byte_ms, attempt.finished_at) == (None, None, None)


def test_a_failed_request_after_a_failover(engine: Engine) -> None:
    SqlRecorder(engine).append(sequenced(failed_request("req-b")))
    [request] = rows(engine, requests)
    assert request.status == "failed"
    assert (request.http_status, request.error_kind) == (502, "upstream_error")
    assert (request.provider, request.attempts) == ("azure-backup", 2)
    assert (request.input_tokens, request.output_tokens, request.cost_usd) == (0, 0, None)
    assert request.finished_at == START + _ms(0.09)
    first, second = rows(engine, attempts)
    assert (first.attempt, first.outcome, first.http_status) == (1, "rate_limited", 429)
    assert (first.error_message, first.first_byte_ms) == ("slow down", 40.0)
    assert (second.attempt, second.provider, second.reason) == (
        2,
        "azure-backup",
        "failover:rate_limited",
    )
    assert (second.outcome, second.http_status) == ("upstream_error", None)
    assert second.error_message == "connection refused"


def test_many_requests_in_one_batch_each_get_their_row(engine: Engine) -> None:
    batch = []
    for n in range(20):
        events = completed_request(f"req-{n:02}") if n % 2 else failed_request(f"req-{n:02}")
        batch.extend(sequenced(events))
    SqlRecorder(engine).append(batch)
    statuses = [(row.request_id, row.status) for row in rows(engine, requests)]
    assert statuses == [(f"req-{n:02}", "completed" if n % 2 else "failed") for n in range(20)]
    assert len(rows(engine, attempts)) == 30


def test_a_conflicting_projection_rolls_back_the_whole_batch(engine: Engine) -> None:
    """A second request.received for a known request: new seq, but the requests row exists."""
    recorder = SqlRecorder(engine)
    recorder.append(sequenced(completed_request("req-a")))
    with pytest.raises(TrailIntegrityError):
        recorder.append(sequenced([received("req-a")], first_seq=7))
    [request] = rows(engine, requests)
    assert request.status == "completed"
    assert len(recorder.read("req-a")) == 6


def _internal(request_id: str, at: float) -> ResponseFailed:
    """The ingress failing a request on our bug (it records no usage of its own)."""
    return ResponseFailed(
        request_id=request_id,
        at=at,
        status=500,
        latency_ms=(at - T0) * 1000,
        provider_id=None,
        model=None,
        attempts=0,
        error=ErrorInfo(kind=ErrorKind.INTERNAL, status=500, message="internal error"),
    )


@pytest.mark.parametrize("split", [None, -1], ids=["one-batch", "later-batch"])
def test_a_failure_after_a_completion_is_what_the_client_saw(
    engine: Engine, split: int | None
) -> None:
    """The worker completed, then the ingress failed writing the answer: the row says
    failed/internal and keeps what was spent."""
    events = sequenced([*completed_request("req-a"), _internal("req-a", T0 + 2)])
    recorder = SqlRecorder(engine)
    recorder.append(events[:split])
    if split is not None:
        recorder.append(events[split:])
    [request] = rows(engine, requests)
    assert (request.status, request.error_kind, request.http_status) == ("failed", "internal", 500)
    assert (request.provider, request.attempts, request.input_tokens) == ("openai-main", 1, 1200)
    assert request.cost_usd == pytest.approx(0.0042)


@pytest.mark.parametrize("split", [None, -1], ids=["one-batch", "later-batch"])
def test_a_second_failure_keeps_the_first_and_adds_the_spend(
    engine: Engine, split: int | None
) -> None:
    """The ingress failed the request (internal), then its worker ended (client gone)
    with the attempt's cost: one outcome, the first; the cost of the second."""
    worker_end = replace(completed_request("req-a")[-1], at=T0 + 3)
    gone = ResponseFailed(
        request_id="req-a",
        at=T0 + 3,
        status=499,
        latency_ms=3000.0,
        provider_id="openai-main",
        model="gpt-5-codex",
        attempts=1,
        error=ErrorInfo(kind=ErrorKind.CLIENT_CLOSED, status=499, message="client gone"),
        usage=getattr(worker_end, "usage", None),
        cost_usd=0.0042,
    )
    received_only = completed_request("req-a")[:-1]
    events = sequenced([*received_only, _internal("req-a", T0 + 1), gone])
    recorder = SqlRecorder(engine)
    recorder.append(events[:split])
    if split is not None:
        recorder.append(events[split:])
    [request] = rows(engine, requests)
    assert (request.status, request.error_kind, request.http_status) == ("failed", "internal", 500)
    assert request.latency_ms == pytest.approx(1000.0)
    assert (request.provider, request.input_tokens) == ("openai-main", 1200)
    assert request.cost_usd == pytest.approx(0.0042)
