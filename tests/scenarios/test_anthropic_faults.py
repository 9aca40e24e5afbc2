"""Our own bug, met while serving a Messages-API request, fails that request alone, in
Anthropic's shape: a 500 ``api_error`` naming the request id before the answer began,
``event: error`` after; the trail says ``internal``. (The issue-10 fault matrix, for the
Anthropic endpoint.)"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson
import pytest
import trio

import actors.ingress
import actors.provider_worker
from fakes import Fault, Reply, Text, Turn
from http11.server import ResponseWriter
from messages.commands import ClientRequest
from providers.exchanges.protocol import Exchange
from tests.gateway_rig import VIRTUAL_KEY
from tests.scenarios.conftest import Rig
from tests.scenarios.test_fault_matrix import _PlantedExchange, _PlantedWriter

KEY = {"x-api-key": VIRTUAL_KEY}


def _plant(monkeypatch: pytest.MonkeyPatch) -> None:
    real_open: Callable[..., Exchange] = actors.provider_worker.open_exchange

    def open_exchange(client_format: Any, body: Mapping[str, Any], **kwargs: Any) -> Exchange:
        if body.get("model") == "plant-worker-before":
            raise RuntimeError("planted exchange bug")
        exchange = real_open(client_format, body, **kwargs)
        return _PlantedExchange(exchange) if body.get("model") == "plant-worker-mid" else exchange

    monkeypatch.setattr(actors.provider_worker, "open_exchange", open_exchange)
    real_relay = actors.ingress.relay

    async def relay(receive: Any, writer: ResponseWriter, message: ClientRequest) -> None:
        if message.model == "plant-handler-mid":
            writer = _PlantedWriter(writer)  # type: ignore[assignment]
        await real_relay(receive, writer, message)

    monkeypatch.setattr(actors.ingress, "relay", relay)


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("fault", ["worker-before", "worker-mid", "handler-mid"])
async def test_our_bug_fails_one_request_in_anthropics_shape(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, fault: str, stream: bool
) -> None:
    _plant(monkeypatch)
    # a paced answer, as in the fault matrix: the worker is still streaming when the
    # ingress fails, so the failure is the ingress's to record
    paced = Reply(items=(Text(text="one two three four five six"),))
    rig.fake.enqueue(Turn(reply=paced, fault=Fault(delay_between_events_s=0.05)))
    body = {
        "model": "plant-" + fault,
        "max_tokens": 50,
        "stream": stream,
        "messages": [{"role": "user", "content": "hi"}],
    }
    response = await rig.client.post("/v1/messages", json=body, headers=KEY)
    request_id = response.headers["x-request-id"]
    began = stream and fault.endswith("mid")
    if began:
        assert response.status_code == 200
        assert response.text.startswith("event: message_start")
        last = response.text.rstrip().split("\n\n")[-1]
        assert last.startswith("event: error\ndata: "), response.text[-500:]
        error = orjson.loads(last.split("data: ", 1)[1])
    else:
        assert response.status_code == 500, response.text
        error = response.json()
    assert error["type"] == "error" and error["error"]["type"] == "api_error"
    assert request_id in error["error"]["message"]
    with trio.fail_after(5):
        while not (
            rows := rig.trail.rows(
                "SELECT error_kind, client_format FROM requests"
                " WHERE request_id = ? AND status = 'failed'",
                request_id,
            )
        ):
            await trio.sleep(0.02)
    assert tuple(rows[0]) == ("internal", "anthropic")
    # the gateway still serves
    ok = await rig.client.post("/v1/messages", json={**body, "model": "gpt-5.5"}, headers=KEY)
    assert ok.status_code == 200
