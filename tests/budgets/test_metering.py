"""The meter prices the trail as it passes and says what each request settles."""

from __future__ import annotations

import dataclasses

import pytest

from budgets.metering import Meter
from budgets.pricing import Pricer, PriceTable
from messages.errors import ErrorInfo, ErrorKind
from messages.events import (
    AttemptFinished,
    AttemptStarted,
    RequestReceived,
    ResponseCompleted,
    ResponseFailed,
    TrailEvent,
)
from messages.usage import Usage

USAGE = Usage(input_tokens=1200, cached_input_tokens=200, output_tokens=300, reasoning_tokens=100)
GPT_55 = (1000 * 5 + 200 * 0.5 + 300 * 30) / 1e6  # $0.0141
BOOM = ErrorInfo(kind=ErrorKind.UPSTREAM_ERROR, status=502, message="boom")


def _received(request_id: str = "r1") -> RequestReceived:
    return RequestReceived(
        request_id=request_id,
        at=1.0,
        client_format="openai-responses",
        endpoint="/v1/responses",
        model_requested="gpt-5.5",
        stream=False,
        virtual_key_id="key-1",
        account_id="dev",
        session_id=None,
        thread_id=None,
        user_agent=None,
        body=b"{}",
        team="red",
        customer="acme",
    )


def _attempt(n: int, provider: str, kind: str, model: str, usage: Usage | None) -> list[TrailEvent]:
    return [
        AttemptStarted(
            request_id="r1",
            at=2.0,
            attempt=n,
            provider_id=provider,
            provider_type=kind,
            model=model,
            key_id="k",
            reason="primary",
        ),
        AttemptFinished(
            request_id="r1",
            at=3.0 + n,
            attempt=n,
            provider_id=provider,
            model=model,
            status=200,
            latency_ms=1.0,
            usage=usage,
            error=None if usage else BOOM,
        ),
    ]


def _completed(usage: Usage | None = USAGE, at: float = 9.0) -> ResponseCompleted:
    return ResponseCompleted(
        request_id="r1",
        at=at,
        status=200,
        latency_ms=8.0,
        provider_id="main",
        model="gpt-5.5",
        attempts=1,
        usage=usage,
        response=b"{}",
    )


def _run(meter: Meter, events: list[TrailEvent]) -> list[tuple[TrailEvent, object]]:
    return [meter.observe(event) for event in events]


def test_attempts_and_the_request_get_their_cost_and_one_settlement() -> None:
    meter = Meter(Pricer(PriceTable.shipped()))
    out = _run(meter, [_received(), *_attempt(1, "main", "openai", "gpt-5.5", USAGE), _completed()])
    finished = out[2][0]
    assert isinstance(finished, AttemptFinished) and finished.cost_usd == pytest.approx(GPT_55)
    completed, settle = out[3]
    assert isinstance(completed, ResponseCompleted) and completed.cost_usd == pytest.approx(GPT_55)
    assert settle is not None
    assert (settle.virtual_key_id, settle.team, settle.customer) == ("key-1", "red", "acme")
    assert settle.cost_usd == pytest.approx(GPT_55) and settle.tokens == 1500 and settle.at == 9.0
    [charge] = settle.provider_charges
    assert (charge.provider_id, charge.cost_usd, charge.at) == ("main", pytest.approx(GPT_55), 4.0)
    assert [s for _, s in out[:3]] == [None, None, None]


def test_a_failover_request_costs_what_every_attempt_billed() -> None:
    meter = Meter(Pricer(PriceTable.shipped()))
    partial = Usage(input_tokens=1000, output_tokens=0)
    events = [
        _received(),
        *_attempt(1, "backup", "mistral", "mistral-large-latest", partial),
        *_attempt(2, "main", "openai", "gpt-5.5", USAGE),
        _completed(),
    ]
    completed, settle = _run(meter, events)[-1]
    first = 1000 * 0.5 / 1e6  # mistral-large: $0.50 in
    assert completed.cost_usd == pytest.approx(first + GPT_55)  # type: ignore[union-attr]
    assert settle.cost_usd == pytest.approx(first + GPT_55)  # type: ignore[union-attr]
    charges = {c.provider_id: c.cost_usd for c in settle.provider_charges}  # type: ignore[union-attr]
    assert charges == {"backup": pytest.approx(first), "main": pytest.approx(GPT_55)}


def test_an_unpriced_model_is_null_in_the_trail_and_zero_in_the_settlement() -> None:
    meter = Meter(Pricer(PriceTable.shipped()))
    events = [_received(), *_attempt(1, "local", "openai-compatible", "llama", USAGE), _completed()]
    out = _run(meter, events)
    assert out[2][0].cost_usd is None  # type: ignore[union-attr]
    completed, settle = out[3]
    assert completed.cost_usd is None  # type: ignore[union-attr]
    assert settle.cost_usd == 0.0 and settle.tokens == 1500  # type: ignore[union-attr]


def test_a_request_that_never_reached_a_provider_costs_zero() -> None:
    meter = Meter(Pricer(PriceTable.shipped()))
    failed = ResponseFailed(
        request_id="r1",
        at=2.0,
        status=402,
        latency_ms=1.0,
        provider_id=None,
        model=None,
        attempts=0,
        error=BOOM,
    )
    event, settle = _run(meter, [_received(), failed])[1]
    assert event.cost_usd == 0.0  # type: ignore[union-attr]
    assert settle.cost_usd == 0.0 and settle.provider_charges == ()  # type: ignore[union-attr]


def test_a_second_terminal_event_settles_only_the_difference() -> None:
    meter = Meter(Pricer(PriceTable.shipped()))
    gave_up = ResponseFailed(
        request_id="r1",
        at=5.0,
        status=504,
        latency_ms=1.0,
        provider_id=None,
        model=None,
        attempts=0,
        error=BOOM,
    )
    out = _run(meter, [_received(), gave_up, *_attempt(1, "main", "openai", "gpt-5.5", USAGE)])
    assert out[1][1].cost_usd == 0.0  # type: ignore[union-attr]
    assert out[3][0].cost_usd == pytest.approx(GPT_55)  # type: ignore[union-attr]
    event, settle = meter.observe(_completed(at=12.0))
    assert event.cost_usd == pytest.approx(GPT_55)  # type: ignore[union-attr]
    assert settle is not None and settle.cost_usd == pytest.approx(GPT_55)
    assert settle.virtual_key_id == "key-1" and meter.open_requests == 0


def test_a_priced_event_keeps_every_other_field_as_it_came() -> None:
    meter = Meter(Pricer(PriceTable.shipped()))
    events = [_received(), *_attempt(1, "main", "openai", "gpt-5.5", USAGE), _completed()]
    out = _run(meter, events)
    for event, (stored, _) in zip(events, out, strict=True):
        assert type(stored) is type(event)
        if isinstance(event, AttemptFinished | ResponseCompleted):
            assert isinstance(stored, AttemptFinished | ResponseCompleted)
            priced = dataclasses.replace(
                event, cost_usd=stored.cost_usd, price_source=stored.price_source
            )
            assert stored == priced and stored.price_source == "shipped"
        else:
            assert stored is event  # not priced: passed on as it is
