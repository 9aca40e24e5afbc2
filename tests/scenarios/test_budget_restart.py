"""SIGKILL the gateway in the middle of load, start it again: every tier's counter is
rebuilt from the SQL trail (a restart never resets spend), and keeps counting from there."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import httpx
import orjson
import pytest
import trio

from fakes import FakeProviderServer, Fault, Reply, Text, Turn
from tests.gateway_rig import ENVIRON, Trail, config_yaml, gateway_process, openai_provider
from tests.scenarios.budget_rig import ALICE_KEY, COST, FIXED_USAGE, alice, body

BUDGETS = """budgets:
  - {level: "customer", id: "acme", limit: 50, period: "total"}
  - {level: "team", id: "red", limit: 50, period: "monthly"}
  - {level: "virtual_key", id: "alice", limit: 50, period: "daily"}
  - {level: "virtual_key", id: "alice", limit: 50, period: "1h"}
  - {level: "provider", id: "fake-openai", limit: 50, period: "weekly"}
"""
TIER_SUMS = {
    "customer": "SELECT SUM(cost_usd) FROM requests WHERE customer = 'acme'",
    "team": "SELECT SUM(cost_usd) FROM requests WHERE team = 'red'",
    "virtual_key": "SELECT SUM(cost_usd) FROM requests WHERE virtual_key = 'alice'",
    "provider": "SELECT SUM(cost_usd) FROM attempts WHERE provider = 'fake-openai'",
}


async def _listening_url(log_path: Path, process: subprocess.Popen[bytes]) -> str:
    with trio.fail_after(30):
        while True:
            for line in log_path.read_text(errors="replace").splitlines():
                if line.startswith("{") and '"gateway listening"' in line:
                    return str(orjson.loads(line)["url"])
            assert process.poll() is None, log_path.read_text()[-3000:]
            await trio.sleep(0.05)


async def _stream(client: httpx.AsyncClient) -> None:
    try:
        async with client.stream(
            "POST", "/v1/responses", json=body(stream=True), headers=alice()
        ) as response:
            async for _ in response.aiter_bytes():
                pass
    except httpx.TransportError:
        pass  # cut by the kill


def _counters(trail: Trail) -> dict[tuple[str, str], tuple[float, float]]:
    rows = trail.rows("SELECT level, period, spent_usd, counted_usd FROM budget_status")
    return {(r["level"], r["period"]): (r["spent_usd"], r["counted_usd"]) for r in rows}


async def _counters_after(
    trail: Trail, written_after: str
) -> dict[tuple[str, str], tuple[float, float]]:
    """budget_status once the restarted accountant has written its counters."""
    await trail.wait_rows(
        "SELECT 1 FROM budget_counters WHERE updated_at > ?", written_after, within_s=15
    )
    return _counters(trail)


async def test_sigkill_mid_load_then_restart_rebuilds_every_tier_from_the_trail(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    fake.fallback = Turn(
        reply=Reply(items=(Text(text="one two three four five"),), usage=FIXED_USAGE),
        fault=Fault(delay_between_events_s=0.02),
    )
    db = tmp_path / "trail.db"
    config_path = tmp_path / "switchyard.yaml"
    text = config_yaml([openai_provider(fake.base_url)], db_path=db, extra_keys=ALICE_KEY)
    config_path.write_text(text + BUDGETS)
    log_path = tmp_path / "gateway.log"
    trail = Trail(db)
    with gateway_process(config_path, ENVIRON, log_path) as first:
        url = await _listening_url(log_path, first)
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            async with trio.open_nursery() as nursery:
                for _ in range(48):
                    nursery.start_soon(_stream, client)
                await trail.wait_rows(
                    "SELECT 1 FROM requests WHERE status = 'completed'", at_least=8, within_s=20
                )
                first.send_signal(signal.SIGKILL)
                first.wait()
    assert first.returncode == -signal.SIGKILL
    completed = len(trail.rows("SELECT 1 FROM requests WHERE status = 'completed'"))
    cut = trail.rows("SELECT 1 FROM requests WHERE status = 'in_progress'")
    assert completed >= 8 and cut, "the kill should land with requests in flight"
    [[restarted_at]] = trail.rows("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")
    second_log = tmp_path / "gateway-restarted.log"
    with gateway_process(config_path, ENVIRON, second_log) as second:
        url = await _listening_url(second_log, second)
        rebuilt = await _counters_after(trail, restarted_at)
        sums = {level: trail.rows(sql)[0][0] for level, sql in TIER_SUMS.items()}
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            for n in range(2):
                response = await client.post(
                    "/v1/responses", json=body(f"after {n}"), headers=alice()
                )
                assert response.status_code == 200
        [[later]] = trail.rows("SELECT MAX(updated_at) FROM budget_counters")
        after = await _counters_after(trail, later)
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    assert len(rebuilt) == len(BUDGETS.splitlines()) - 1
    assert sums["virtual_key"] == pytest.approx(completed * COST)
    for (level, period), (trail_sum, counted) in rebuilt.items():
        assert counted == pytest.approx(sums[level], rel=1e-9), (level, period)
        assert trail_sum == pytest.approx(counted, rel=1e-9), (level, period)
    for key, (trail_sum, counted) in after.items():
        assert counted == pytest.approx(rebuilt[key][1] + 2 * COST, rel=1e-9), key
        assert trail_sum == pytest.approx(counted, rel=1e-9), key
