"""A gateway with mixed traffic for the operator's views (``/metrics``, the dashboard):
both endpoints, streamed and not, a retry then a failover, a budget refusal and an
unauthenticated request; every request's trail complete before the views are read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from actors.system import GatewayHandle
from fakes import FakeProviderServer, FakeUsage, Fault, Reply, Text, Turn
from tests.gateway_rig import (
    ADMIN_KEY,
    ENVIRON,
    Trail,
    auth,
    config_yaml,
    make_config,
    running_gateway,
)
from tests.scenarios.failover_rig import CHAT, RESPONSES_STREAM, upstream

PRIMARY = 1_000_000_000
BROKE = "sk-broke-team-budget-key-0001"  # its team's budget is spent before it starts
EXTRA = f"""  - id: "broke"
    key: "{BROKE}"
    account: "dev"
    team: "blue"
budgets:
  - {{level: "team", id: "blue", limit: 0.000001, period: "daily"}}
  - {{level: "virtual_key", id: "codex-dev", limit: 50, period: "daily"}}
"""
RESPONSES = {"model": "gpt-5.5", "input": "hello"}


@dataclass
class Traffic:
    gateway: GatewayHandle
    client: httpx.AsyncClient
    trail: Trail
    statuses: list[int]


def admin() -> dict[str, str]:
    return {"authorization": f"Bearer {ADMIN_KEY}"}


@asynccontextmanager
async def gateway_with_traffic(
    a: FakeProviderServer, b: FakeProviderServer, tmp_path: Path, *, admin_key: bool = True
) -> AsyncIterator[Traffic]:
    usage = FakeUsage(input_tokens=1000, output_tokens=100)
    for fake in (a, b):
        fake.fallback = Turn(reply=Reply(items=(Text(text="ok"),), usage=usage))
    retry = {"max_retries": 1, "backoff_base_s": 0.01, "backoff_max_s": 0.02}
    providers = [upstream(a, "a", weight=PRIMARY, retry=retry), upstream(b, "b")]
    db = tmp_path / "trail.db"
    text = config_yaml(
        providers, db_path=db, extra_keys=EXTRA, admin_key=ADMIN_KEY if admin_key else None
    )
    async with running_gateway(make_config(text, ENVIRON)) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as client:
            statuses = await _send(client, a)
            trail = Trail(db, gateway.audit)
            finished = "SELECT request_id FROM requests WHERE status != 'in_progress'"
            await trail.wait_rows(finished, at_least=len(statuses))
            yield Traffic(gateway=gateway, client=client, trail=trail, statuses=statuses)


async def _send(client: httpx.AsyncClient, a: FakeProviderServer) -> list[int]:
    a.enqueue(Fault(status=500), Fault(status=500))  # retry on a, then failover to b
    sent = [await client.post("/v1/chat/completions", json=CHAT, headers=auth())]
    for _ in range(2):
        sent.append(await client.post("/v1/chat/completions", json=CHAT, headers=auth()))
        sent.append(await client.post("/v1/responses", json=RESPONSES, headers=auth()))
        sent.append(await client.post("/v1/responses", json=RESPONSES_STREAM, headers=auth()))
    broke = {"authorization": f"Bearer {BROKE}"}
    sent.append(await client.post("/v1/responses", json=RESPONSES, headers=broke))
    sent.append(await client.post("/v1/chat/completions", json=CHAT))  # no key: 401
    statuses = [response.status_code for response in sent]
    assert statuses == [200] * 7 + [402, 401], statuses
    return statuses
