from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import trio

from actors.system import GatewayHandle
from fakes import FakeProviderServer, open_fake_provider
from tests.gateway_rig import (
    ADMIN_KEY,
    Trail,
    config_yaml,
    make_config,
    openai_provider,
    running_gateway,
)


@dataclass
class Rig:
    fake: FakeProviderServer
    gateway: GatewayHandle
    client: httpx.AsyncClient
    trail: Trail


@pytest.fixture
async def fake(nursery: trio.Nursery) -> FakeProviderServer:
    return await open_fake_provider(nursery)


@pytest.fixture
async def rig(fake: FakeProviderServer, tmp_path: Path) -> AsyncIterator[Rig]:
    db = tmp_path / "trail.db"
    text = config_yaml([openai_provider(fake.base_url)], db_path=db, admin_key=ADMIN_KEY)
    config = make_config(text)
    async with running_gateway(config) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as client:
            yield Rig(fake=fake, gateway=gateway, client=client, trail=Trail(db, gateway.audit))
