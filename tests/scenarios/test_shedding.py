"""A full gateway sheds load with an OpenAI-shaped 503 and Retry-After, never a queue
without bound, and serves again as soon as there is room."""

from __future__ import annotations

from pathlib import Path

import httpx
import trio

from fakes import FakeProviderServer, Fault, Turn
from tests.gateway_rig import (
    Trail,
    auth,
    config_yaml,
    make_config,
    openai_provider,
    running_gateway,
)

CHAT = {"model": "gpt-5.5", "messages": [{"role": "user", "content": "hi"}]}


async def test_requests_over_max_inflight_get_503(fake: FakeProviderServer, tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    config = make_config(config_yaml([openai_provider(fake.base_url)], db_path=db, max_inflight=2))
    fake.enqueue(
        Turn(fault=Fault(hang_before_headers_s=1.0)), Turn(fault=Fault(hang_before_headers_s=1.0))
    )
    async with running_gateway(config) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as client:
            slow: list[httpx.Response] = []

            async def occupy() -> None:
                slow.append(await client.post("/v1/chat/completions", json=CHAT, headers=auth()))

            async with trio.open_nursery() as nursery:
                nursery.start_soon(occupy)
                nursery.start_soon(occupy)
                await fake.wait_requests(2)
                shed = await client.post("/v1/chat/completions", json=CHAT, headers=auth())
            after = await client.post("/v1/chat/completions", json=CHAT, headers=auth())
    assert shed.status_code == 503
    assert shed.headers["retry-after"] == "1"
    assert shed.json()["error"]["code"] == "server_is_overloaded"
    assert [response.status_code for response in slow] == [200, 200]
    assert after.status_code == 200
    rows = Trail(db).rows(
        "SELECT error_kind FROM requests WHERE request_id = ?", shed.headers["x-request-id"]
    )
    assert rows[0]["error_kind"] == "shed"
