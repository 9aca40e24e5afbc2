"""``GET /metrics``: the Prometheus text format, rendered when scraped.

The per-request counts come from ``actors.metrics.RequestMetrics`` (kept by the audit
logger); the gauges — budgets, channel depths, the trail writer's backlog and lag — are
read from the actors' ``statistics()`` at scrape time. ``prometheus-client`` only
formats (a custom collector on a private registry): none of its metric objects sits on
a request's path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from actors.audit import AuditStatistics
from actors.budget import AccountantStatistics
from actors.metrics import Histogram, RequestMetrics
from actors.metrics_peers import PeerCounts, merged, peer_gauge

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricSources:
    """Where each family's numbers are read at scrape time."""

    requests: RequestMetrics
    audit: Callable[[], AuditStatistics] | None = None
    accountant: Callable[[], AccountantStatistics] | None = None
    inboxes: Callable[[], Mapping[str, tuple[int, int]]] | None = None  # (used, capacity)
    in_flight: Callable[[], int] | None = None


def render_metrics(sources: MetricSources, peers: Sequence[PeerCounts] = ()) -> bytes:
    """``peers``: the other workers' counts (``serve --workers``), added to this one's."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(sources, peers))
    return generate_latest(registry)


def own_gauges(sources: MetricSources) -> dict[str, float]:
    """This process's share of the gauges the workers sum (``actors.metrics_peers``)."""
    audit = sources.audit() if sources.audit is not None else None
    return {
        "in_flight": sources.in_flight() if sources.in_flight is not None else 0,
        "trail_backlog": audit.pending if audit is not None else 0,
        "events_written": audit.events_written if audit is not None else 0,
    }


class _Collector(Collector):
    def __init__(self, sources: MetricSources, peers: Sequence[PeerCounts]) -> None:
        self._sources = sources
        self._peers = peers

    def collect(self) -> Iterator[Metric]:
        peers = self._peers
        requests = merged(self._sources.requests, peers) if peers else self._sources.requests
        yield from _request_families(requests)
        yield from _upstream_families(requests)
        yield from _budget_families(self._sources.accountant)
        yield from _runtime_families(self._sources, peers)


def _counter(
    name: str, doc: str, labels: list[str], values: Mapping[tuple[str, ...], float]
) -> Metric:
    family = CounterMetricFamily(name, doc, labels=labels)
    for key, value in sorted(values.items()):
        family.add_metric(list(key), value)
    return family


def _histogram(name: str, doc: str, labels: list[str], histogram: Histogram) -> Metric:
    family = HistogramMetricFamily(name, doc, labels=labels)
    bounds = [*(f"{bound:g}" for bound in histogram.bounds), "+Inf"]
    for key, slots in sorted(histogram.series.items()):
        running, buckets = 0.0, []
        for bound, count in zip(bounds, slots[:-1], strict=True):
            running += count
            buckets.append((bound, running))
        family.add_metric(list(key), buckets, sum_value=slots[-1])
    return family


def _request_families(m: RequestMetrics) -> Iterator[Metric]:
    yield _counter(
        "switchyard_requests_total",
        "Requests finished, by serving provider, model, endpoint (client format) and status.",
        ["provider", "model", "endpoint", "status"],
        m.requests,
    )
    yield _histogram(
        "switchyard_request_duration_seconds",
        "Whole request, from its arrival to its last byte.",
        ["endpoint"],
        m.duration,
    )
    yield _histogram(
        "switchyard_request_first_byte_seconds",
        "From a request's arrival to the first byte of its first answering upstream.",
        ["endpoint"],
        m.first_byte,
    )
    yield _histogram(
        "switchyard_gateway_overhead_seconds",
        "A request's time not spent in upstream attempts: the gateway's own share.",
        ["endpoint"],
        m.overhead,
    )


