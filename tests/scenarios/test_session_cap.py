"""A runaway agent session gets a 429 with Retry-After at its cap, with a message Codex
shows its user, while another session of the same key is served; the cap is per key
configurable and never reaches the provider."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import pytest
import trio

from config import ConfigError
from fakes import FakeProviderServer, open_fake_provider
from tests.gateway_rig import (
    ENVIRON,
    Trail,
    auth,
    config_yaml,
    make_config,
    openai_provider,
    running_gateway,
)

STRICT_KEY = "sk-sy-test-virtual-key-strict-0077"
STRICT = f"""  - id: "strict"
    key: "{STRICT_KEY}"
    account: "dev"
    session_requests_per_minute: 2
"""
BODY = {"model": "gpt-5.5", "input": "call the tool again", "stream": True}
CHAT = {"model": "gpt-5.5", "messages": [{"role": "user", "content": "call the tool again"}]}
CAP = 6


@pytest.fixture
async def fake(nursery: trio.Nursery) -> FakeProviderServer:
    return await open_fake_provider(nursery)


def _yaml(fake_url: str, db: Path, server_line: str) -> str:
    text = config_yaml([openai_provider(fake_url)], db_path=db, extra_keys=STRICT)
    return text.replace("server:\n", f"server:\n  {server_line}\n", 1)


def _headers(session: str | None, key: str | None = None) -> dict[str, str]:
    headers = auth(key) if key else auth()
    if session is not None:
        headers["session-id"] = session
    return headers


def _failed_event(response: httpx.Response) -> dict[str, object]:
    """The ``response.failed`` event of a Responses stream."""
    events = [
        orjson.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: ")
    ]
    (failed,) = [event for event in events if event["type"] == "response.failed"]
    return failed["response"]["error"]  # type: ignore[no-any-return]


async def test_a_runaway_session_gets_its_429_at_the_cap_while_another_is_served(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    db = tmp_path / "trail.db"
    config = make_config(_yaml(fake.base_url, db, f"session_request_cap: {CAP}"))
    runaway, calm = "0199a211-f2d6-7061-a757-8d5d97e37d16", "0199a211-f2d6-7061-a757-000000000002"
    async with running_gateway(config) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as client:

            async def post(
                session: str | None, key: str | None = None, path: str = "/v1/responses"
            ) -> httpx.Response:
                body = BODY if path == "/v1/responses" else CHAT
                return await client.post(path, json=body, headers=_headers(session, key))

            statuses = [(await post(runaway)).status_code for _ in range(CAP)]
            refused = await post(runaway)
            other_session = await post(calm)
            no_session = [(await post(None)).status_code for _ in range(CAP + 2)]
            again = await post(runaway, path="/v1/chat/completions")
            strict = [(await post("strict-session", STRICT_KEY)).status_code for _ in range(2)]
            strict_chat = await post("strict-session", STRICT_KEY, "/v1/chat/completions")
            request_id = refused.headers["x-request-id"]
            await Trail(db, gateway.audit).wait_rows(
                "SELECT 1 FROM requests WHERE request_id = ? AND status = 'failed'", request_id
            )
    assert statuses == [200] * CAP
    # Codex's streamed Responses request: the refusal is told in the stream, where Codex
    # shows it and waits the "try again in Ns" it names; Retry-After is there too
    assert refused.headers["content-type"].startswith("text/event-stream")
    retry_after = int(refused.headers["retry-after"])
    assert 1 <= retry_after <= 60
    error = _failed_event(refused)
    assert error["code"] == "rate_limit_exceeded"
    assert str(error["message"]).startswith(
        f"this session sent {CAP} requests in the last minute, the most one session may send"
    )
    assert str(error["message"]).endswith(f"Please try again in {retry_after}s.")
    assert other_session.status_code == 200
    assert no_session == [200] * (CAP + 2)  # without a session id only key budgets apply
    # any other request of a capped session: an HTTP 429 with Retry-After
    assert again.status_code == 429
    assert 1 <= int(again.headers["retry-after"]) <= 60
    assert again.json()["error"]["type"] == "rate_limit_error"
    assert "this session sent 6 requests in the last minute" in again.json()["error"]["message"]
    assert strict == [200, 200]  # the key's own session cap replaces the default
    assert strict_chat.status_code == 429
    # refused requests never reached the provider
    assert len(fake.requests) == CAP + 1 + CAP + 2 + 2
    (row,) = Trail(db).rows("SELECT * FROM requests WHERE request_id = ?", request_id)
    assert (row["status"], row["session_id"], row["http_status"]) == ("failed", runaway, 429)


async def test_a_cap_of_zero_turns_it_off(fake: FakeProviderServer, tmp_path: Path) -> None:
    config = make_config(_yaml(fake.base_url, tmp_path / "t.db", "session_request_cap: 0"))
    async with running_gateway(config) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as client:
            for _ in range(8):
                response = await client.post("/v1/responses", json=BODY, headers=_headers("s"))
                assert response.status_code == 200


@pytest.mark.parametrize(
    ("server_line", "key_line", "problem"),
    [
        ('session_request_cap: "lots"', "", "server.session_request_cap"),
        ("session_request_cap: -1", "", "server.session_request_cap"),
        ("session_request_cap: 1.5", "", "server.session_request_cap"),
        ("max_inflight: 5", "session_requests_per_minute: many", "session_requests_per_minute"),
        ("max_inflight: 5", "session_requests_per_minute: -3", "session_requests_per_minute"),
    ],
)
def test_a_bad_cap_stops_the_gateway_with_a_clear_line(
    tmp_path: Path, server_line: str, key_line: str, problem: str
) -> None:
    text = _yaml("http://127.0.0.1:9/v1", tmp_path / "t.db", server_line)
    text = text.replace(
        "    session_requests_per_minute: 2\n", f"    {key_line}\n" if key_line else ""
    )
    with pytest.raises(ConfigError) as caught:
        make_config(text, ENVIRON)
    assert problem in str(caught.value)
