"""A provider whose budget is spent is skipped by the router: the next candidate serves,
and a request pinned to it is refused with the reason."""

from __future__ import annotations

from pathlib import Path

import httpx

from fakes import FakeProviderServer
from tests.gateway_rig import openai_provider
from tests.scenarios.budget_rig import (
    alice,
    body,
    budget_config,
    budget_gateway,
    fixed_cost,
    wait_settled,
)


async def test_a_spent_provider_is_skipped_and_the_next_candidate_serves(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    fixed_cost(fake)
    providers = [
        openai_provider(fake.base_url, id="primary", weight=1000),
        openai_provider(fake.base_url, id="backup", weight=1),
    ]
    budgets = '  - {level: "provider", id: "primary", limit: 0.005, period: "daily"}\n'
    config = budget_config(fake, tmp_path / "trail.db", budgets=budgets, providers=providers)
    async with budget_gateway(config) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as client:
            pinned = body(model="primary/gpt-5.5")
            first = await client.post("/v1/responses", json=pinned, headers=alice())
            await wait_settled(gateway, 1)  # $0.008 charged to primary: over its $0.005
            served_by = []
            for n in range(5):
                response = await client.post("/v1/responses", json=body(f"{n}"), headers=alice())
                assert response.status_code == 200, response.text
                served_by.append(response.headers["x-switchyard-provider"])
            refused = await client.post("/v1/responses", json=pinned, headers=alice())
    assert first.headers["x-switchyard-provider"] == "primary"
    assert served_by == ["backup"] * 5
    assert refused.status_code == 503
    assert "primary: daily budget spent ($0.008 of $0.005)" in refused.json()["error"]["message"]
