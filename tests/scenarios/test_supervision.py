"""A bug in an actor crashes it loudly; its supervisor restarts it; the request it held
fails cleanly (OpenAI-shaped 500, a failed trail) and the next request is served."""

from __future__ import annotations

import pytest
import trio

from actors.provider_worker import ProviderWorker
from actors.router import Router
from messages.commands import RouteRequest
from tests.gateway_rig import auth
from tests.scenarios.conftest import Rig

CHAT = {"messages": [{"role": "user", "content": "hi"}]}


async def _failed_kind(rig: Rig, request_id: str) -> str:
    with trio.fail_after(5):
        while not (
            rows := rig.trail.rows(
                "SELECT error_kind FROM requests WHERE request_id = ? AND status = 'failed'",
                request_id,
            )
        ):
            await trio.sleep(0.01)
    return str(rows[0]["error_kind"])


async def test_a_router_crash_is_restarted_and_fails_only_its_request(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    original = Router._route

    def crash_on_marker(self: Router, message: RouteRequest) -> None:
        if message.request.model == "crash-router":
            raise RuntimeError("planted router bug")
        original(self, message)

    monkeypatch.setattr(Router, "_route", crash_on_marker)
    crashed = await rig.client.post(
        "/v1/chat/completions", json={**CHAT, "model": "crash-router"}, headers=auth()
    )
    assert crashed.status_code == 500
    assert crashed.json()["error"]["type"] == "server_error"
    assert await _failed_kind(rig, crashed.headers["x-request-id"]) == "internal"
    fine = await rig.client.post(
        "/v1/chat/completions", json={**CHAT, "model": "gpt-5.5"}, headers=auth()
    )
    assert fine.status_code == 200
    output = capsys.readouterr().out
    assert "actor crashed" in output
    assert "planted router bug" in output  # the traceback is logged


async def test_a_worker_crash_is_restarted_and_fails_only_its_request(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    original = ProviderWorker._serve

    async def crash_on_marker(self: ProviderWorker, job):  # type: ignore[no-untyped-def]
        if job.request.model == "crash-worker":
            try:
                raise RuntimeError("planted worker bug")
            finally:
                job.reply_to.close()
        await original(self, job)

    monkeypatch.setattr(ProviderWorker, "_serve", crash_on_marker)
    crashed = await rig.client.post(
        "/v1/chat/completions", json={**CHAT, "model": "crash-worker"}, headers=auth()
    )
    assert crashed.status_code == 500
    assert await _failed_kind(rig, crashed.headers.get("x-request-id") or "") == "internal"
    fine = await rig.client.post(
        "/v1/chat/completions", json={**CHAT, "model": "gpt-5.5"}, headers=auth()
    )
    assert fine.status_code == 200
    assert "planted worker bug" in capsys.readouterr().out
