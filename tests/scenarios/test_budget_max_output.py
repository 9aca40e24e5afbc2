"""64 concurrent Chat clients at a budget's edge, with conflicting output maxima
(``max_output_tokens: 1`` beside ``max_tokens: 64000``, ``max_completion_tokens: 1``
beside ``max_tokens: 64000``, no maximum at all, a maximum above the model's ceiling),
against a provider that writes everything it is allowed to: the estimate holds exactly
what the provider was sent, so the budget is not overspent — measured and printed
(``-s`` shows it: limit, spent, overspend).

Before the estimate and the adapters shared one function, the first two bodies were
held at 1 output token while the provider was sent 64,000: the overspend was about the
concurrency times that difference.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import trio

from fakes import FakeProviderServer, Fault, Reply, Text, Turn
from tests.gateway_rig import Trail, openai_provider
from tests.scenarios.budget_rig import alice, budget_config, budget_gateway
from tests.scenarios.translation_rig import provider_for

CLIENTS = 64
REQUESTS_PER_CLIENT = 2
LIMIT = 10.0
CONFLICTS: list[dict[str, Any]] = [
    {"max_output_tokens": 1, "max_tokens": 64000},
    {"max_completion_tokens": 1, "max_tokens": 64000},
    {},
    {"max_tokens": 200_000},
]
# provider type -> (ceiling: what it writes when sent no maximum, USD per 1M in, out)
PROVIDERS = {
    "anthropic": (64_000, 3.0, 15.0),  # claude-sonnet-4-5: always sent max_tokens
    "openai": (128_000, 5.0, 30.0),  # gpt-5.5 via Chat passthrough: sent what the client sent
}


def _body(number: int) -> dict[str, Any]:
    text = f"client {number}: write as much as you may"
    return {"model": "gpt-5.5", "messages": [{"role": "user", "content": text}]} | CONFLICTS[
        number % len(CONFLICTS)
    ]


async def _client(client: httpx.AsyncClient, number: int, statuses: Counter[int]) -> None:
    for _ in range(REQUESTS_PER_CLIENT):
        response = await client.post("/v1/chat/completions", json=_body(number), headers=alice())
        statuses[response.status_code] += 1
        assert response.status_code in (200, 402), response.text


def _largest_request_cost(kind: str) -> float:
    """What one request may cost at most here (the bound on any overspend)."""
    ceiling, input_price, output_price = PROVIDERS[kind]
    largest = max(len(orjson.dumps(_body(n))) for n in range(CLIENTS)) // 4 + 200
    output = 200_000 if kind == "openai" else ceiling
    return (largest * input_price + output * output_price) / 1e6


@pytest.mark.parametrize("kind", sorted(PROVIDERS))
async def test_conflicting_maxima_cannot_overspend_a_budget_at_its_edge(
    fake: FakeProviderServer, tmp_path: Path, kind: str
) -> None:
    ceiling = PROVIDERS[kind][0]
    fake.bill_max_output = ceiling
    fake.fallback = Turn(
        reply=Reply(items=(Text(text="ok"),)), fault=Fault(hang_before_headers_s=0.05)
    )
    db = tmp_path / "trail.db"
    provider = openai_provider(fake.base_url) if kind == "openai" else provider_for(kind, fake)
    budgets = f'  - {{level: "virtual_key", id: "alice", limit: {LIMIT}, period: "total"}}\n'
    config = budget_config(fake, db, budgets=budgets, providers=[provider])
    statuses: Counter[int] = Counter()
    async with budget_gateway(config) as gateway:
        limits = httpx.Limits(max_connections=CLIENTS)
        async with httpx.AsyncClient(
            base_url=gateway.base_url, timeout=30, limits=limits
        ) as client:
            with trio.fail_after(90):
                async with trio.open_nursery() as nursery:
                    for number in range(CLIENTS):
                        nursery.start_soon(_client, client, number, statuses)
        trail = Trail(db, gateway.audit)
        await trail.wait_no_rows("SELECT 1 FROM requests WHERE status = 'in_progress'")
        with trio.fail_after(10):
            assert gateway.accountant is not None
            while (stats := gateway.accountant.statistics()).holds:
                await gateway.accountant.next_message()
    [row] = trail.rows(
        "SELECT SUM(cost_usd) AS spent, COUNT(*) AS served, MAX(output_tokens) AS most "
        "FROM requests WHERE virtual_key = 'alice' AND status = 'completed'"
    )
    spent, served = row["spent"], row["served"]
    overspend = spent - LIMIT
    print(
        f"\n[{kind}] {CLIENTS} clients x {REQUESTS_PER_CLIENT} conflicting-max Chat requests: "
        f"limit ${LIMIT:.2f}, spent ${spent:.6f}, overspend ${max(0.0, overspend):.6f} "
        f"(served {served}, refused {statuses[402]}, largest output {row['most']} tokens)"
    )
    assert statuses[200] == served == len(fake.requests) and statuses[402] > 0
    assert row["most"] >= 64_000  # the provider really wrote the large maximum it was sent
    assert overspend <= _largest_request_cost(kind)  # the promise: at most one request
    assert overspend <= 1e-9  # and here none: every hold covered what was sent
    assert spent >= LIMIT - 2 * _largest_request_cost(kind)  # the budget was used
    [counter] = stats.budgets
    assert counter.spent_usd == pytest.approx(spent, rel=1e-9)
