"""Budgets through the HTTP front door: each tier answers 402 at its limit (with which
tier, what limit and when it resets), rate limits answer 429 with Retry-After, and
budgets set with the CLI apply to a running gateway."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
import trio

from actors.system import GatewayHandle, run_gateway
from config import load_config
from fakes import FakeProviderServer
from messages.budget import BudgetRule
from storage.budget_store import set_budget
from storage.database import make_engine
from tests.gateway_rig import ENVIRON, Trail, config_yaml, openai_provider
from tests.scenarios.budget_rig import (
    ALICE_KEY,
    COST,
    alice,
    body,
    budget_config,
    budget_gateway,
    fixed_cost,
    wait_settled,
)


async def _until_refused(client: httpx.AsyncClient, limit: int = 20) -> tuple[int, httpx.Response]:
    """Send one request at a time until one is refused; (how many passed, the refusal)."""
    for passed in range(limit):
        response = await client.post("/v1/responses", json=body(f"n{passed}"), headers=alice())
        if response.status_code != 200:
            return passed, response
    raise AssertionError(f"{limit} requests passed")


@pytest.mark.parametrize(
    ("level", "scope"), [("customer", "acme"), ("team", "red"), ("virtual_key", "alice")]
)
async def test_each_tier_answers_402_at_its_limit(
    fake: FakeProviderServer, tmp_path: Path, level: str, scope: str
) -> None:
    fixed_cost(fake)
    budgets = f'  - {{level: "{level}", id: "{scope}", limit: 0.03, period: "monthly"}}\n'
    config = budget_config(fake, tmp_path / "trail.db", budgets=budgets)
    async with budget_gateway(config) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as client:
            passed, refused = await _until_refused(client)
    # $0.008 each, held at ~$0.0081 before: the fourth would pass $0.03
    assert passed == 3
    assert refused.status_code == 402
    error = refused.json()["error"]
    assert error["type"] == "budget_exceeded" and error["code"] == "budget_exceeded"
    assert f"{level} '{scope}'" in error["message"]
    assert "$0.03 per month (UTC)" in error["message"] and "resets at" in error["message"]
    assert refused.headers["x-request-id"].startswith("req_")
    trail = Trail(tmp_path / "trail.db")
    [row] = trail.rows(
        "SELECT status, http_status, error_kind, cost_usd, team, customer FROM requests "
        "WHERE request_id = ?",
        refused.headers["x-request-id"],
    )
    assert tuple(row) == ("failed", 402, "budget_exceeded", 0.0, "red", "acme")
    assert len(fake.requests) == 3  # the refused request never reached a provider


async def test_a_key_without_budget_is_not_held_back(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    fixed_cost(fake)
    budgets = '  - {level: "virtual_key", id: "codex-dev", limit: 0.0, period: "daily"}\n'
    config = budget_config(fake, tmp_path / "trail.db", budgets=budgets)
    async with budget_gateway(config) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as client:
            for n in range(4):
                response = await client.post("/v1/responses", json=body(f"{n}"), headers=alice())
                assert response.status_code == 200
        assert gateway.accountant is not None
        assert gateway.accountant.statistics().reserved == 0  # no budget covers alice


async def test_rate_limit_answers_429_with_retry_after(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    fixed_cost(fake)
    budgets = '  - {level: "team", id: "red", requests_per_minute: 2}\n'
    config = budget_config(fake, tmp_path / "trail.db", budgets=budgets)
    async with budget_gateway(config) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as client:
            passed, refused = await _until_refused(client)
    assert passed == 2
    assert refused.status_code == 429
    assert 55 <= int(refused.headers["retry-after"]) <= 60
    error = refused.json()["error"]
    assert error["code"] == "rate_limit_exceeded" and error["type"] == "rate_limit_error"
    assert "team 'red': 2 requests per minute" in error["message"]


async def test_a_budget_set_with_the_cli_applies_while_running(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    fixed_cost(fake)
    db = tmp_path / "trail.db"
    config = budget_config(fake, db)
    async with budget_gateway(config) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as client:
            for n in range(2):
                assert (
                    await client.post("/v1/responses", json=body(f"{n}"), headers=alice())
                ).status_code == 200
            await wait_settled(gateway, 2)
            engine = make_engine(f"sqlite:///{db}")
            rule = BudgetRule(
                level="virtual_key", scope_id="alice", period="daily", limit_usd=0.02, source="cli"
            )
            set_budget(engine, rule, at=time.time())
            engine.dispose()
            with trio.fail_after(5):  # the store watcher polls every 0.1 s here
                while not (stats := gateway.accountant.statistics()).budgets:  # type: ignore[union-attr]
                    await trio.sleep(0.02)
                while stats.budgets[0].spent_usd < 2 * COST - 1e-9:
                    await trio.sleep(0.02)
                    stats = gateway.accountant.statistics()  # type: ignore[union-attr]
            refused = await client.post("/v1/responses", json=body("third"), headers=alice())
    assert stats.budgets[0].spent_usd == pytest.approx(2 * COST)  # counted from the trail
    assert (
        refused.status_code == 402 and "virtual_key 'alice'" in refused.json()["error"]["message"]
    )


async def test_a_config_reload_brings_new_budgets_and_prices(
    fake: FakeProviderServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in ENVIRON.items():
        monkeypatch.setenv(name, value)
    fixed_cost(fake)
    db = tmp_path / "trail.db"
    path = tmp_path / "switchyard.yaml"
    base = config_yaml([openai_provider(fake.base_url)], db_path=db, extra_keys=ALICE_KEY)
    path.write_text(base)
    async with trio.open_nursery() as nursery:
        gateway: GatewayHandle = await nursery.start(
            lambda task_status: run_gateway(
                load_config(path),
                port=0,
                config_path=path,
                reload_poll_s=0.05,
                task_status=task_status,
            )
        )
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as client:
            first = await client.post("/v1/responses", json=body("before"), headers=alice())
            path.write_text(
                base
                + 'pricing:\n  - {provider: "openai", model: "gpt-5.5", input: 1, output: 1}\n'
                + 'budgets:\n  - {level: "team", id: "red", limit: 0.0095, period: "daily"}\n'
            )
            # the new budget counts the first request ($0.008, loaded from the trail); at
            # the new price a request costs $0.0011: one more fits under $0.0095, two do not
            assert gateway.accountant is not None
            with trio.fail_after(5):
                while not (counted := gateway.accountant.statistics().budgets) or (
                    counted[0].spent_usd < COST
                ):
                    await trio.sleep(0.02)
            second = await client.post("/v1/responses", json=body("after"), headers=alice())
            third = await client.post("/v1/responses", json=body("over"), headers=alice())
        gateway.stop()
    assert first.status_code == second.status_code == 200
    assert third.status_code == 402 and "team 'red'" in third.json()["error"]["message"]
    trail = Trail(db)
    costs = [
        row["cost_usd"]
        for row in trail.rows(
            "SELECT cost_usd FROM requests WHERE status = 'completed' ORDER BY started_at"
        )
    ]
    assert costs == [pytest.approx(COST), pytest.approx((1000 * 1 + 100 * 1) / 1e6)]
