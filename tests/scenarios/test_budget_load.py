"""64 concurrent clients hammer one key with a small budget: the budget holds (overspend
at most one request's estimate; here none, since the estimate covers the fixed usage),
nearly all of it is used, and the trail's sum equals the accountant's counter."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx
import orjson
import pytest
import trio

from fakes import FakeProviderServer, Fault, Reply, Text, Turn
from tests.gateway_rig import Trail
from tests.scenarios.budget_rig import (
    BODY_PADDING,
    COST,
    FIXED_USAGE,
    MAX_OUTPUT,
    alice,
    body,
    budget_config,
    budget_gateway,
)

CLIENTS = 64
REQUESTS_PER_CLIENT = 6
LIMIT = 0.20


def _estimate() -> float:
    """What the accountant holds per request: body bytes / 4 in, max_output_tokens out."""
    input_tokens = len(orjson.dumps(body("c00-0"))) // 4
    assert input_tokens * 4 >= BODY_PADDING  # so the estimate covers the 1000 billed
    return (input_tokens * 5 + MAX_OUTPUT * 30) / 1e6


async def _client(
    client: httpx.AsyncClient, number: int, statuses: Counter[int], costs: list[float]
) -> None:
    for n in range(REQUESTS_PER_CLIENT):
        response = await client.post(
            "/v1/responses", json=body(f"c{number:02}-{n}"), headers=alice()
        )
        statuses[response.status_code] += 1
        if response.status_code == 200:
            costs.append(COST)
        else:
            assert response.status_code == 402, response.text


async def test_concurrent_clients_cannot_overspend_a_small_budget(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    # slow answers, so many requests are in flight at once
    fake.fallback = Turn(
        reply=Reply(items=(Text(text="ok"),), usage=FIXED_USAGE),
        fault=Fault(hang_before_headers_s=0.05),
    )
    db = tmp_path / "trail.db"
    budgets = f'  - {{level: "virtual_key", id: "alice", limit: {LIMIT}, period: "total"}}\n'
    config = budget_config(fake, db, budgets=budgets)
    statuses: Counter[int] = Counter()
    costs: list[float] = []
    async with budget_gateway(config) as gateway:
        limits = httpx.Limits(max_connections=CLIENTS)
        async with httpx.AsyncClient(
            base_url=gateway.base_url, timeout=30, limits=limits
        ) as client:
            with trio.fail_after(60):
                async with trio.open_nursery() as nursery:
                    for number in range(CLIENTS):
                        nursery.start_soon(_client, client, number, statuses, costs)
        trail = Trail(db, gateway.audit)
        await trail.wait_no_rows("SELECT 1 FROM requests WHERE status = 'in_progress'")
        with trio.fail_after(10):
            assert gateway.accountant is not None
            while (stats := gateway.accountant.statistics()).holds:
                await gateway.accountant.next_message()
    estimate = _estimate()
    [row] = trail.rows(
        "SELECT SUM(cost_usd) AS spent, COUNT(*) AS served FROM requests "
        "WHERE virtual_key = 'alice' AND status = 'completed'"
    )
    spent, served = row["spent"], row["served"]
    print(
        f"\n{CLIENTS} clients x {REQUESTS_PER_CLIENT} Responses requests: limit ${LIMIT:.2f}, "
        f"spent ${spent:.6f}, overspend ${max(0.0, spent - LIMIT):.6f} (served {served})"
    )
    assert sum(statuses.values()) == CLIENTS * REQUESTS_PER_CLIENT
    assert statuses[200] == served == len(fake.requests) and statuses[402] > 0
    assert spent <= LIMIT + estimate  # the promise: overspend at most one estimate
    assert spent <= LIMIT + 1e-9  # and here none: every estimate covers what was billed
    assert spent >= LIMIT - 2 * estimate  # the budget was used, not wasted on holds
    assert spent == pytest.approx(served * COST, rel=1e-9)
    [counter] = stats.budgets
    assert counter.spent_usd == pytest.approx(spent, rel=1e-9, abs=1e-12)
    assert counter.reserved_usd == pytest.approx(0.0, abs=1e-12)