def _upstream_families(m: RequestMetrics) -> Iterator[Metric]:
    yield _counter(
        "switchyard_upstream_attempts_total",
        "Upstream attempts by provider and kind (primary, retry, failover, next_key).",
        ["provider", "kind"],
        m.attempts,
    )
    yield _counter(
        "switchyard_upstream_retries_total",
        "Retries of the same provider, by the error kind that caused them.",
        ["provider", "reason"],
        m.retries,
    )
    yield _counter(
        "switchyard_failovers_total",
        "Failovers away from a provider, by the error kind that caused them.",
        ["from_provider", "reason"],
        m.failovers,
    )
    yield _counter(
        "switchyard_tokens_total",
        "Tokens of finished requests by provider, model and kind.",
        ["provider", "model", "kind"],
        m.tokens,
    )
    yield _counter(
        "switchyard_cost_usd_total",
        "What finished requests cost, in USD, by provider and model.",
        ["provider", "model"],
        m.cost_usd,
    )
    yield _counter(
        "switchyard_cache_lookups_total",
        "Response cache lookups by result (hit, miss, ...).",
        ["result"],
        m.cache_lookups,
    )


def _budget_families(source: Callable[[], AccountantStatistics] | None) -> Iterator[Metric]:
    labels = ["level", "scope", "period"]
    spent = GaugeMetricFamily("switchyard_budget_spent_usd", "Spent in the period.", labels=labels)
    limit = GaugeMetricFamily("switchyard_budget_limit_usd", "The budget's limit.", labels=labels)
    used = GaugeMetricFamily(
        "switchyard_budget_utilisation_ratio", "Spent over limit (1: exhausted).", labels=labels
    )
    refused = CounterMetricFamily(
        "switchyard_budget_refusals", "Reservations a budget refused.", labels=[]
    )
    if source is not None:
        statistics = source()
        refused.add_metric([], statistics.refused)
        for view in statistics.budgets:
            rule = view.rule
            key = [rule.level, rule.scope_id, rule.period]
            spent.add_metric(key, view.spent_usd)
            if rule.limit_usd is not None:
                limit.add_metric(key, rule.limit_usd)
                ratio = view.spent_usd / rule.limit_usd if rule.limit_usd > 0 else 1.0
                used.add_metric(key, ratio)
    yield from (spent, limit, used, refused)


def _runtime_families(sources: MetricSources, peers: Sequence[PeerCounts]) -> Iterator[Metric]:
    depth = GaugeMetricFamily(
        "switchyard_channel_depth", "Messages waiting in an actor's inbox.", labels=["channel"]
    )
    capacity = GaugeMetricFamily(
        "switchyard_channel_capacity", "An actor's inbox size.", labels=["channel"]
    )
    if sources.inboxes is not None:
        for name, (used, size) in sorted(sources.inboxes().items()):
            depth.add_metric([name], used)
            capacity.add_metric([name], size)
    yield from (depth, capacity)
    if sources.in_flight is not None:
        in_flight = sources.in_flight() + peer_gauge(peers, "in_flight")
        yield GaugeMetricFamily(
            "switchyard_requests_in_flight", "Requests being served.", value=in_flight
        )
    if sources.audit is not None:
        yield from _trail_families(sources.audit(), peers)


def _trail_families(audit: AuditStatistics, peers: Sequence[PeerCounts]) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "switchyard_trail_backlog_events",
        "Trail events received, not written yet.",
        value=audit.pending + peer_gauge(peers, "trail_backlog"),
    )
    lag = GaugeMetricFamily(
        "switchyard_trail_writer_lag_p99_seconds",
        "99th percentile of an event's wait from its making to its commit (recent events).",
    )
    if audit.writer_lag_p99_ms is not None:
        lag.add_metric([], audit.writer_lag_p99_ms / 1000.0)
    yield lag
    yield CounterMetricFamily(
        "switchyard_trail_events_written",
        "Trail events committed to SQL.",
        value=audit.events_written + peer_gauge(peers, "events_written"),
    )
    yield GaugeMetricFamily(
        "switchyard_trail_database_up",
        "1 while the database takes the trail, 0 in an outage.",
        value=1 if audit.database_ok else 0,
    )


__all__ = ["CONTENT_TYPE", "MetricSources", "own_gauges", "render_metrics"]
