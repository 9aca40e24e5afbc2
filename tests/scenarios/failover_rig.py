"""A gateway in front of several fake providers, for the failover and reload scenarios:
each fake counts what reached it; the trail says what the gateway did about it."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from actors.system import GatewayHandle
from fakes import FakeProviderServer
from tests.gateway_rig import ENVIRON, Trail, auth, config_yaml, make_config, running_gateway

CHAT = {"model": "gpt-5.5", "messages": [{"role": "user", "content": "hi"}]}
RESPONSES_STREAM = {"model": "gpt-5.5", "input": "tell me something", "stream": True}
SECOND_KEY = "sk-provider-test-secret-0003"
ENVIRON_TWO_KEYS = {**ENVIRON, "TEST_PROVIDER_KEY_2": SECOND_KEY}


def upstream(fake: FakeProviderServer | str, provider_id: str, **fields: Any) -> dict[str, Any]:
    """One OpenAI-type provider entry; no retries and short timeouts unless overridden."""
    base_url = fake if isinstance(fake, str) else fake.base_url
    provider: dict[str, Any] = {
        "id": provider_id,
        "type": "openai",
        "api_key": "${TEST_PROVIDER_KEY}",
        "model": "gpt-5.5",
        "base_url": base_url,
        "weight": 1,
        "retry": {"max_retries": 0, "backoff_base_s": 0.01, "backoff_max_s": 0.05},
        "timeouts": {"first_byte_s": 5, "idle_s": 5, "total_s": 30},
    }
    provider.update(fields)
    return provider


@dataclass
class Gate:
    gateway: GatewayHandle
    client: httpx.AsyncClient
    trail: Trail

    async def chat(self, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.client.post("/v1/chat/completions", json=body or CHAT, headers=auth())

    async def stream(self) -> httpx.Response:
        return await self.client.post("/v1/responses", json=RESPONSES_STREAM, headers=auth())

    async def finished(self, request_id: str) -> sqlite3.Row:
        """The request's row once its trail is complete."""
        rows = await self.trail.wait_rows(
            "SELECT * FROM requests WHERE request_id = ? AND status != 'in_progress'", request_id
        )
        return rows[0]

    async def attempts(self, response: httpx.Response) -> list[sqlite3.Row]:
        request_id = response.headers["x-request-id"]
        await self.finished(request_id)
        return self.trail.rows(
            "SELECT * FROM attempts WHERE request_id = ? ORDER BY attempt", request_id
        )

    async def route_reason(self, response: httpx.Response) -> str:
        request_id = response.headers["x-request-id"]
        await self.finished(request_id)
        (row,) = self.trail.rows(
            "SELECT payload FROM events WHERE request_id = ? AND kind = 'route.decided'",
            request_id,
        )
        return str(orjson.loads(row["payload"])["reason"])


@asynccontextmanager
async def gate(
    providers: list[dict[str, Any]],
    tmp_path: Path,
    *,
    extra: str = "",
    environ: dict[str, str] | None = None,
) -> AsyncIterator[Gate]:
    db = tmp_path / "trail.db"
    config = make_config(config_yaml(providers, db_path=db, extra_keys=extra), environ or ENVIRON)
    async with running_gateway(config) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as client:
            yield Gate(gateway=gateway, client=client, trail=Trail(db, gateway.audit))


def sse_events(response: httpx.Response) -> list[dict[str, Any]]:
    return [
        orjson.loads(line[6:])
        for line in response.text.splitlines()
        if line.startswith("data: ") and line != "data: [DONE]"
    ]


def closed_port_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
