"""Cost attribution through the gateway, for every provider wire format the fake speaks:
the fake bills a fixed usage (cached tokens included), the trail's ``cost_usd`` must be
the dollars computed here by hand from the price list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from fakes import FakeProviderServer, FakeUsage, Reply, Text
from tests.gateway_rig import (
    Trail,
    auth,
    config_yaml,
    make_config,
    openai_provider,
    running_gateway,
)
from tests.scenarios.translation_rig import provider_for

USAGE = FakeUsage(input_tokens=1200, cached_tokens=200, output_tokens=300, reasoning_tokens=100)
LONG = FakeUsage(
    input_tokens=250_000, cached_tokens=50_000, output_tokens=1000, reasoning_tokens=200
)

CASES = [
    # (provider type, client endpoint, fake usage, expected USD) — prices per 1M tokens
    # gpt-5.5: $5 in, $0.50 cached, $30 out (reasoning is output)
    ("openai", "/v1/responses", USAGE, (1000 * 5 + 200 * 0.5 + 300 * 30) / 1e6),
    ("openai", "/v1/chat/completions", USAGE, (1000 * 5 + 200 * 0.5 + 300 * 30) / 1e6),
    # claude-sonnet-4-5: $3 in, $0.30 cache read, $15 out
    ("anthropic", "/v1/responses", USAGE, (1000 * 3 + 200 * 0.3 + 300 * 15) / 1e6),
    # gemini-2.5-pro: $1.25 in, $0.125 cached, $10 out (thoughts are output)
    ("gemini", "/v1/responses", USAGE, (1000 * 1.25 + 200 * 0.125 + 300 * 10) / 1e6),
    # gemini-2.5-pro above 200k prompt tokens: $2.50 in, $0.25 cached, $15 out, whole request
    ("gemini", "/v1/chat/completions", LONG, (200_000 * 2.5 + 50_000 * 0.25 + 1000 * 15) / 1e6),
    # command-a-03-2025: $2.50 in (no cached price: cached tokens bill as input), $10 out
    ("cohere", "/v1/responses", USAGE, (1200 * 2.5 + 300 * 10) / 1e6),
    # mistral-large-latest: $0.50 in, $0.05 cached, $1.50 out
    ("mistral", "/v1/chat/completions", USAGE, (1000 * 0.5 + 200 * 0.05 + 300 * 1.5) / 1e6),
    # a self-hosted model has no price: NULL, never 0
    ("openai-compatible", "/v1/responses", USAGE, None),
]


def _provider(kind: str, fake: FakeProviderServer) -> dict[str, Any]:
    return openai_provider(fake.base_url) if kind == "openai" else provider_for(kind, fake)


def _body(endpoint: str) -> dict[str, Any]:
    if endpoint == "/v1/responses":
        return {"model": "gpt-5.5", "input": "what does this cost?"}
    return {"model": "gpt-5.5", "messages": [{"role": "user", "content": "what does this cost?"}]}


@pytest.mark.parametrize(("kind", "endpoint", "usage", "expected"), CASES)
async def test_cost_in_sql_is_usage_times_the_price(
    fake: FakeProviderServer,
    tmp_path: Path,
    kind: str,
    endpoint: str,
    usage: FakeUsage,
    expected: float | None,
) -> None:
    db = tmp_path / "trail.db"
    config = make_config(config_yaml([_provider(kind, fake)], db_path=db))
    fake.enqueue(Reply(items=(Text(text="about a cent"),), usage=usage))
    async with running_gateway(config) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as client:
            response = await client.post(endpoint, json=_body(endpoint), headers=auth())
    assert response.status_code == 200, response.text
    trail = Trail(db)  # the gateway has stopped: its drain wrote it all
    request_id = response.headers["x-request-id"]
    [request] = trail.rows("SELECT * FROM requests WHERE request_id = ?", request_id)
    [attempt] = trail.rows("SELECT * FROM attempts WHERE request_id = ?", request_id)
    assert (request["input_tokens"], request["cached_input_tokens"]) == (
        usage.input_tokens,
        usage.cached_tokens,
    )
    if expected is None:
        assert request["cost_usd"] is None and attempt["cost_usd"] is None
        [row] = trail.rows("SELECT unpriced, cost_usd FROM cost_by_model")
        assert tuple(row) == (1, None)
        return
    assert request["cost_usd"] == pytest.approx(expected, rel=1e-9)
    assert attempt["cost_usd"] == pytest.approx(expected, rel=1e-9)
    [row] = trail.rows("SELECT provider_type, requests, cost_usd FROM cost_by_model")
    assert (row["provider_type"], row["requests"]) == (kind, 1)
    assert row["cost_usd"] == pytest.approx(expected, rel=1e-9)
