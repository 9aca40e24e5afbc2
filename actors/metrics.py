"""What ``/metrics`` counts per request, fed by the audit logger with every trail event.

The audit logger already sees each event once, off the request's own path; ``observe``
adds a few dictionary updates to that (about a microsecond per request, against ~15 µs
for the same counts kept in ``prometheus-client``'s labelled metrics: see
``scripts/bench_metrics.py``). Nothing is formatted until a scrape asks
(``actors.metrics_exposition``), so the hot path pays only for integer additions.

Labels stay bounded: provider ids come from the config (or ``none``), models too — but a
client may pin ``provider/<model>``, so at most ``MODELS_MAX`` distinct models are
labelled and the rest count as ``other``; the endpoint is the client format, a reason
an ``ErrorKind`` value.
"""

from __future__ import annotations

import os
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from messages.events import (
    AttemptFinished,
    AttemptFirstByte,
    AttemptStarted,
    RequestReceived,
    ResponseCompleted,
    ResponseFailed,
    RouteDecided,
    TrailEvent,
)

LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
OVERHEAD_BUCKETS_S = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1)
_TERMINAL = (ResponseCompleted, ResponseFailed)  # a tuple: ``A | B`` is built on every use
TOKEN_KINDS = ("input", "cached_input", "output", "reasoning")
_OPEN_MAX = 65_536  # requests seen without their terminal event; beyond, the oldest go
MODELS_MAX = 256
"""Distinct model labels kept; later ones count as ``other``. A client pinning
``provider/<any model>`` must not grow the series (and memory) without bound."""


class Histogram:
    """Counts per upper bound (the last slot is +Inf) and the sum, per label tuple."""

    __slots__ = ("bounds", "series")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.series: dict[tuple[str, ...], list[float]] = {}

    def observe(self, labels: tuple[str, ...], value: float) -> None:
        slots = self.series.get(labels)
        if slots is None:
            slots = self.series[labels] = [0.0] * (len(self.bounds) + 2)
        slots[bisect_left(self.bounds, value)] += 1
        slots[-1] += value


@dataclass(slots=True)
class _Open:
    endpoint: str
    received_at: float
    first_byte_at: float | None = None
    upstream_ms: float = 0.0
    last_error: str | None = None


@dataclass(slots=True)
class RequestMetrics:
    """Counters keyed by label tuples, each documented by the family that renders it."""

    requests: defaultdict[tuple[str, ...], int] = field(default_factory=lambda: defaultdict(int))
    attempts: defaultdict[tuple[str, ...], int] = field(default_factory=lambda: defaultdict(int))
    retries: defaultdict[tuple[str, ...], int] = field(default_factory=lambda: defaultdict(int))
    failovers: defaultdict[tuple[str, ...], int] = field(default_factory=lambda: defaultdict(int))
    tokens: defaultdict[tuple[str, ...], int] = field(default_factory=lambda: defaultdict(int))
    cost_usd: defaultdict[tuple[str, ...], float] = field(
        default_factory=lambda: defaultdict(float)
    )
    cache_lookups: defaultdict[tuple[str, ...], int] = field(
        default_factory=lambda: defaultdict(int)
    )
    duration: Histogram = field(default_factory=lambda: Histogram(LATENCY_BUCKETS_S))
    first_byte: Histogram = field(default_factory=lambda: Histogram(LATENCY_BUCKETS_S))
    overhead: Histogram = field(default_factory=lambda: Histogram(OVERHEAD_BUCKETS_S))
    _open: dict[str, _Open] = field(default_factory=dict)
    _models: set[str] = field(default_factory=set)

    def observe(self, event: TrailEvent) -> None:
        """Count ``event`` (called by the audit logger for each event, in trail order)."""
        if type(event) is RouteDecided:  # one of every request's six: nothing to count
            return
        if isinstance(event, RequestReceived):
            if len(self._open) >= _OPEN_MAX:
                del self._open[next(iter(self._open))]
            self._open[event.request_id] = _Open(event.client_format, event.at)
        elif isinstance(event, AttemptStarted):
            self._attempt_started(event)
        elif isinstance(event, AttemptFinished):
            request = self._open.get(event.request_id)
            if request is not None:
                request.upstream_ms += event.latency_ms
                request.last_error = None if event.error is None else event.error.kind.value
        elif isinstance(event, AttemptFirstByte):
            request = self._open.get(event.request_id)
            if request is not None and request.first_byte_at is None:
                request.first_byte_at = event.at
        elif isinstance(event, _TERMINAL):
            self._finished(event, self._open.pop(event.request_id, None))
        elif event.kind.startswith("cache."):  # cache.hit, cache.miss (the response cache)
            self.count_cache_lookup(event.kind.removeprefix("cache."))

    def count_cache_lookup(self, result: str) -> None:
        """The response cache's hook: one lookup and its result (``hit``, ``miss``, ...)."""
        self.cache_lookups[(result,)] += 1

    def _model(self, model: str | None) -> str:
        if model is None:
            return "none"
        if model in self._models:
            return model
        if len(self._models) >= MODELS_MAX:
            return "other"
        self._models.add(model)
        return model

    def _attempt_started(self, event: AttemptStarted) -> None:
        reason = event.reason
        kind = _attempt_kind(reason)
        self.attempts[(event.provider_id, kind)] += 1
        if kind == "primary":
            return
        request = self._open.get(event.request_id)
        why = request.last_error if request is not None else None
        if "every key is benched" in reason:
            why = "keys_benched"
        if kind == "retry":
            self.retries[(event.provider_id, why or "unknown")] += 1
        elif kind == "failover":
            source = reason[len("failover from ") :].partition(":")[0]
            self.failovers[(source, why or "unknown")] += 1

    def _finished(self, event: ResponseCompleted | ResponseFailed, request: _Open | None) -> None:
        provider, model = event.provider_id or "none", self._model(event.model)
        endpoint = request.endpoint if request is not None else "unknown"
        self.requests[(provider, model, endpoint, str(event.status))] += 1
        self.duration.observe((endpoint,), event.latency_ms / 1000.0)
        if request is not None and request.first_byte_at is not None:
            self.first_byte.observe(
                (endpoint,), max(0.0, request.first_byte_at - request.received_at)
            )
        if request is not None and event.attempts:
            own_ms = max(0.0, event.latency_ms - request.upstream_ms)
            self.overhead.observe((endpoint,), own_ms / 1000.0)
        usage = event.usage
        if usage is not None:
            tokens = self.tokens
            tokens[(provider, model, "input")] += usage.input_tokens
            tokens[(provider, model, "cached_input")] += usage.cached_input_tokens
            tokens[(provider, model, "output")] += usage.output_tokens
            tokens[(provider, model, "reasoning")] += usage.reasoning_tokens
        if event.cost_usd:
            self.cost_usd[(provider, model)] += event.cost_usd


def counting(metrics: RequestMetrics) -> Callable[[TrailEvent], None] | None:
    """What the audit logger calls with each event; ``SWITCHYARD_METRICS=off``: nothing
    (``scripts/bench --metrics-variant`` measures what counting costs)."""
    return None if os.environ.get("SWITCHYARD_METRICS") == "off" else metrics.observe


def _attempt_kind(reason: str) -> str:
    if reason.startswith("retry"):
        return "retry"
    if reason.startswith("failover"):
        return "failover"
    if reason.startswith("next key"):
        return "next_key"
    return "primary"


__all__ = [
    "LATENCY_BUCKETS_S",
    "MODELS_MAX",
    "OVERHEAD_BUCKETS_S",
    "TOKEN_KINDS",
    "Histogram",
    "RequestMetrics",
]
