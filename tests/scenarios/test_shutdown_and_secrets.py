"""SIGTERM under load leaves a complete trail for every answered request, and no secret
reaches the database or the logs."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import httpx
import orjson
import pytest
import trio

from fakes import FakeProviderServer, Fault, Turn
from tests.gateway_rig import (
    ENVIRON,
    PROVIDER_KEY,
    VIRTUAL_KEY,
    Trail,
    auth,
    config_yaml,
    gateway_process,
    openai_provider,
)
from tests.scenarios.conftest import Rig

WRONG_KEY = "sk-wrong-but-secret-looking-0003"


async def _listening_url(log_path: Path, process: subprocess.Popen[bytes]) -> str:
    with trio.fail_after(30):
        while True:
            for line in log_path.read_text(errors="replace").splitlines():
                if line.startswith("{") and '"gateway listening"' in line:
                    return str(orjson.loads(line)["url"])
            assert process.poll() is None, log_path.read_text()
            await trio.sleep(0.05)


async def _one_stream(client: httpx.AsyncClient, answered: dict[str, str]) -> None:
    body = {"model": "gpt-5.5", "input": "tell me something", "stream": True}
    try:
        async with client.stream("POST", "/v1/responses", json=body, headers=auth()) as response:
            text = "".join([chunk async for chunk in response.aiter_text()])
            answered[response.headers["x-request-id"]] = text
    except httpx.TransportError:
        pass  # refused or cut by the shutdown: no answer, nothing to check


async def test_sigterm_under_load_keeps_every_answered_trail(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    fake.fallback = Turn(fault=Fault(delay_between_events_s=0.03))
    db = tmp_path / "trail.db"
    config_path = tmp_path / "switchyard.yaml"
    config_path.write_text(config_yaml([openai_provider(fake.base_url)], db_path=db))
    log_path = tmp_path / "gateway.log"
    with gateway_process(config_path, ENVIRON, log_path) as process:
        url = await _listening_url(log_path, process)
        answered: dict[str, str] = {}
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            async with trio.open_nursery() as nursery:
                for _ in range(40):
                    nursery.start_soon(_one_stream, client, answered)
                await fake.wait_requests(20)
                process.send_signal(signal.SIGTERM)
        with trio.fail_after(40):
            while process.poll() is None:
                await trio.sleep(0.05)
        assert process.returncode == 0, log_path.read_text()[-3000:]
    assert len(answered) >= 20
    trail = Trail(db)
    for request_id, text in answered.items():
        kinds = trail.kinds(request_id)
        assert kinds[0] == "request.received", (request_id, kinds)
        assert kinds[-1] in {"response.completed", "response.failed"}, (request_id, kinds)
        if '"response.completed"' in text:
            assert kinds[-1] == "response.completed"
    logs = log_path.read_bytes()
    assert b"request.finished" in logs
    _assert_no_secret(logs, db)


def _assert_no_secret(logs: bytes, db: Path) -> None:
    stored = b"".join(path.read_bytes() for path in db.parent.glob(db.name + "*"))
    for secret in (PROVIDER_KEY, VIRTUAL_KEY, WRONG_KEY):
        assert secret.encode() not in stored, f"{secret} leaked into the database"
        assert secret.encode() not in logs, f"{secret} leaked into the logs"


async def test_no_secret_in_database_or_logs(rig: Rig, capsys: pytest.CaptureFixture[str]) -> None:
    chat = {"model": "gpt-5.5", "messages": [{"role": "user", "content": "hi"}]}
    assert (
        await rig.client.post("/v1/chat/completions", json=chat, headers=auth())
    ).status_code == 200
    wrong = {"authorization": f"Bearer {WRONG_KEY}"}
    assert (
        await rig.client.post("/v1/chat/completions", json=chat, headers=wrong)
    ).status_code == 401
    rig.fake.enqueue(Fault(status=401, error_message="Incorrect API key provided"))
    failed = await rig.client.post("/v1/chat/completions", json=chat, headers=auth())
    assert failed.status_code == 502
    assert PROVIDER_KEY not in failed.text
    await rig.trail.wait_rows("SELECT 1 FROM requests WHERE status != 'in_progress'", at_least=3)
    captured = capsys.readouterr()
    _assert_no_secret((captured.out + captured.err).encode(), rig.trail.path)
