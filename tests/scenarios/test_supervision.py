"""A bug met while serving one request fails that request alone (OpenAI-shaped 500
naming the request id, a failed trail, a logged traceback with the request id) and
never spends the supervisor's restart budget; a bug in an actor's own state still
crashes it loudly and its supervisor restarts it."""

from __future__ import annotations

import pytest
import trio

from actors import request_faults
from actors.health import HealthReport
from actors.provider_worker import ProviderWorker
from actors.router import Router
from actors.supervisor import MAX_RESTARTS
from routing.commands import AttemptReport, RouteRequest
from tests.gateway_rig import admin_auth, auth
from tests.scenarios.conftest import Rig

CHAT = {"messages": [{"role": "user", "content": "hi"}]}


async def _failed_kind(rig: Rig, request_id: str) -> str:
    rows = await rig.trail.wait_rows(
        "SELECT error_kind FROM requests WHERE request_id = ? AND status = 'failed'", request_id
    )
    return str(rows[0]["error_kind"])


async def test_a_router_bug_fails_only_its_request_and_the_router_goes_on(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    original = Router._route

    def crash_on_marker(self: Router, message: RouteRequest) -> None:
        if message.request.model == "crash-router":
            raise RuntimeError("planted router bug")
        original(self, message)

    monkeypatch.setattr(Router, "_route", crash_on_marker)
    # more than the supervisor's restart budget: a per-request bug never spends it
    for _ in range(MAX_RESTARTS + 3):
        crashed = await rig.client.post(
            "/v1/chat/completions", json={**CHAT, "model": "crash-router"}, headers=auth()
        )
        assert crashed.status_code == 500
        request_id = crashed.headers["x-request-id"]
        assert request_id in crashed.json()["error"]["message"]
        assert crashed.json()["error"]["type"] == "server_error"
        assert await _failed_kind(rig, request_id) == "internal"
    fine = await rig.client.post(
        "/v1/chat/completions", json={**CHAT, "model": "gpt-5.5"}, headers=auth()
    )
    assert fine.status_code == 200
    output = capsys.readouterr().out
    assert "actor crashed" not in output
    assert "planted router bug" in output  # the traceback is logged
    failures = [line for line in output.splitlines() if "request failed: internal error" in line]
    assert any(request_id in line for line in failures)  # with the request id


async def test_a_worker_bug_fails_only_its_request(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    original = ProviderWorker._serve

    async def crash_on_marker(self: ProviderWorker, job, progress):  # type: ignore[no-untyped-def]
        if job.request.model == "crash-worker":
            raise RuntimeError("planted worker bug")
        await original(self, job, progress)

    monkeypatch.setattr(ProviderWorker, "_serve", crash_on_marker)
    for _ in range(MAX_RESTARTS + 3):
        crashed = await rig.client.post(
            "/v1/chat/completions", json={**CHAT, "model": "crash-worker"}, headers=auth()
        )
        assert crashed.status_code == 500
        request_id = crashed.headers.get("x-request-id") or ""
        assert request_id in crashed.json()["error"]["message"]
        assert await _failed_kind(rig, request_id) == "internal"
    fine = await rig.client.post(
        "/v1/chat/completions", json={**CHAT, "model": "gpt-5.5"}, headers=auth()
    )
    assert fine.status_code == 200
    output = capsys.readouterr().out
    assert "planted worker bug" in output
    assert "actor crashed" not in output


async def test_an_actor_level_failure_is_still_restarted_by_its_supervisor(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug in the router's own state keeping (an attempt report) is not any one
    request's: the router crashes loudly and its supervisor restarts it."""
    original = Router._record
    planted = [True]

    def crash_once(self: Router, report: AttemptReport) -> None:
        if planted.pop() if planted else False:
            raise RuntimeError("planted router state bug")
        original(self, report)

    monkeypatch.setattr(Router, "_record", crash_once)
    first = await rig.client.post(
        "/v1/chat/completions", json={**CHAT, "model": "gpt-5.5"}, headers=auth()
    )
    assert first.status_code == 200  # the report comes after the answer
    with trio.fail_after(5):
        while "actor crashed" not in (output := capsys.readouterr().out):
            await trio.sleep(0.05)
    assert "planted router state bug" in output
    again = await rig.client.post(
        "/v1/chat/completions", json={**CHAT, "model": "gpt-5.5"}, headers=auth()
    )
    assert again.status_code == 200


async def test_a_bug_in_the_request_parser_fails_only_its_request(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_parse = request_faults.parse_request

    def parse(raw: bytes, *args: object) -> object:
        if b"crash-parser" in raw:
            raise RuntimeError("planted parser bug")
        return real_parse(raw, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(request_faults, "parse_request", parse)
    crashed = await rig.client.post(
        "/v1/responses", json={"model": "crash-parser", "input": "hi"}, headers=auth()
    )
    assert crashed.status_code == 500
    request_id = crashed.headers["x-request-id"]
    assert request_id in crashed.json()["error"]["message"]
    assert await _failed_kind(rig, request_id) == "internal"
    assert rig.trail.kinds(request_id) == ["request.received", "response.failed"]
    fine = await rig.client.post(
        "/v1/responses", json={"model": "gpt-5.5", "input": "hi"}, headers=auth()
    )
    assert fine.status_code == 200
    output = capsys.readouterr().out
    assert "planted parser bug" in output
    assert any(request_id in line for line in output.splitlines() if "internal error" in line)


async def test_a_handler_failure_outside_a_request_boundary_is_logged(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(self: HealthReport) -> bytes:
        raise RuntimeError("planted health bug")

    monkeypatch.setattr(HealthReport, "render", broken)
    response = await rig.client.get("/healthz", headers=admin_auth())
    assert response.status_code == 500
    output = capsys.readouterr().out
    assert "request handler failed" in output
    assert "planted health bug" in output  # with its traceback
    fine = await rig.client.post(
        "/v1/chat/completions", json={**CHAT, "model": "gpt-5.5"}, headers=auth()
    )
    assert fine.status_code == 200
