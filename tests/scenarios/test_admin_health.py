"""``/healthz`` tells anyone only that the gateway is alive; the details (virtual key ids,
teams, customers, budgets and spend, benched provider keys) need ``server.admin_key``.
``server.admin_key`` is read like every secret (``${ENV}``) and must be long."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import trio

from config import ConfigError
from fakes import FakeProviderServer, open_fake_provider
from tests.gateway_rig import (
    ENVIRON,
    auth,
    config_yaml,
    make_config,
    openai_provider,
    running_gateway,
)

ADMIN_KEY = "sy-admin-0123456789abcdef01234567"
TENANT_KEY = "sk-sy-test-virtual-key-red-team-0042"
EXTRA = f"""  - id: "red-key"
    key: "{TENANT_KEY}"
    account: "dev"
    team: "red-team"
    customer: "acme-corp"
budgets:
  - {{level: "virtual_key", id: "red-key", limit: 123.45, period: "monthly"}}
  - {{level: "team", id: "red-team", limit: 678.9, period: "monthly"}}
"""
SECRET_WORDS = ("red-key", "codex-dev", "red-team", "acme-corp", "123.45", "678.9")
CHAT = {"model": "gpt-5.5", "messages": [{"role": "user", "content": "hi"}]}


def _yaml(db: Path, admin_key_line: str | None) -> str:
    text = config_yaml([openai_provider("http://127.0.0.1:9/v1")], db_path=db, extra_keys=EXTRA)
    if admin_key_line is None:
        return text
    return text.replace("server:\n", f"server:\n  admin_key: {admin_key_line}\n", 1)


@pytest.fixture
async def fake(nursery: trio.Nursery) -> FakeProviderServer:
    return await open_fake_provider(nursery)


async def _client(
    fake: FakeProviderServer, tmp_path: Path, admin_key_line: str | None
) -> AsyncIterator[httpx.AsyncClient]:
    text = _yaml(tmp_path / "trail.db", admin_key_line)
    text = text.replace("http://127.0.0.1:9/v1", fake.base_url)
    config = make_config(text, {**ENVIRON, "TEST_ADMIN_KEY": ADMIN_KEY})
    async with running_gateway(config) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as client:
            served = await client.post("/v1/chat/completions", json=CHAT, headers=auth(TENANT_KEY))
            assert served.status_code == 200
            yield client


@pytest.fixture
async def guarded(fake: FakeProviderServer, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(fake, tmp_path, '"${TEST_ADMIN_KEY}"'):
        yield client


@pytest.fixture
async def unguarded(fake: FakeProviderServer, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(fake, tmp_path, None):
        yield client


async def test_without_the_admin_key_healthz_tells_liveness_only(
    guarded: httpx.AsyncClient,
) -> None:
    response = await guarded.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    for word in SECRET_WORDS:
        assert word not in response.text


@pytest.mark.parametrize(
    "authorization",
    [
        f"Bearer {TENANT_KEY}",  # a tenant's virtual key is not the admin key
        f"Bearer {ADMIN_KEY[:-1]}",
        f"Bearer {ADMIN_KEY}x",
        f"Basic {ADMIN_KEY}",
        ADMIN_KEY,
        "Bearer",
        "Bearer \u00e9\u00e9\u00e9",
    ],
)
async def test_a_wrong_admin_key_gets_a_401_and_no_detail(
    guarded: httpx.AsyncClient, authorization: str
) -> None:
    headers = {"authorization": authorization.encode("latin-1")}
    response = await guarded.get("/healthz", headers=headers)  # type: ignore[arg-type]
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"
    for word in SECRET_WORDS:
        assert word not in response.text


async def test_with_the_admin_key_healthz_gives_the_details(guarded: httpx.AsyncClient) -> None:
    response = await guarded.get("/healthz", headers=auth(ADMIN_KEY))
    assert response.status_code == 200
    report = response.json()
    assert report["status"] == "ok"
    assert report["server"]["open_connections"] >= 1
    assert report["router"]["routed"] >= 1
    assert report["audit"]["events_received"] >= 6
    assert "writer_lag_p99_ms" in report["audit"]
    assert report["upstream_pool"]["connections_opened"] >= 1
    assert set(report) >= {"provider_worker", "budget_accountant"}
    assert report["session_caps"] == {"sessions": 0, "refused": 0}  # no session-id was sent
    for word in ("red-key", "red-team", "123.45"):
        assert word in response.text


async def test_without_an_admin_key_configured_nobody_gets_the_details(
    unguarded: httpx.AsyncClient,
) -> None:
    for headers in ({}, auth(ADMIN_KEY), auth(TENANT_KEY)):
        response = await unguarded.get("/healthz", headers=headers)
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('"short-admin-key"', "server.admin_key: must be at least 24 characters (it has 15"),
        ("[1, 2]", "server.admin_key"),
        ("12345678901234567890123456", "server.admin_key"),
        ('"${NO_SUCH_ADMIN_KEY}"', "NO_SUCH_ADMIN_KEY"),
        ('"has a space in the middle 0123456789"', "whitespace"),
    ],
)
def test_a_bad_admin_key_stops_the_gateway_with_a_clear_line(
    tmp_path: Path, line: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        make_config(_yaml(tmp_path / "t.db", line), ENVIRON)
    assert problem in str(caught.value)
    assert "test.yaml:2:" in str(caught.value)
