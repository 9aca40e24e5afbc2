"""The Responses API over WebSocket (Codex's built-in provider transport) against the real
gateway: the same request path, events and trail as HTTP, Codex's incremental input and
warm-up, errors as Codex's wrapped error events, and hostile frames closed with the
RFC's codes."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import trio

from budgets.keys import StoredKey, new_secret, secret_digest, shown_prefix
from fakes import FakeProviderServer, Fault, FunctionCall, Reply, Text, Turn
from http11.sansio.websocket import OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT
from storage.database import make_engine
from storage.key_store import create_key
from tests.gateway_rig import (
    Trail,
    auth,
    config_yaml,
    make_config,
    openai_provider,
    running_gateway,
)
from tests.http11.test_websocket_sansio import OP_CONTINUATION, client_frame
from tests.scenarios.budget_rig import budget_config, budget_gateway, fixed_cost
from tests.scenarios.conftest import Rig
from tests.websocket_rig import accepted_socket, open_socket

SESSION = "01a24454-49b0-7520-b287-7af072852bdb"


async def _terminal_rows(rig: Rig, count: int) -> list[dict[str, object]]:
    rows = await rig.trail.wait_rows(
        "SELECT * FROM requests WHERE status != 'in_progress' ORDER BY started_at",
        at_least=count,
    )
    return [dict(row) for row in rows]


def _sse_types(text: str) -> list[str]:
    return [
        orjson.loads(line[6:])["type"]
        for line in text.splitlines()
        if line.startswith("data: ") and line != "data: [DONE]"
    ]


async def test_a_websocket_turn_is_served_and_recorded_exactly_as_over_http(rig: Rig) -> None:
    body = {"model": "gpt-5.5", "input": [{"role": "user", "content": "hi"}], "stream": True}
    rig.fake.enqueue(Reply(items=(Text(text="hello there"),)))
    rig.fake.enqueue(Reply(items=(Text(text="hello there"),)))
    headers = {**auth(), "session-id": SESSION, "content-type": "application/json"}
    over_http = await rig.client.post("/v1/responses", content=orjson.dumps(body), headers=headers)
    assert over_http.status_code == 200

    async with await accepted_socket(
        rig.gateway.base_url, extra=(("session-id", SESSION),)
    ) as socket:
        create = {"type": "response.create", "model": "gpt-5.5", "input": body["input"]}
        await socket.send_json(create)
        events = await socket.events_until_done()
        assert [e["type"] for e in events] == _sse_types(over_http.text)
        deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
        assert "".join(deltas) == "hello there"  # type: ignore[arg-type]

        http_row, socket_row = await _terminal_rows(rig, 2)
        assert over_http.headers["x-request-id"] == http_row["request_id"]
        assert rig.trail.kinds(str(socket_row["request_id"])) == rig.trail.kinds(
            str(http_row["request_id"])
        )
        assert rig.trail.kinds(str(socket_row["request_id"]))[0] == "request.received"
        for column in ("session_id", "status", "provider", "model", "endpoint", "virtual_key"):
            assert socket_row[column] == http_row[column], column
        assert socket_row["session_id"] == SESSION
        # the recorded body is the very body the HTTP client sent (type dropped, stream set)
        assert rig.trail.body(str(socket_row["request_id"])) == orjson.dumps(body)
        assert rig.fake.requests[0].body == rig.fake.requests[1].body


async def test_incremental_input_is_made_whole_and_an_unknown_previous_id_is_refused(
    rig: Rig,
) -> None:
    call = FunctionCall(name="exec_command", arguments='{"cmd":"ls"}', call_id="call_1")
    rig.fake.enqueue(Reply(items=(call,)), Reply(items=(Text(text="done"),)))
    async with await accepted_socket(rig.gateway.base_url) as socket:
        user = {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "ls"}],
        }
        await socket.send_json({"type": "response.create", "model": "gpt-5.5", "input": [user]})
        first = await socket.events_until_done()
        completed = first[-1]
        assert completed["type"] == "response.completed"
        response_id = completed["response"]["id"]  # type: ignore[index]

        await socket.send_json(
            {"type": "response.create", "model": "gpt-5.5", "previous_response_id": "resp_nope"}
            | {"input": []}
        )
        (refusal,) = await socket.events_until_done()
        assert refusal["status"] == 400
        assert refusal["error"]["code"] == "previous_response_not_found"  # type: ignore[index]

        output = {"type": "function_call_output", "call_id": "call_1", "output": "a.txt"}
        await socket.send_json(
            {
                "type": "response.create",
                "model": "gpt-5.5",
                "previous_response_id": response_id,
                "input": [output],
            }
        )
        second = await socket.events_until_done()
        assert second[-1]["type"] == "response.completed"
        upstream = rig.fake.requests[-1].body
        assert isinstance(upstream, dict) and "previous_response_id" not in upstream
        kinds = [item.get("type") for item in upstream["input"]]
        assert kinds == ["message", "function_call", "function_call_output"]
        assert len(rig.fake.requests) == 2  # the refused message reached no provider


async def test_a_warm_up_asks_no_model_and_can_be_continued(rig: Rig) -> None:
    rig.fake.enqueue(Reply(items=(Text(text="warm"),)))
    async with await accepted_socket(rig.gateway.base_url) as socket:
        system = {"type": "message", "role": "developer", "content": "be brief"}
        await socket.send_json(
            {"type": "response.create", "model": "gpt-5.5", "input": [system], "generate": False}
        )
        warm = await socket.events_until_done()
        assert [e["type"] for e in warm] == ["response.created", "response.completed"]
        assert warm[-1]["response"]["output"] == []  # type: ignore[index]
        assert rig.fake.requests == []
        warm_id = warm[-1]["response"]["id"]  # type: ignore[index]
        user = {"type": "message", "role": "user", "content": "hi"}
        await socket.send_json(
            {"type": "response.create", "model": "gpt-5.5", "previous_response_id": warm_id}
            | {"input": [user]}
        )
        assert (await socket.events_until_done())[-1]["type"] == "response.completed"
        upstream = rig.fake.requests[0].body
        assert isinstance(upstream, dict)
        assert [item["role"] for item in upstream["input"]] == ["developer", "user"]
        rows = await _terminal_rows(rig, 1)
        assert len(rows) == 1  # the warm-up left no request in the trail


async def test_refusals_come_as_codexs_wrapped_error_events(rig: Rig) -> None:
    rig.fake.enqueue(Fault(status=429, retry_after="3"))
    async with await accepted_socket(rig.gateway.base_url) as socket:
        await socket.send_json({"type": "response.create", "model": "gpt-5.5", "input": "hi"})
        (event,) = await socket.events_until_done()
        assert event["type"] == "error" and event["status"] == 429
        assert event["headers"]["retry-after"] == "3"  # type: ignore[index]
        assert event["headers"]["x-request-id"].startswith("req_")  # type: ignore[index]

        await socket.send_json({"type": "response.create", "model": 12, "input": "hi"})
        (bad,) = await socket.events_until_done()
        assert bad["status"] == 400 and "model" in bad["error"]["message"]  # type: ignore[index]
        await socket.send_raw(client_frame(OP_TEXT, b"{not json"))
        (unparsable,) = await socket.events_until_done()
        assert unparsable["status"] == 400
        await socket.send_json({"type": "session.update"})
        (unknown,) = await socket.events_until_done()
        assert unknown["error"]["code"] == "unsupported_message_type"  # type: ignore[index]
        await socket.send_json({"type": "response.processed", "response_id": "resp_1"})
        rows = await _terminal_rows(rig, 3)  # the 429, the bad model, the bad JSON: all recorded
        assert [row["http_status"] for row in rows] == [429, 400, 400]


async def test_hostile_frames_are_closed_with_the_rfcs_codes(rig: Rig) -> None:
    cases = [
        (client_frame(OP_TEXT, b"{}", masked=False), 1002),
        (client_frame(OP_TEXT, b"{}", rsv=4), 1002),
        (client_frame(OP_TEXT, b"\xff\xfe\xfd"), 1007),
        (b"\x81\xff" + (2_000_000).to_bytes(8, "big") + b"mask", 1009),  # over max_body_bytes
        (client_frame(OP_BINARY, b"\x00\x01"), 1003),
        (client_frame(OP_PING, b"x" * 126), 1002),
    ]
    for data, code in cases:
        async with await accepted_socket(rig.gateway.base_url) as socket:
            await socket.send_raw(data)
            frame = await socket.frame()
            assert frame is not None and frame.opcode == OP_CLOSE, data[:16]
            assert frame.close_code == code, data[:16]
            assert await socket.frame() is None  # and the connection is gone
    assert rig.fake.requests == []


async def test_ping_pong_and_a_clean_close(rig: Rig) -> None:
    async with await accepted_socket(rig.gateway.base_url) as socket:
        await socket.send_raw(client_frame(OP_PING, b"are you there"))
        pong = await socket.frame()
        assert pong is not None and (pong.opcode, pong.payload) == (OP_PONG, b"are you there")
        await socket.send_raw(client_frame(OP_CLOSE, (1000).to_bytes(2, "big") + b"bye"))
        echo = await socket.frame()
        assert echo is not None and echo.close_code == 1000
        assert await socket.frame() is None


async def test_upgrades_without_a_key_or_in_another_version_are_refused(rig: Rig) -> None:
    async with await open_socket(rig.gateway.base_url, key=None) as socket:
        await socket.read_head()
        assert socket.status == 401
    async with await open_socket(rig.gateway.base_url, key="sk-not-a-key-at-all-000") as socket:
        await socket.read_head()
        assert socket.status == 401
    async with await open_socket(
        rig.gateway.base_url, extra=(("sec-websocket-version", "8"),)
    ) as socket:
        head = await socket.read_head()
        assert socket.status in (400, 426), head
        plain_get = await rig.client.get("/v1/responses", headers=auth())
        assert plain_get.status_code == 405
    async with await open_socket(rig.gateway.base_url, path="/v1/chat/completions") as chat:
        await chat.read_head()
        assert chat.status == 405  # only the Responses endpoint speaks WebSocket


async def test_shutdown_ends_idle_sockets_and_lets_the_answer_under_way_finish(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    db = tmp_path / "trail.db"
    config = make_config(config_yaml([openai_provider(fake.base_url)], db_path=db))
    slow = Fault(delay_between_events_s=0.05)
    fake.enqueue(Turn(reply=Reply(items=(Text(text="a slow answer in pieces"),)), fault=slow))
    with trio.fail_after(20):  # a socket holding the drain would take its 30 s
        async with running_gateway(config) as gateway:
            idle = await accepted_socket(gateway.base_url)
            busy = await accepted_socket(gateway.base_url)
            await busy.send_json({"type": "response.create", "model": "gpt-5.5", "input": "hi"})
            first = await busy.frame()
            assert first is not None and first.json()["type"] == "response.created"
            gateway.stop()
            events = await busy.events_until_done()
            assert events[-1]["type"] == "response.completed"
            goodbye = await busy.frame()
            assert goodbye is not None and goodbye.close_code == 1001
            assert await idle.frame() is None  # closed at once, nothing under way
            await idle.stream.aclose()
            await busy.stream.aclose()
    rows = Trail(db).rows("SELECT status FROM requests")
    assert [row["status"] for row in rows] == ["completed"]


async def test_unfinished_messages_count_with_the_bodies_being_read(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    """A crowd of sockets each holding part of a big message cannot buffer more than
    ``max_buffered_body_bytes`` between them: the one that would pass it is closed 1013."""
    text = config_yaml([openai_provider(fake.base_url)], db_path=tmp_path / "trail.db")
    text = text.replace("server:\n", "server:\n  max_buffered_body_bytes: 150000\n", 1)
    async with running_gateway(make_config(text)) as gateway:
        first = await accepted_socket(gateway.base_url)
        second = await accepted_socket(gateway.base_url)
        part = client_frame(OP_TEXT, b"x" * 100_000, fin=False)
        await first.send_raw(part)
        await trio.sleep(0.2)  # the first socket's part is held now
        await second.send_raw(part)
        refused = await second.frame()
        assert refused is not None and refused.close_code == 1013
        await first.send_raw(client_frame(OP_CONTINUATION, b"}"))  # not JSON: an error event
        (answer,) = await first.events_until_done()
        assert answer["status"] == 400
        await first.stream.aclose()
        await second.stream.aclose()


async def test_a_key_that_expires_while_its_socket_is_open_is_refused_from_then_on(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    """Each message is authenticated anew: the upgrade's key check does not last."""
    fixed_cost(fake)
    db = tmp_path / "trail.db"
    secret = new_secret()
    async with budget_gateway(budget_config(fake, db)) as gateway:
        engine = make_engine(f"sqlite:///{db}")
        expires_at = time.time() + 3.0
        stored = StoredKey(
            id="vk_soon",
            name="short-lived",
            digest=secret_digest(secret),
            prefix=shown_prefix(secret),
            account="dev",
            created_at=time.time(),
            expires_at=expires_at,
        )
        create_key(engine, stored)
        engine.dispose()
        with trio.fail_after(10):
            while True:  # the store watcher has read the new key
                async with await open_socket(gateway.base_url, key=secret) as probe:
                    await probe.read_head()
                    if probe.status == 101:
                        break
                await trio.sleep(0.1)
        async with await accepted_socket(gateway.base_url, key=secret) as socket:
            create = {"type": "response.create", "model": "gpt-5.5", "input": "hi"}
            await socket.send_json(create)
            assert (await socket.events_until_done())[-1]["type"] == "response.completed"
            await trio.sleep(max(0.0, expires_at - time.time()) + 0.1)
            await socket.send_json(create)
            (refusal,) = await socket.events_until_done()
            assert refusal["status"] == 401
            assert "expired" in refusal["error"]["message"]  # type: ignore[index]


async def test_a_client_that_leaves_mid_answer_ends_its_request_alone(rig: Rig) -> None:
    long_text = " ".join(f"word{i}" for i in range(400))
    rig.fake.enqueue(
        Turn(
            reply=Reply(items=(Text(text=long_text),)),
            fault=Fault(delay_between_events_s=0.01),
        ),
        Reply(items=(Text(text="still here"),)),
    )
    leaver = await accepted_socket(rig.gateway.base_url)
    await leaver.send_json({"type": "response.create", "model": "gpt-5.5", "input": "hi"})
    first = await leaver.frame()
    assert first is not None and first.json()["type"] == "response.created"
    await leaver.stream.aclose()  # gone mid-answer
    (row,) = await rig.trail.wait_rows(
        "SELECT * FROM requests WHERE status != 'in_progress'", within_s=30
    )
    assert (row["status"], row["error_kind"]) == ("failed", "client_closed")
    async with await accepted_socket(rig.gateway.base_url) as other:  # the gateway is fine
        await other.send_json({"type": "response.create", "model": "gpt-5.5", "input": "hi"})
        assert (await other.events_until_done())[-1]["type"] == "response.completed"
