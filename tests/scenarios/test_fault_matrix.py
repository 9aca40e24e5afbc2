"""The fault matrix of issue 10 for per-request faults: (a hostile field, a worker
exception before / after the answer began, an ingress handler exception before / after
the answer began), by endpoint, by stream / non-stream → what the client got and what
the trail holds. Bugs are planted for one marked request at a time while a victim key's
streams run; each cell's outcome is asserted, and the table is printed (``-s``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio

import actors.ingress
import actors.provider_worker
from actors.ingress import Ingress
from fakes.script import Fault, Turn
from http11.server import ResponseWriter
from messages.commands import ClientRequest
from providers.adapter import HttpCall
from providers.exchanges.protocol import Exchange, ExchangeOutcome
from tests.gateway_rig import auth
from tests.scenarios.hostile_bodies import BASES, CHAT, RESPONSES
from tests.scenarios.isolation_rig import (
    HOSTILE_KEY,
    VICTIM_TEXT,
    IsolationRig,
    failed_error,
    isolation_rig,
    sse_data,
    streamed_text,
)

HOSTILE_FIELD = {CHAT: {"stream_options": "x"}, RESPONSES: {"reasoning": "x"}}
HOSTILE_PARAM = {CHAT: "stream_options", RESPONSES: "reasoning"}
PASSTHROUGH = "hostile-openai/"  # planted bugs are pinned to the passthrough route
FAULTS = ("hostile field", "worker: before", "worker: mid", "handler: before", "handler: mid")


class _PlantedExchange:
    """An exchange that raises once its answer has begun (a decoder bug's stand-in)."""

    def __init__(self, inner: Exchange) -> None:
        self._inner = inner
        self._began = False

    def call(self) -> HttpCall:
        return self._inner.call()

    def start(self) -> bytes:
        return self._inner.start()

    def feed(self, chunk: bytes) -> bytes:
        if self._began:  # an earlier feed gave the client data: the answer has begun
            raise RuntimeError("planted decoder bug")
        data = self._inner.feed(chunk)
        self._began = bool(data)
        return data

    def finish(self) -> bytes:
        return self._inner.finish()

    def fail(self, error: Any) -> bytes:
        return self._inner.fail(error)

    def complete(self, body: bytes) -> bytes:
        raise RuntimeError("planted decoder bug")

    def map_error(self, status: int, headers: Sequence[tuple[str, str]], body: bytes) -> Any:
        return self._inner.map_error(status, headers, body)

    def outcome(self) -> ExchangeOutcome:
        return self._inner.outcome()


class _PlantedWriter:
    """A response writer that raises on the body after the head (a relay bug's stand-in)."""

    def __init__(self, inner: ResponseWriter) -> None:
        self._inner = inner

    @property
    def started(self) -> bool:
        return self._inner.started

    async def send_response(self, *args: Any) -> None:
        raise RuntimeError("planted relay bug")

    async def start_stream(self, *args: Any, **kwargs: Any) -> None:
        await self._inner.start_stream(*args, **kwargs)

    async def send_chunk(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("planted relay bug")

    async def end_stream(self) -> None:
        raise RuntimeError("planted relay bug")


def _plant(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bugs that fire only for requests whose model names them."""
    real_open: Callable[..., Exchange] = actors.provider_worker.open_exchange

    def open_exchange(client_format: Any, body: Mapping[str, Any], **kwargs: Any) -> Exchange:
        if body.get("model") == PASSTHROUGH + "plant-worker-before":
            raise RuntimeError("planted exchange bug")
        exchange = real_open(client_format, body, **kwargs)
        if body.get("model") == PASSTHROUGH + "plant-worker-mid":
            return _PlantedExchange(exchange)
        return exchange

    monkeypatch.setattr(actors.provider_worker, "open_exchange", open_exchange)
    real_dispatch = Ingress._dispatch

    async def dispatch(self: Ingress, message: ClientRequest, writer: ResponseWriter) -> None:
        if message.model == PASSTHROUGH + "plant-handler-before":
            raise RuntimeError("planted handler bug")
        await real_dispatch(self, message, writer)

    monkeypatch.setattr(Ingress, "_dispatch", dispatch)
    real_relay = actors.ingress.relay

    async def relay(receive: Any, writer: ResponseWriter, message: ClientRequest) -> None:
        if message.model == PASSTHROUGH + "plant-handler-mid":
            writer = _PlantedWriter(writer)  # type: ignore[assignment]
        await real_relay(receive, writer, message)

    monkeypatch.setattr(actors.ingress, "relay", relay)


def _body(fault: str, endpoint: str, stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {**BASES[endpoint], "stream": stream}
    if fault == "hostile field":
        body.update(HOSTILE_FIELD[endpoint])
    else:
        body["model"] = PASSTHROUGH + "plant-" + fault.replace(": ", "-")
    return body


async def _cell(rig: IsolationRig, fault: str, endpoint: str, stream: bool) -> dict[str, Any]:
    body = _body(fault, endpoint, stream)
    headers = auth(HOSTILE_KEY)
    async with rig.client.stream("POST", endpoint, json=body, headers=headers) as response:
        data = b"".join([piece async for piece in response.aiter_bytes()])
    request_id = response.headers.get("x-request-id") or ""
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        got = f"{response.status_code} stream, then {_in_stream_error(endpoint, data)}"
    else:
        error = httpx.Response(200, content=data).json()["error"]
        got = f"{response.status_code} {error['type']}" + (
            f" param={error['param']}" if error.get("param") else ""
        )
        message = error["message"]
        got += " (names the request id)" if request_id in message else ""
    trail = await failed_error(rig.trail, request_id)
    kinds = rig.trail.kinds(request_id)
    held = f"{trail['error']['kind']} {trail['status']}"
    held += " after first byte" if trail.get("after_first_byte") else ""
    return {
        "fault": fault,
        "endpoint": endpoint,
        "stream": stream,
        "status": response.status_code,
        "got": got,
        "trail": f"{held}; events: {', '.join(kinds)}",
        "error_kind": trail["error"]["kind"],
        "param": trail["error"].get("param"),
        "request_id": request_id,
        "data": data,
    }


def _in_stream_error(endpoint: str, data: bytes) -> str:
    events = sse_data(data)
    if endpoint == RESPONSES:
        failed = [e for e in events if isinstance(e, dict) and e.get("type") == "response.failed"]
        return "response.failed" if failed else f"no failure event: {events[-1:]}"
    errors = [e["error"]["type"] for e in events if isinstance(e, dict) and "error" in e]
    done = "[DONE]" if events and events[-1] == "[DONE]" else "no [DONE]"
    return f"error chunk ({', '.join(errors)}) and {done}" if errors else "no error chunk"


def _expect(cell: dict[str, Any]) -> None:
    fault, stream = cell["fault"], cell["stream"]
    if fault == "hostile field":
        assert cell["status"] == 400
        assert cell["error_kind"] == "bad_request"
        assert cell["param"] == HOSTILE_PARAM[cell["endpoint"]]
        return
    assert cell["error_kind"] == "internal", cell
    if stream and fault.endswith("mid"):
        assert cell["status"] == 200  # the answer had begun: the failure is in the stream
        assert "no " not in cell["got"], cell
        assert cell["request_id"].encode() in cell["data"]  # the in-stream error names it
    else:
        assert cell["status"] == 500
        assert "names the request id" in cell["got"]


async def test_fault_matrix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _plant(monkeypatch)
    async with isolation_rig(tmp_path, delay_s=0.1) as rig:
        rig.hostile_fake.fallback = None
        victims: list[tuple[str, str]] = []
        cells: list[dict[str, Any]] = []

        async def victim(endpoint: str) -> None:
            body = {**BASES[endpoint], "stream": True}
            async with rig.client.stream("POST", endpoint, json=body, headers=auth()) as r:
                data = b"".join([piece async for piece in r.aiter_bytes()])
            victims.append(streamed_text(endpoint, data))

        async with trio.open_nursery() as nursery:
            for endpoint in (CHAT, RESPONSES, CHAT, RESPONSES):
                nursery.start_soon(victim, endpoint)
            await rig.victim_fake.wait_requests(4)
            for fault in FAULTS:
                for endpoint in (RESPONSES, CHAT):
                    for stream in (False, True):
                        if fault.endswith("mid") and stream:
                            _slow_hostile_stream(rig)
                        cells.append(await _cell(rig, fault, endpoint, stream))
                        rig.hostile_fake.fallback = None
        assert victims == [(VICTIM_TEXT, "completed")] * 4  # untouched, all four
        alive = await rig.client.post(CHAT, json=BASES[CHAT], headers=auth())
        assert alive.status_code == 200
        logged = capsys.readouterr().out
    with capsys.disabled():
        print("\n| fault | endpoint | stream | client got | trail holds |")
        print("| --- | --- | --- | --- | --- |")
        for cell in cells:
            print(
                f"| {cell['fault']} | {cell['endpoint']} | {cell['stream']} | {cell['got']} "
                f"| {cell['trail']} |"
            )
    for cell in cells:
        _expect(cell)
        if cell["fault"] != "hostile field":
            lines = [line for line in logged.splitlines() if cell["request_id"] in line]
            assert any("internal error" in line for line in lines), cell  # logged, with its id
    assert "actor crashed" not in logged
    assert logged.count("planted") >= 8  # each bug's traceback is in the log


def _slow_hostile_stream(rig: IsolationRig) -> None:
    """Stream the next hostile answer event by event (so the planted bug meets an answer
    that has begun, not one read whole)."""
    rig.hostile_fake.fallback = Turn(fault=Fault(delay_between_events_s=0.02))
