"""Shutdown and crashes under load, on both endpoints, streamed and not.

- SIGTERM: every answered request has its full trail and its spend, and the budget
  counters the gateway wrote last equal the trail's sums.
- The drain runs out: requests cut by the shutdown still end their trail, with the
  usage they had, so what they cost is metered.
- SIGKILL: what is lost is at most what was in flight at the kill (the events queued
  for the writer plus the batch being written; the figure is printed), never a part of a
  batch; after a restart every budget's counter is rebuilt from the trail and equals it.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import trio

from actors import audit, system
from fakes import FakeProviderServer, Fault, Turn
from tests.gateway_rig import (
    ENVIRON,
    Trail,
    auth,
    config_yaml,
    gateway_process,
    make_config,
    openai_provider,
    running_gateway,
)
from tests.scenarios.db_fault_rig import (
    COMPLETED_KINDS,
    Load,
    assert_full_trails,
    matrix,
    sqlite_checks,
)
from tests.scenarios.translation_rig import provider_for

# httpx leaves the request body's async generator to the GC when the connection is cut
# mid-request (the shutdown, the kill): a client-side artifact, not the gateway's.
CUT_CLIENTS = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

BUDGET = """budgets:
  - {level: "virtual_key", id: "codex-dev", limit: 100000, period: "total"}
