"""``/dashboard`` in a real browser (Debian's headless Chromium, driven by Playwright)
against a gateway with traffic: sign-in with the admin key, spend per model equal to
``switchyard cost --by model``, the recent requests opening their trail, budgets and
live figures; and the JSON endpoints it reads, guarded and checked without a browser."""

from __future__ import annotations

import os
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import trio

from actors.dashboard_api import DashboardApi, Unreadable
from actors.metrics import RequestMetrics
from actors.metrics_exposition import MetricSources
from fakes import FakeProviderServer, open_fake_provider
from storage.cost_report import cost_report
from storage.database import make_engine
from tests.gateway_rig import ADMIN_KEY
from tests.scenarios.operator_rig import admin, gateway_with_traffic

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 30_000
NOTHING_YET = "\N{EN DASH}"  # what a tile shows before its first figure


@pytest.fixture
async def a(nursery: trio.Nursery) -> FakeProviderServer:
    return await open_fake_provider(nursery)


@pytest.fixture
async def b(nursery: trio.Nursery) -> FakeProviderServer:
    return await open_fake_provider(nursery)


def _browse(url: str, screenshot: Path) -> dict[str, Any]:
    """Sign in, read what the page shows, open the first request's trail (in a thread:
    Playwright's sync API runs its own loop while the gateway's trio loop serves)."""
    from playwright.sync_api import sync_playwright

    seen: dict[str, Any] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1300})
            page.set_default_timeout(TIMEOUT_MS)
            failed: list[str] = []
            page.on("requestfailed", lambda request: failed.append(request.url))
            page.goto(url + "/dashboard")
            page.wait_for_selector("#login-form", state="visible")
            page.fill("#login-key", "not-the-admin-key-at-all-000000")
            page.click("#login-form button")
            page.wait_for_selector("#login-error:not(:empty)")
            seen["wrong_key_error"] = page.inner_text("#login-error")
            page.fill("#login-key", ADMIN_KEY)
            page.click("#login-form button")
            page.wait_for_selector("#board", state="visible")
            page.wait_for_selector("#spend-totals tbody tr[data-name]")
            page.wait_for_selector("#requests tbody tr[data-request-id]")
            _wait_for_text_change(page, "#t-rate", NOTHING_YET)  # two overview polls: a rate
            seen["spend"] = page.eval_on_selector_all(
                "#spend-totals tbody tr[data-name]",
                "rows => rows.map(r => [r.dataset.name, Number(r.dataset.cost)])",
            )
            seen["requests_tile"] = page.inner_text("#t-requests")
            seen["errors_tile"] = page.inner_text("#t-errors")
            seen["cache_tile"] = page.inner_text("#t-cache")
            seen["budgets"] = page.eval_on_selector_all(
                "#budgets tbody tr[data-scope]",
                "rows => rows.map(r => [r.dataset.scope,"
                " r.querySelector('.budget-left').textContent])",
            )
            seen["replays"] = page.inner_text("#replays tbody")
            seen["request_ids"] = page.eval_on_selector_all(
                "#requests tbody tr[data-request-id]", "rows => rows.map(r => r.dataset.requestId)"
            )
            first = page.locator("#requests tbody tr[data-request-id]").first
            seen["clicked"] = first.get_attribute("data-request-id")
            first.click()
            page.wait_for_selector("#trail", state="visible")
            page.wait_for_selector("#trail-events li")
            seen["trail_id"] = page.inner_text("#trail-id")
            seen["trail_kinds"] = page.eval_on_selector_all(
                "#trail-events li", "items => items.map(i => i.dataset.kind)"
            )
            seen["storage"] = page.evaluate(
                "[document.cookie, JSON.stringify(sessionStorage), JSON.stringify(localStorage)]"
            )
            seen["failed_requests"] = failed
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return seen


