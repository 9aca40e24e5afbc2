"""A gateway with the response cache on, for the cache scenarios: two accounts on one
fake, keys in different teams and customers, and the cache policies under test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import trio

from actors.system import GatewayHandle
from config.model import GatewayConfig
from fakes import FakeProviderServer, FakeUsage, Reply, Text, Turn
from tests.gateway_rig import ADMIN_KEY, Trail, admin_auth, make_config, running_gateway

ALICE = "sk-alice-cache-test-key-0001"  # account dev, team red, customer acme
DAVE = "sk-dave-cache-test-key-00004"  # the same team and customer as alice
BOB = "sk-bob-cache-test-key-000002"  # team blue, customer acme
CAROL = "sk-carol-cache-test-key-0003"  # team red, customer globex
ERIN = "sk-erin-cache-test-key-00005"  # account other (opts in by header only)
EVE = "sk-eve-cache-test-key-000006"  # account dev, team red, customer acme: forbidden
USAGE = FakeUsage(input_tokens=1000, output_tokens=100)
COST = (1000 * 5 + 100 * 30) / 1e6  # what one answer costs on gpt-5.5: $0.008

_KEYS = [
    ("alice", ALICE, "dev", "red", "acme"),
    ("dave", DAVE, "dev", "red", "acme"),
    ("bob", BOB, "dev", "blue", "acme"),
    ("carol", CAROL, "dev", "red", "globex"),
    ("erin", ERIN, "other", "red", "acme"),
    ("eve", EVE, "dev", "red", "acme"),
]
DEFAULT_POLICIES = """    - {level: account, id: dev, mode: exact, ttl: 1h}
    - {level: virtual_key, id: eve, forbid: true}
"""


def cache_config_text(
    fake: FakeProviderServer,
    db: Path,
    *,
    policies: str = DEFAULT_POLICIES,
    cache_extra: str = "",
    extra: str = "",
) -> str:
    provider = f"""      - id: "fake-openai"
        type: "openai"
        api_key: "sk-provider-test-secret-0002"
        model: "gpt-5.5"
        base_url: "{fake.base_url}"
        retry: {{max_retries: 0}}
        timeouts: {{first_byte_s: 5, idle_s: 5, total_s: 30}}
"""
    keys = "".join(
        f'  - {{id: "{name}", key: "{secret}", account: "{account}", team: "{team}", '
        f'customer: "{customer}"}}\n'
        for name, secret, account, team, customer in _KEYS
    )
    return (
        f'server:\n  admin_key: "{ADMIN_KEY}"\n'
        f'database:\n  url: "sqlite:///{db}"\n'
        f'accounts:\n  - id: "dev"\n    providers:\n{provider}'
        f'  - id: "other"\n    providers:\n{provider}'
        f"virtual_keys:\n{keys}"
        f"cache:\n{cache_extra}  policies:\n{policies}{extra}"
    )


def cache_config(fake: FakeProviderServer, db: Path, **options: Any) -> GatewayConfig:
    return make_config(cache_config_text(fake, db, **options))


def fixed_answers(fake: FakeProviderServer, text: str = "cached answer") -> None:
    """Every answer is ``text``, billing 1000 tokens in and 100 out."""
    fake.fallback = Turn(reply=Reply(items=(Text(text=text),), usage=USAGE))


@dataclass
class CacheRig:
    fake: FakeProviderServer
    gateway: GatewayHandle
    client: httpx.AsyncClient
    trail: Trail

    async def post(
        self,
        body: dict[str, Any],
        *,
        key: str = ALICE,
        path: str = "/v1/responses",
        settle: bool = True,
        **headers: str,
    ) -> httpx.Response:
        """POST ``body``; after a miss (with ``settle``), wait until the cache actor has
        handled the answer, so the next request sees it."""
        sent = {"authorization": f"Bearer {key}", **headers}
        before = await self.offers() if settle else 0
        response = await self.client.post(path, json=body, headers=sent)
        if settle and response.headers.get("x-switchyard-cache") == "miss":
            await self.wait_offers(before + 1)
        return response

    async def offers(self) -> int:
        stats = await self.cache_statistics()
        return int(stats["stored"] + stats["not_stored"])

    async def cache_statistics(self) -> dict[str, Any]:
        health = await self.client.get("/healthz", headers=admin_auth())
        statistics: dict[str, Any] = health.json()["cache"]
        return statistics

    async def wait_offers(self, count: int) -> None:
        """Until the cache actor has handled ``count`` answers offered to it (kept or not)."""
        with trio.fail_after(10):
            while True:
                stats = await self.cache_statistics()
                if stats["stored"] + stats["not_stored"] >= count:
                    return
                await trio.sleep(0.02)

    async def trail_flushed(self) -> None:
        """Until every event sent so far is in SQL (the audit logger's own signal)."""
        assert self.gateway.audit is not None
        await self.gateway.audit.flushed()

    async def wait_entries(self, count: int) -> list[Any]:
        """The ``cache_entries`` rows once there are ``count`` (side writes of the one SQL
        writer: they follow no trail batch, so this looks again every 20 ms)."""
        with trio.fail_after(10):
            while len(rows := self.trail.rows("SELECT * FROM cache_entries")) != count:
                await trio.sleep(0.02)
        return rows

    async def wait_model(self) -> None:
        """Until the embedding model has loaded (semantic policies load it at start)."""
        with trio.fail_after(120):
            while not (await self.cache_statistics())["model_loaded"]:
                await trio.sleep(0.05)

    def events(self, request_id: str, kind: str) -> list[Any]:
        import json

        rows = self.trail.rows(
            "SELECT payload FROM events WHERE request_id = ? AND kind = ?", request_id, kind
        )
        return [json.loads(row["payload"]) for row in rows]


@asynccontextmanager
async def cache_rig(
    fake: FakeProviderServer, tmp_path: Path, **options: Any
) -> AsyncIterator[CacheRig]:
    db = tmp_path / "trail.db"
    async with running_gateway(cache_config(fake, db, **options)) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as client:
            trail = Trail(db, gateway.audit)
            yield CacheRig(fake=fake, gateway=gateway, client=client, trail=trail)


def responses_body(text: str = "What is 2+2?", **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-5.5", "input": [{"role": "user", "content": text}], **extra}


def chat_body(text: str = "What is 2+2?", **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-5.5", "messages": [{"role": "user", "content": text}], **extra}
