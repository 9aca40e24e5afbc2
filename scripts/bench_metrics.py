"""What counting a request for ``/metrics`` costs, per request, two ways:

- ``switchyard``: ``actors.metrics.RequestMetrics.observe`` over one request's six trail
  events (what the audit logger does; rendered only at scrape time);
- ``prometheus-client``: the same counts kept in ``prometheus_client`` labelled metrics
  (requests, attempts, three histograms, four token counters, cost: ten ``labels()``
  updates), the usual way to use that library. A lower bound: the per-request
  bookkeeping the histograms need (first byte, upstream time) is not included.

Both run inside ``trio.run`` on the event loop's thread, as in the gateway; CPU time
(``time.process_time``), best of ``--rounds``.

    .venv/bin/python scripts/bench_metrics.py [--requests 50000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import trio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prometheus_client import CollectorRegistry, Counter, Histogram

from actors.metrics import LATENCY_BUCKETS_S, OVERHEAD_BUCKETS_S, RequestMetrics
from messages.events import (
    AttemptFinished,
    AttemptFirstByte,
    AttemptStarted,
    RequestReceived,
    ResponseCompleted,
    RouteDecided,
    TrailEvent,
)
from messages.usage import Usage


def _trail(i: int) -> list[TrailEvent]:
    rid, now, usage = f"req-{i}", 1_700_000_000.0 + i, Usage(input_tokens=120, output_tokens=40)
    return [
        RequestReceived(
            request_id=rid,
            at=now,
            client_format="responses",
            endpoint="/v1/responses",
            model_requested="gpt-5.5",
            stream=True,
            virtual_key_id="k",
            account_id="a",
            session_id=None,
            thread_id=None,
            user_agent=None,
            body=b"{}",
        ),
        RouteDecided(request_id=rid, at=now, candidates=("openai-main",), reason="primary"),
        AttemptStarted(
            request_id=rid,
            at=now,
            attempt=1,
            provider_id="openai-main",
            provider_type="openai",
            model="gpt-5.5",
            key_id="k1",
            reason="primary",
        ),
        AttemptFirstByte(request_id=rid, at=now + 0.1, attempt=1, status=200, ttfb_ms=100.0),
        AttemptFinished(
            request_id=rid,
            at=now + 0.3,
            attempt=1,
            provider_id="openai-main",
            model="gpt-5.5",
            status=200,
            latency_ms=299.0,
            usage=usage,
            error=None,
            cost_usd=0.001,
        ),
        ResponseCompleted(
            request_id=rid,
            at=now + 0.3,
            status=200,
            latency_ms=300.0,
            provider_id="openai-main",
            model="gpt-5.5",
            attempts=1,
            usage=usage,
            response=b"{}",
            cost_usd=0.001,
        ),
    ]


def _ours(trails: list[list[TrailEvent]]) -> Callable[[], None]:
    metrics = RequestMetrics()

    def run() -> None:
        for trail in trails:
            for event in trail:
                metrics.observe(event)

    return run


def _prometheus_client(trails: list[list[TrailEvent]]) -> Callable[[], None]:
    registry = CollectorRegistry()
    requests = Counter("r", "", ["provider", "model", "endpoint", "status"], registry=registry)
    attempts = Counter("a", "", ["provider", "kind"], registry=registry)
    duration = Histogram("d", "", ["endpoint"], buckets=LATENCY_BUCKETS_S, registry=registry)
    first = Histogram("f", "", ["endpoint"], buckets=LATENCY_BUCKETS_S, registry=registry)
    overhead = Histogram("o", "", ["endpoint"], buckets=OVERHEAD_BUCKETS_S, registry=registry)
    tokens = Counter("t", "", ["provider", "model", "kind"], registry=registry)
    cost = Counter("c", "", ["provider", "model"], registry=registry)

    def run() -> None:
        for trail in trails:
            end = trail[-1]
            assert isinstance(end, ResponseCompleted)
            assert end.usage is not None
            requests.labels(end.provider_id, end.model, "responses", "200").inc()
            attempts.labels(end.provider_id, "primary").inc()
            duration.labels("responses").observe(end.latency_ms / 1000)
            first.labels("responses").observe(0.1)
            overhead.labels("responses").observe(0.001)
            tokens.labels(end.provider_id, end.model, "input").inc(end.usage.input_tokens)
            tokens.labels(end.provider_id, end.model, "cached_input").inc(0)
            tokens.labels(end.provider_id, end.model, "output").inc(end.usage.output_tokens)
            tokens.labels(end.provider_id, end.model, "reasoning").inc(0)
            cost.labels(end.provider_id, end.model).inc(end.cost_usd or 0.0)

    return run


def _best_us(run: Callable[[], None], requests: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        run()
        best = min(best, time.process_time() - started)
    return best / requests * 1e6


async def _main(requests: int, rounds: int) -> None:
    trails = [_trail(i) for i in range(requests)]
    for name, make in (("switchyard", _ours), ("prometheus-client", _prometheus_client)):
        print(f"{name:>18}: {_best_us(make(trails), requests, rounds):6.2f} µs per request")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    trio.run(_main, args.requests, args.rounds)


if __name__ == "__main__":
    main()
