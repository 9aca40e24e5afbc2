from __future__ import annotations

import pytest
import trio

from fakes import FakeProviderServer, open_fake_provider


@pytest.fixture
async def fake(nursery: trio.Nursery) -> FakeProviderServer:
    return await open_fake_provider(nursery)