def _wait_for_text_change(page: Any, selector: str, text: str) -> None:
    """(``wait_for_function`` evaluates a string: the page's CSP rightly forbids that.)"""
    for _ in range(TIMEOUT_MS // 100):
        if page.inner_text(selector) != text:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{selector} still shows {text!r}")


async def test_the_dashboard_shows_the_traffic_in_a_browser(
    a: FakeProviderServer, b: FakeProviderServer, tmp_path: Path
) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no browser at {CHROMIUM}: apt-get install chromium (.ci/run does)")
    screenshot = tmp_path / "dashboard.png"
    async with gateway_with_traffic(a, b, tmp_path) as traffic:
        url = traffic.gateway.base_url
        seen = await trio.to_thread.run_sync(_browse, url, screenshot)
        trail_kinds = traffic.trail.kinds(seen["clicked"])
    if target := os.environ.get("SWITCHYARD_DASHBOARD_SCREENSHOT"):
        shutil.copy(screenshot, target)

    assert "admin key required" in seen["wrong_key_error"]
    engine = make_engine(f"sqlite:///{traffic.trail.path}")
    try:
        since = datetime.now(UTC).date() - timedelta(days=13)
        view = cost_report(engine, "model", since=since)
    finally:
        engine.dispose()
    expected = {f"{row['provider']}/{row['model']}": row["cost_usd"] for row in view}
    shown = dict(seen["spend"])
    assert shown.keys() == expected.keys() == {"a/gpt-5.5", "b/gpt-5.5"}
    for name, cost in expected.items():
        assert shown[name] == pytest.approx(cost)

    assert seen["requests_tile"] == "9"
    assert seen["errors_tile"].startswith("2 ")  # the budget refusal and the 401
    assert seen["cache_tile"] == "no lookups"
    budgets = dict(seen["budgets"])
    assert budgets["team:blue"] == "$0.0000"
    assert "virtual_key:codex-dev" in budgets
    assert seen["replays"] == "no replay runs"
    assert len(seen["request_ids"]) == 9
    assert seen["trail_id"] == seen["clicked"]
    assert seen["trail_kinds"] == trail_kinds
    assert trail_kinds[0] == "request.received"
    assert trail_kinds[-1] in ("response.completed", "response.failed")
    assert ADMIN_KEY not in "".join(seen["storage"])  # an HttpOnly session cookie only
    assert seen["failed_requests"] == []
    assert screenshot.stat().st_size > 10_000


async def test_the_dashboard_api_is_guarded_and_checks_its_queries(
    a: FakeProviderServer, b: FakeProviderServer, tmp_path: Path
) -> None:
    async with gateway_with_traffic(a, b, tmp_path) as traffic:
        client = traffic.client
        page = await client.get("/dashboard")
        unauthorised = [await client.get(f"/admin/api/{path}") for path in ("overview", "spend")]
        overview = (await client.get("/admin/api/overview", headers=admin())).json()
        spend = await client.get("/admin/api/spend?by=team&days=7", headers=admin())
        bad = [
            await client.get(f"/admin/api/{query}", headers=admin())
            for query in (
                "spend?by=colour",
                "spend?days=0",
                "requests?limit=9999",
                "traffic?minutes=x",
            )
        ]
        bad.append(
            await client.get(
                "/admin/api/spend?" + "&".join("x=1" for _ in range(9)), headers=admin()
            )
        )
        bad += [
            await client.post("/admin/api/login", content=body)
            for body in (b"not json", b'{"key": 5}', b"[]", b'{"key": "' + b"k" * 5000 + b'"}')
        ]
        missing = await client.get("/admin/api/requests/req_nope/trail", headers=admin())
        recent = (await client.get("/admin/api/requests?limit=3", headers=admin())).json()
        traffic_rows = (await client.get("/admin/api/traffic?minutes=5", headers=admin())).json()
        replays = (await client.get("/admin/api/replays", headers=admin())).json()
        login = await client.post("/admin/api/login", json={"key": ADMIN_KEY})
        cookie = login.headers["set-cookie"]
        by_cookie = await client.get(
            "/admin/api/overview", headers={"cookie": cookie.split(";")[0]}
        )
    assert page.status_code == 200
    assert "content-security-policy" in page.headers
    assert [r.status_code for r in unauthorised] == [401, 401]
    assert overview["requests_total"] == 9
    assert overview["errors_total"] == 2
    assert {(b["level"], b["scope"]) for b in overview["budgets"]} == {
        ("team", "blue"),
        ("virtual_key", "codex-dev"),
    }
    assert spend.status_code == 200
    assert spend.json()["by"] == "team"
    assert [r.status_code for r in bad] == [400] * 9
    assert missing.status_code == 404
    assert len(recent) == 3
    assert recent[0]["started_at"] >= recent[-1]["started_at"]
    assert sum(row["requests"] for row in traffic_rows) == 9
    assert replays == []
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and ADMIN_KEY not in cookie
    assert by_cookie.status_code == 200


async def test_a_database_the_dashboard_cannot_read_is_a_503_not_a_crash() -> None:
    api = DashboardApi("sqlite://", MetricSources(requests=RequestMetrics()))
    try:
        for path in ("requests", "traffic", "spend", "requests/req_x/trail"):
            with pytest.raises(Unreadable, match="cannot be read now"):
                await api.answer(path, "")
        assert (await api.answer("overview", ""))[0] == 200  # memory, not SQL
    finally:
        await api.aclose()


async def test_the_replay_panel_lists_the_replay_runs(
    a: FakeProviderServer, b: FakeProviderServer, tmp_path: Path
) -> None:
    async with gateway_with_traffic(a, b, tmp_path) as traffic:
        (original,) = traffic.trail.rows("SELECT request_id FROM requests WHERE provider = 'b'")
        with sqlite3.connect(traffic.trail.path, timeout=10) as db:
            db.execute(
                "INSERT INTO replay_jobs (run_id, created_at, updated_at, status, config_source,"
                " route, max_cost_usd, concurrency, selection)"
                " VALUES ('rr_1', '2026-12-05 00:00:00', '2026-12-05 00:00:00', 'finished',"
                " 'other.yaml', NULL, 1.5, 2, '{}')"
            )
            db.execute(
                "INSERT INTO replay_items (run_id, position, original_request_id) VALUES (?, 0, ?)",
                ("rr_1", original["request_id"]),
            )
        runs = (await traffic.client.get("/admin/api/replays", headers=admin())).json()
    (run,) = runs
    assert (run["run_id"], run["status"], run["requests"], run["replayed"]) == (
        "rr_1",
        "finished",
        1,
        0,
    )