"""


async def _listening_url(log_path: Path, process: subprocess.Popen[bytes]) -> str:
    with trio.fail_after(30):
        while True:
            for line in log_path.read_text(errors="replace").splitlines():
                if line.startswith("{") and '"gateway listening"' in line:
                    return str(orjson.loads(line)["url"])
            assert process.poll() is None, log_path.read_text()[-3000:]
            await trio.sleep(0.05)


ADMIN_KEY = "sy-admin-crash-and-drain-0123456789"


def _write_config(tmp_path: Path, fake: FakeProviderServer) -> tuple[Path, Path]:
    db = tmp_path / "trail.db"
    config_path = tmp_path / "switchyard.yaml"
    text = config_yaml([openai_provider(fake.base_url)], db_path=db) + BUDGET
    config_path.write_text(text.replace("server:\n", f"server:\n  admin_key: {ADMIN_KEY}\n", 1))
    return db, config_path


def _spend(trail: Trail) -> tuple[float, float]:
    """(the trail's sum for the key's budget, the accountant's counter) from budget_status."""
    [row] = trail.rows("SELECT spent_usd, counted_usd FROM budget_status")
    return row["spent_usd"], row["counted_usd"]


@CUT_CLIENTS
async def test_sigterm_under_load_every_answer_has_its_trail_and_spend(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    fake.fallback = Turn(fault=Fault(delay_between_events_s=0.01))
    db, config_path = _write_config(tmp_path, fake)
    log_path = tmp_path / "gateway.log"
    with gateway_process(config_path, ENVIRON, log_path) as process:
        url = await _listening_url(log_path, process)
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            load = Load(client, clients=12)
            async with trio.open_nursery() as nursery:
                nursery.start_soon(load.run)
                await trio.sleep(1.5)
                load.phase = "sigterm"
                process.send_signal(signal.SIGTERM)
                with trio.fail_after(40):
                    while process.poll() is None:
                        await trio.sleep(0.05)
                load.stop()
        assert process.returncode == 0, log_path.read_text()[-3000:]
    print("\n".join([f"SIGTERM ({load.transport_errors} refused)", *matrix(load.answers)]))
    trail = Trail(db)
    answered = [a for a in load.answers if a.request_id is not None]
    assert_full_trails(answered, *sqlite_checks(trail))
    assert not trail.rows("SELECT 1 FROM requests WHERE status = 'in_progress'")
    spent, counted = await _restarted_spend(trail, config_path, tmp_path / "restart.log")
    assert spent > 0
    assert counted == pytest.approx(spent, rel=1e-9)


async def _restarted_spend(trail: Trail, config_path: Path, log_path: Path) -> tuple[float, float]:
    """Start the gateway again: its rebuilt counter (as written once it runs) and the
    trail's sum, from ``budget_status``."""
    [[restarted_at]] = trail.rows("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")
    with gateway_process(config_path, ENVIRON, log_path) as process:
        await _listening_url(log_path, process)
        await trail.wait_rows(
            "SELECT 1 FROM budget_counters WHERE updated_at > ?", restarted_at, within_s=15
        )
        spend = _spend(trail)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    return spend


@CUT_CLIENTS
async def test_requests_cut_by_the_end_of_the_drain_still_record_their_usage(
    fake: FakeProviderServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(system, "DRAIN_TIMEOUT_S", 0.5)
    fake.fallback = Turn(fault=Fault(delay_between_events_s=0.5))  # streams outlive the drain
    db = tmp_path / "trail.db"
    # Anthropic states the input usage in its first event: a cut stream has usage to meter
    anthropic = provider_for("anthropic", fake)
    config = make_config(config_yaml([anthropic], db_path=db) + BUDGET)
    request_ids: list[str] = []

    async def one(client: httpx.AsyncClient, endpoint: str, stream: bool) -> None:
        body: dict[str, Any] = {"model": "gpt-5.5", "stream": stream}
        if endpoint == "/v1/responses":
            body["input"] = "tell me something"
        else:
            body["messages"] = [{"role": "user", "content": "tell me something"}]
        try:
            async with client.stream("POST", endpoint, json=body, headers=auth()) as response:
                request_ids.append(response.headers["x-request-id"])
                async for _ in response.aiter_bytes():
                    pass
        except httpx.HTTPError:
            pass  # cut by the shutdown

    async with running_gateway(config) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as client:
            async with trio.open_nursery() as nursery:
                for endpoint in ("/v1/responses", "/v1/chat/completions"):
                    for _ in range(3):
                        nursery.start_soon(one, client, endpoint, True)
                await fake.wait_requests(6)
                with trio.fail_after(10):
                    while len(request_ids) < 6:
                        await trio.sleep(0.02)
                gateway.stop()
    trail = Trail(db)
    for request_id in request_ids:
        kinds = [k for _, k in sqlite_checks(trail)[0](request_id)]
        assert kinds[-2:] == ["attempt.finished", "response.failed"], (request_id, kinds)
        [row] = trail.rows("SELECT * FROM requests WHERE request_id = ?", request_id)
        assert row["status"] == "failed" and row["error_kind"] == "shed", dict(row)
        assert row["input_tokens"] > 0 and row["cost_usd"] > 0, dict(row)
    assert not trail.rows("SELECT 1 FROM requests WHERE status = 'in_progress'")


def _lost_events(trail: Trail, load: Load) -> tuple[int, int]:
    """(answered requests whose trail is short, the events they miss)."""
    requests = events = 0
    for answer in load.answers:
        if not answer.complete or answer.request_id is None:
            continue
        stored = len(sqlite_checks(trail)[0](answer.request_id))
        if stored < len(COMPLETED_KINDS):
            requests += 1
            events += len(COMPLETED_KINDS) - stored
    return requests, events


@CUT_CLIENTS
async def test_sigkill_under_load_loses_only_what_was_in_flight_and_spend_rebuilds(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    fake.fallback = Turn(fault=Fault(delay_between_events_s=0.01))
    db, config_path = _write_config(tmp_path, fake)
    log_path = tmp_path / "gateway.log"
    with gateway_process(config_path, ENVIRON, log_path) as process:
        url = await _listening_url(log_path, process)
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            load = Load(client, clients=12)
            async with trio.open_nursery() as nursery:
                nursery.start_soon(load.run)
                await trio.sleep(1.5)
                admin = {"authorization": f"Bearer {ADMIN_KEY}"}
                health = (await client.get("/healthz", headers=admin)).json()["audit"]
                process.send_signal(signal.SIGKILL)
                process.wait()
                load.stop()
    assert process.returncode == -signal.SIGKILL
    trail = Trail(db)
    # batches are atomic: no request has a hole in its trail, only a missing tail
    assert not trail.rows(
        "SELECT request_id FROM events GROUP BY request_id HAVING MAX(seq) != COUNT(*)"
    )
    short_requests, short_events = _lost_events(trail, load)
    answered = sum(1 for a in load.answers if a.complete)
    print(
        f"\nSIGKILL: {answered} answered; writer backlog just before the kill "
        f"{health['pending']} events; answered requests with a short trail "
        f"{short_requests} ({short_events} events)"
    )
    assert short_events <= system.AUDIT_INBOX + audit.SPOOL_MAX
    spent, counted = await _restarted_spend(trail, config_path, tmp_path / "restart.log")
    assert spent > 0
    assert counted == pytest.approx(spent, rel=1e-9)


@CUT_CLIENTS
async def test_a_request_cut_while_waiting_to_retry_still_ends_its_trail(
    fake: FakeProviderServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The drain runs out while a request waits out a provider's Retry-After between two
    attempts: no attempt is running to record the end, so the worker does."""
    monkeypatch.setattr(system, "DRAIN_TIMEOUT_S", 0.5)
    fake.fallback = Turn(fault=Fault(status=429, retry_after="5"))
    db = tmp_path / "trail.db"
    provider = openai_provider(fake.base_url, retry={"max_retries": 2})
    config = make_config(config_yaml([provider], db_path=db) + BUDGET)

    async def one(client: httpx.AsyncClient, endpoint: str) -> None:
        body: dict[str, Any] = {"model": "gpt-5.5", "input": "hi"}
        if endpoint == "/v1/chat/completions":
            body = {"model": "gpt-5.5", "messages": [{"role": "user", "content": "hi"}]}
        with contextlib.suppress(httpx.HTTPError):  # cut by the shutdown
            await client.post(endpoint, json=body, headers=auth())

    async with running_gateway(config) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as client:
            async with trio.open_nursery() as nursery:
                for endpoint in ("/v1/responses", "/v1/chat/completions"):
                    nursery.start_soon(one, client, endpoint)
                await fake.wait_requests(2)
                await trio.sleep(0.2)  # both attempts ended: each request waits to retry
                gateway.stop()
    trail = Trail(db)
    rows = trail.rows("SELECT * FROM requests")
    assert len(rows) == 2
    for row in rows:
        kinds = [k for _, k in sqlite_checks(trail)[0](row["request_id"])]
        assert kinds[-2:] == ["attempt.finished", "response.failed"], kinds
        assert kinds.count("response.failed") == 1, kinds
        assert row["status"] == "failed" and row["error_kind"] == "shed", dict(row)
    assert not trail.rows("SELECT 1 FROM requests WHERE status = 'in_progress'")
