"""Reloading the config of a running gateway: on a file change and on SIGHUP; requests in
flight keep the config they started with; a bad file keeps the config in force and the
log says why; a reload under load drops no request."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import trio
from structlog.testing import capture_logs

from actors.system import GatewayHandle, run_gateway
from config import load_config
from config.model import GatewayConfig
from fakes import FakeProviderServer, Fault, Turn, open_fake_provider
from tests.gateway_rig import ENVIRON, VIRTUAL_KEY, Trail, auth, config_yaml, gateway_process
from tests.scenarios.failover_rig import CHAT, RESPONSES_STREAM, sse_events, upstream

SECOND_VIRTUAL_KEY = "sk-sy-test-virtual-key-0009"
MORE_KEYS = """\
  - id: "second"
    key: "${TEST_VIRTUAL_KEY_2}"
    account: "dev"
"""


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {**ENVIRON, "TEST_VIRTUAL_KEY_2": SECOND_VIRTUAL_KEY}.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
async def a(nursery: trio.Nursery) -> FakeProviderServer:
    return await open_fake_provider(nursery)


@pytest.fixture
async def b(nursery: trio.Nursery) -> FakeProviderServer:
    return await open_fake_provider(nursery)


def _write(path: Path, providers: list[dict[str, Any]], *, extra: str = "") -> None:
    path.write_text(config_yaml(providers, db_path=path.parent / "trail.db", extra_keys=extra))


@asynccontextmanager
async def _reloading_gateway(path: Path) -> AsyncIterator[GatewayHandle]:
    config = load_config(path)
    async with trio.open_nursery() as nursery:
        handle: GatewayHandle = await nursery.start(
            lambda task_status: run_gateway(
                config, port=0, config_path=path, reload_poll_s=0.05, task_status=task_status
            )
        )
        try:
            yield handle
        finally:
            handle.stop()


async def _wait_for_new_config(handle: GatewayHandle, old: GatewayConfig) -> GatewayConfig:
    with trio.fail_after(5):
        while handle.config is old:
            await trio.sleep(0.01)
    return handle.config


async def test_a_changed_file_takes_effect_for_new_requests(
    a: FakeProviderServer, b: FakeProviderServer, tmp_path: Path
) -> None:
    path = tmp_path / "switchyard.yaml"
    _write(path, [upstream(a, "a")])
    async with _reloading_gateway(path) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10) as client:
            before = await client.post("/v1/chat/completions", json=CHAT, headers=auth())
            assert before.headers["x-switchyard-provider"] == "a"
            second_key = auth(SECOND_VIRTUAL_KEY)
            assert (
                await client.post("/v1/chat/completions", json=CHAT, headers=second_key)
            ).status_code == 401

            old = gateway.config
            _write(path, [upstream(b, "b")], extra=MORE_KEYS)
            await _wait_for_new_config(gateway, old)
            after = await client.post("/v1/chat/completions", json=CHAT, headers=second_key)
    assert after.status_code == 200
    assert after.headers["x-switchyard-provider"] == "b"
    assert (len(a.requests), len(b.requests)) == (1, 1)


async def test_requests_in_flight_keep_the_config_they_started_with(
    a: FakeProviderServer, b: FakeProviderServer, tmp_path: Path
) -> None:
    a.fallback = Turn(fault=Fault(delay_between_events_s=0.05))
    path = tmp_path / "switchyard.yaml"
    _write(path, [upstream(a, "a")])
    answers: list[httpx.Response] = []
    async with _reloading_gateway(path) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10) as client:

            async def stream() -> None:
                answers.append(
                    await client.post("/v1/responses", json=RESPONSES_STREAM, headers=auth())
                )

            async with trio.open_nursery() as nursery:
                nursery.start_soon(stream)
                await a.wait_requests(1)
                old = gateway.config
                _write(path, [upstream(b, "b")])  # provider "a" is gone from the config
                await _wait_for_new_config(gateway, old)
                fresh = await client.post("/v1/chat/completions", json=CHAT, headers=auth())
                assert fresh.headers["x-switchyard-provider"] == "b"
    (in_flight,) = answers
    assert in_flight.status_code == 200
    assert in_flight.headers["x-switchyard-provider"] == "a"
    assert sse_events(in_flight)[-1]["type"] == "response.completed"


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        (
            "accounts:\n  - id: 'dev'\n    providerz: []\n",
            "switchyard.yaml:3: accounts[0]: unknown key",
        ),
        ("accounts: [\n", "switchyard.yaml:2: invalid YAML"),
        (
            "accounts:\n  - id: 'dev'\n    providers:\n"
            "      - {id: x, type: openai, api_key: '${NOPE}', model: m}\n",
            "switchyard.yaml:4: accounts[0].providers[0].api_key",
        ),
    ],
    ids=["unknown-key", "bad-yaml", "missing-env"],
)
async def test_a_bad_file_keeps_the_config_in_force_and_logs_why(
    a: FakeProviderServer, tmp_path: Path, broken: str, problem: str
) -> None:
    path = tmp_path / "switchyard.yaml"
    _write(path, [upstream(a, "a")])
    with capture_logs() as logs:
        async with _reloading_gateway(path) as gateway:
            kept = gateway.config
            path.write_text(broken)
            with trio.fail_after(5):
                while not any(e["event"].startswith("config reload failed") for e in logs):
                    await trio.sleep(0.01)
            async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10) as client:
                still = await client.post("/v1/chat/completions", json=CHAT, headers=auth())
            assert gateway.config is kept
            _write(path, [upstream(a, "a", weight=2)])  # fixed: the next change applies
            fixed = await _wait_for_new_config(gateway, kept)
    assert still.status_code == 200
    assert fixed.accounts[0].providers[0].weight == 2
    failure = next(e for e in logs if e["event"].startswith("config reload failed"))
    assert problem in failure["problem"]
    assert failure["log_level"] == "error"


async def test_a_reload_under_load_drops_no_request(
    a: FakeProviderServer, b: FakeProviderServer, tmp_path: Path
) -> None:
    for fake in (a, b):
        fake.fallback = Turn(fault=Fault(delay_between_events_s=0.002))
    layouts = [
        [upstream(a, "a")],
        [upstream(b, "b")],
        [upstream(a, "a", weight=3), upstream(b, "b")],
        [upstream(b, "b", weight=3), upstream(a, "a", retry={"max_retries": 1})],
    ]
    path = tmp_path / "switchyard.yaml"
    _write(path, layouts[0])
    clients, per_client, reloads = 16, 20, 6
    statuses: list[tuple[int, str, bool]] = []
    answered_at_reload: list[int] = []  # the reloads happen while the load runs
    async with _reloading_gateway(path) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as client:

            async def one_client(number: int) -> None:
                for turn in range(per_client):
                    streaming = (number + turn) % 2 == 0
                    body = RESPONSES_STREAM if streaming else {**RESPONSES_STREAM, "stream": False}
                    response = await client.post("/v1/responses", json=body, headers=auth())
                    done = (
                        sse_events(response)[-1]["type"] == "response.completed"
                        if streaming
                        else response.json()["status"] == "completed"
                    )
                    statuses.append(
                        (response.status_code, response.headers["x-switchyard-provider"], done)
                    )

            with trio.fail_after(60):
                async with trio.open_nursery() as nursery:
                    for number in range(clients):
                        nursery.start_soon(one_client, number)
                    for reload in range(1, reloads + 1):
                        await trio.sleep(0.1)
                        old = gateway.config
                        _write(path, layouts[reload % len(layouts)])
                        await _wait_for_new_config(gateway, old)
                        answered_at_reload.append(len(statuses))
    assert answered_at_reload[0] > 0 and answered_at_reload[-1] < clients * per_client
    assert len(statuses) == clients * per_client
    assert all(status == 200 and done for status, _, done in statuses), statuses
    assert {provider for _, provider, _ in statuses} == {"a", "b"}
    trail = Trail(tmp_path / "trail.db")  # the gateway has stopped: its drain wrote it all
    assert len(trail.rows("SELECT 1 FROM requests WHERE status = 'completed'")) == len(statuses)
    assert trail.rows("SELECT count(*) AS n FROM requests WHERE status != 'completed'")[0]["n"] == 0


async def _log_line(log_path: Path, wanted: str, **fields: str) -> dict[str, Any]:
    with trio.fail_after(30):
        while True:
            for line in log_path.read_text(errors="replace").splitlines():
                if line.startswith("{") and f'"{wanted}"' in line:
                    record: dict[str, Any] = orjson.loads(line)
                    if all(record.get(k) == v for k, v in fields.items()):
                        return record
            await trio.sleep(0.05)


async def test_sighup_reloads_the_running_gateway(a: FakeProviderServer, tmp_path: Path) -> None:
    path = tmp_path / "switchyard.yaml"
    _write(path, [upstream(a, "a")])
    log_path = tmp_path / "gateway.log"
    env = {**ENVIRON, "TEST_VIRTUAL_KEY_2": SECOND_VIRTUAL_KEY}
    with gateway_process(path, env, log_path) as process:
        url = (await _log_line(log_path, "gateway listening"))["url"]
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            second_key = auth(SECOND_VIRTUAL_KEY)
            assert (
                await client.post("/v1/chat/completions", json=CHAT, headers=second_key)
            ).status_code == 401
            _write(path, [upstream(a, "a")], extra=MORE_KEYS)
            process.send_signal(signal.SIGHUP)
            await _log_line(log_path, "config reloaded", why="SIGHUP")
            response = await client.post("/v1/chat/completions", json=CHAT, headers=second_key)
            assert response.status_code == 200
            process.send_signal(signal.SIGTERM)
        with trio.fail_after(20):
            while process.poll() is None:
                await trio.sleep(0.05)
    assert process.returncode == 0
    assert VIRTUAL_KEY not in log_path.read_text()


async def test_settings_fixed_at_start_are_named_in_the_log(
    a: FakeProviderServer, tmp_path: Path
) -> None:
    path = tmp_path / "switchyard.yaml"
    _write(path, [upstream(a, "a")])
    with capture_logs() as logs:
        async with _reloading_gateway(path) as gateway:
            old = gateway.config
            path.write_text(
                path.read_text().replace("max_body_bytes: 1000000", "max_body_bytes: 5")
            )
            new = await _wait_for_new_config(gateway, old)
            async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10) as client:
                response = await client.post("/v1/chat/completions", json=CHAT, headers=auth())
    assert new.server.max_body_bytes == 5
    assert response.status_code == 200  # the running server keeps its body limit
    (warning,) = [e for e in logs if "restart" in e["event"]]
    assert warning["fixed"] == ("server.max_body_bytes",)
