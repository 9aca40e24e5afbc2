"""``RequestMetrics``, fed events directly: bounded labels whatever clients send, the
histograms' buckets, and the response cache's events counted by result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import pytest

from actors.metrics import LATENCY_BUCKETS_S, MODELS_MAX, RequestMetrics
from actors.metrics_exposition import MetricSources, render_metrics
from messages.events import RequestReceived, ResponseCompleted, TrailEvent


def _received(request_id: str) -> RequestReceived:
    return RequestReceived(
        request_id=request_id,
        at=100.0,
        client_format="chat",
        endpoint="/v1/chat/completions",
        model_requested="m",
        stream=False,
        virtual_key_id="k",
        account_id="a",
        session_id=None,
        thread_id=None,
        user_agent=None,
        body=b"{}",
    )


def _completed(request_id: str, model: str, latency_ms: float) -> ResponseCompleted:
    return ResponseCompleted(
        request_id=request_id,
        at=101.0,
        status=200,
        latency_ms=latency_ms,
        provider_id="p",
        model=model,
        attempts=1,
        usage=None,
        response=b"{}",
    )


def test_a_client_naming_endless_models_cannot_grow_the_series() -> None:
    metrics = RequestMetrics()
    for i in range(MODELS_MAX + 100):
        metrics.observe(_received(f"r{i}"))
        metrics.observe(_completed(f"r{i}", f"pinned-model-{i}", 5.0))
    models = {key[1] for key in metrics.requests}
    assert len(models) == MODELS_MAX + 1
    assert metrics.requests[("p", "other", "chat", "200")] == 100
    assert sum(metrics.requests.values()) == MODELS_MAX + 100


def test_latency_lands_in_the_bucket_of_its_upper_bound() -> None:
    metrics = RequestMetrics()
    for i, latency_ms in enumerate((5.0, 5.1, 100_000.0)):
        metrics.observe(_received(f"r{i}"))
        metrics.observe(_completed(f"r{i}", "m", latency_ms))
    slots = metrics.duration.series[("chat",)]
    assert slots[LATENCY_BUCKETS_S.index(0.005)] == 1  # le is inclusive
    assert slots[LATENCY_BUCKETS_S.index(0.01)] == 1
    assert slots[len(LATENCY_BUCKETS_S)] == 1  # +Inf
    assert slots[-1] == pytest.approx((5.0 + 5.1 + 100_000.0) / 1000)
    text = render_metrics(MetricSources(requests=metrics)).decode()
    assert 'switchyard_request_duration_seconds_bucket{endpoint="chat",le="0.005"} 1.0' in text
    assert 'switchyard_request_duration_seconds_bucket{endpoint="chat",le="+Inf"} 3.0' in text


@dataclass(frozen=True, slots=True, kw_only=True)
class _CacheEvent:
    kind: str
    request_id: str
    at: float


def test_the_response_caches_events_are_counted_by_result() -> None:
    metrics = RequestMetrics()
    for kind in ("cache.hit", "cache.miss", "cache.hit"):
        metrics.observe(cast(TrailEvent, _CacheEvent(kind=kind, request_id="r", at=1.0)))
    metrics.count_cache_lookup("hit")
    assert dict(metrics.cache_lookups) == {("hit",): 3, ("miss",): 1}
    text = render_metrics(MetricSources(requests=metrics)).decode()
    assert 'switchyard_cache_lookups_total{result="hit"} 3.0' in text


def test_an_unknown_request_is_still_counted() -> None:
    metrics = RequestMetrics()
    metrics.observe(_completed("never-received", "m", 1.0))
    assert metrics.requests == {("p", "m", "unknown", "200"): 1}
    assert cast(Any, metrics)._open == {}
