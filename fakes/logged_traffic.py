"""Synthetic logged traffic: ``requests`` and ``attempts`` rows written straight into the
storage layer's own tables, as the audit writer would have projected them — for
measuring the reports over 100,000 requests without sending 100,000 requests.

Each request is served by a provider of its account drawn by weight; about one in
twenty fails (rate limited or timed out, no usage); its cost is its usage at the
provider's price (``budgets.pricing.usage_cost``), as the gateway meters it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from budgets.pricing import PriceTable, usage_cost
from config.model import GatewayConfig, ProviderConfig
from messages.usage import Usage
from storage.tables import attempts, requests

BATCH = 5_000


@dataclass(frozen=True, slots=True, kw_only=True)
class TrafficShape:
    requests: int
    start: datetime = datetime(2026, 11, 1, tzinfo=UTC)
    spacing: timedelta = timedelta(seconds=2)
    seed: int = 14
    failure_rate: float = 0.05
    session_turns: int = 20  # requests per session


def insert_traffic(
    engine: Engine, config: GatewayConfig, shape: TrafficShape, prices: PriceTable
) -> int:
    """Insert ``shape.requests`` requests served by ``config``'s keys; returns the count."""
    made = 0
    rows = _rows(config, shape, prices)
    with engine.begin() as connection:
        while True:
            batch = [row for _, row in zip(range(BATCH), rows, strict=False)]
            if not batch:
                return made
            connection.execute(requests.insert(), [request for request, _ in batch])
            connection.execute(attempts.insert(), [attempt for _, attempt in batch])
            made += len(batch)


def _rows(
    config: GatewayConfig, shape: TrafficShape, prices: PriceTable
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    rng = random.Random(shape.seed)
    keys = config.virtual_keys
    for index in range(shape.requests):
        key = keys[index % len(keys)]
        account = config.account(key.account)
        assert account is not None
        provider = rng.choices(account.providers, [p.weight for p in account.providers])[0]
        started = shape.start + shape.spacing * index
        failed = rng.random() < shape.failure_rate
        usage = Usage() if failed else _usage(rng)
        price = prices.find(provider.type, provider.model)
        cost = None if price is None else (usage_cost(price, usage) if not failed else 0.0)
        latency = rng.lognormvariate(7.0, 0.6)
        request = _request(index, key.id, account.id, provider, usage, started, latency)
        request |= {"cost_usd": cost, "session_id": f"session-{index // shape.session_turns}"}
        if failed:
            kind = rng.choice(("rate_limited", "timeout"))
            request |= {"status": "failed", "error_kind": kind, "http_status": 429}
        attempt = _attempt(request, provider, latency, rng.uniform(0.1, 0.4) * latency)
        yield request, attempt


def _usage(rng: random.Random) -> Usage:
    prompt = rng.randint(2_000, 60_000)
    output = rng.randint(20, 2_000)
    return Usage(
        input_tokens=prompt,
        cached_input_tokens=rng.randint(0, prompt // 2),
        output_tokens=output,
        reasoning_tokens=rng.randint(0, output // 2),
    )


def _request(
    index: int,
    key_id: str,
    account_id: str,
    provider: ProviderConfig,
    usage: Usage,
    started: datetime,
    latency: float,
) -> dict[str, Any]:
    return {
        "request_id": f"req_synthetic_{index:08d}",
        "thread_id": None,
        "started_at": started,
        "finished_at": started + timedelta(milliseconds=latency),
        "latency_ms": latency,
        "virtual_key": key_id,
        "account_id": account_id,
        "team": None,
        "customer": None,
        "client_format": "responses",
        "endpoint": "/v1/responses",
        "stream": True,
        "model_requested": "gpt-5.5",
        "provider": provider.id,
        "model": provider.model,
        "status": "completed",
        "http_status": 200,
        "error_kind": None,
        "attempts": 1,
        "input_tokens": usage.input_tokens,
        "cached_input_tokens": usage.cached_input_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "output_tokens": usage.output_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        "price_source": "shipped",
    }


def _attempt(
    request: dict[str, Any], provider: ProviderConfig, latency: float, ttfb: float
) -> dict[str, Any]:
    tokens = ("input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens")
    return {
        "request_id": request["request_id"],
        "attempt": 1,
        "provider": provider.id,
        "provider_type": provider.type,
        "model": provider.model,
        "key_id": f"{provider.id}#0",
        "reason": "weighted",
        "started_at": request["started_at"],
        "first_byte_ms": ttfb,
        "finished_at": request["finished_at"],
        "latency_ms": latency,
        "http_status": request["http_status"],
        "outcome": request["error_kind"] or "ok",
        "error_message": None,
        **{name: request[name] for name in tokens},
        "reasoning_tokens": request["reasoning_tokens"],
        "cost_usd": request["cost_usd"],
        "price_source": "shipped",
    }


__all__ = ["TrafficShape", "insert_traffic"]
