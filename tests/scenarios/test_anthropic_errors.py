"""Every error a Messages-API client can get comes in Anthropic's shape, with Anthropic's
status ↔ type pairing — before the body is read (401), at parse (400 naming the
field), from a budget (402, 429), from a failing upstream (a status, or ``event: error``
once the stream has begun) — and the official SDK raises its matching exception."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anthropic
import httpx
import orjson
import pytest
import trio

from fakes import FakeProviderServer, Fault, Reply, Text, Turn
from tests.gateway_rig import VIRTUAL_KEY, Trail, config_yaml, make_config, running_gateway
from tests.scenarios.budget_rig import budget_config, budget_gateway, fixed_cost
from tests.scenarios.conftest import Rig
from tests.scenarios.translation_rig import provider_for

BODY: dict[str, Any] = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 100,
    "messages": [{"role": "user", "content": "hi"}],
}
KEY = {"x-api-key": VIRTUAL_KEY, "anthropic-version": "2023-06-01"}


def _assert_anthropic_error(response: httpx.Response, status: int, kind: str) -> str:
    assert response.status_code == status, response.text
    document = response.json()
    assert document["type"] == "error"
    assert set(document["error"]) == {"type", "message"}
    assert document["error"]["type"] == kind
    assert document["request_id"] == response.headers["x-request-id"]
    message = document["error"]["message"]
    assert isinstance(message, str) and message
    return message


@pytest.mark.parametrize("path", ["/v1/messages", "/anthropic/v1/messages"])
@pytest.mark.parametrize(
    "headers",
    [{}, {"x-api-key": "sk-not-a-key-of-ours-000"}, {"authorization": "Bearer nope-nope-nope"}],
)
async def test_no_valid_key_is_401_authentication_error(
    rig: Rig, path: str, headers: dict[str, str]
) -> None:
    response = await rig.client.post(path, json=BODY, headers=headers)
    message = _assert_anthropic_error(response, 401, "authentication_error")
    assert not rig.fake.requests
    if not headers:
        assert "x-api-key" in message


async def test_key_in_x_api_key_or_bearer(rig: Rig) -> None:
    rig.fake.enqueue(Reply(items=(Text(text="one"),)), Reply(items=(Text(text="two"),)))
    bearer = {"authorization": f"Bearer {VIRTUAL_KEY}"}
    for headers in (KEY, bearer):
        response = await rig.client.post("/anthropic/v1/messages", json=BODY, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["type"] == "message"


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"max_tokens": None}, "max_tokens"),
        ({"max_tokens": "100"}, "max_tokens"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": 10**12}, "max_tokens"),
        ({"temperature": 1.5}, "temperature"),
        ({"temperature": "hot"}, "temperature"),
        ({"top_p": -1}, "top_p"),
        ({"top_k": -3}, "top_k"),
        ({"top_k": 1.5}, "top_k"),
        ({"stop_sequences": "END"}, "stop_sequences"),
        ({"stop_sequences": [1]}, "stop_sequences"),
        ({"system": 7}, "system"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages[0].role"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ({"stream": "yes"}, "stream"),
        ({"thinking": "on"}, "thinking"),
        ({"thinking": {"type": "sometimes"}}, "thinking.type"),
        ({"thinking": {"type": "enabled", "budget_tokens": 10}}, "thinking.budget_tokens"),
        ({"thinking": {"type": "enabled", "budget_tokens": 500}}, "thinking.budget_tokens"),
        ({"output_config": {"effort": "extreme"}}, "output_config.effort"),
        ({"output_config": []}, "output_config"),
        ({"metadata": {"user_id": 42}}, "metadata.user_id"),
        ({"metadata": {"user_id": "u" * 300}}, "metadata.user_id"),
        ({"tool_choice": "auto"}, "tool_choice"),
        ({"tools": {"name": "x"}}, "tools"),
        ({"context_management": "on"}, "context_management"),
        ({"model": 5}, "model"),
    ],
)
async def test_a_bad_field_is_400_naming_it(
    rig: Rig, change: dict[str, object], param: str
) -> None:
    body = {**BODY, **change}
    body = {key: value for key, value in body.items() if value is not None}
    response = await rig.client.post("/v1/messages", json=body, headers=KEY)
    message = _assert_anthropic_error(response, 400, "invalid_request_error")
    assert param in message
    assert not rig.fake.requests


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"messages": [{"role": "user", "content": [{"type": "text"}]}]}, "content[0].text"),
        ({"messages": [{"role": "user", "content": [{"text": "x"}]}]}, "content[0].type"),
        (
            {"messages": [{"role": "user", "content": [{"type": "image", "source": 1}]}]},
            "content[0].source",
        ),
        ({"tools": [{"name": "Bash"}]}, "tools[0].input_schema"),
        ({"tools": [{"name": "Bash", "input_schema": "{}"}]}, "tools[0].input_schema"),
        ({"tool_choice": {"type": "tool"}}, "tool_choice.name"),
        ({"tool_choice": {"type": "every"}}, "tool_choice.type"),
        (
            {
                "messages": [
                    {
                        "role": "assistant",
                        "content": [{"type": "tool_use", "id": "t", "name": "x", "input": []}],
                    }
                ]
            },
            "content[0].input",
        ),
    ],
)
async def test_a_bad_block_is_400_naming_it(
    rig: Rig, change: dict[str, object], param: str
) -> None:
    response = await rig.client.post("/v1/messages", json={**BODY, **change}, headers=KEY)
    message = _assert_anthropic_error(response, 400, "invalid_request_error")
    assert param in message
    assert not rig.fake.requests


async def test_sdk_raises_its_own_exceptions(rig: Rig) -> None:
    rig.fake.enqueue(Fault(status=503), Fault(status=400, error_message="bad thing upstream"))
    client = anthropic.Anthropic(
        base_url=rig.gateway.base_url, api_key=VIRTUAL_KEY, max_retries=0, timeout=20
    )

    def calls() -> list[Exception]:
        caught: list[Exception] = []
        for kwargs in (
            {"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": BODY["messages"]},
            {"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": BODY["messages"]},
            {"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": []},
        ):
            try:
                client.messages.create(**kwargs)  # type: ignore[arg-type]
            except anthropic.APIStatusError as exc:
                caught.append(exc)
        bad_key = anthropic.Anthropic(
            base_url=rig.gateway.base_url, api_key="sk-wrong-key-000000", max_retries=0
        )
        try:
            bad_key.messages.create(**{**BODY, "messages": BODY["messages"]})
        except anthropic.APIStatusError as exc:
            caught.append(exc)
        return caught

    upstream_down, upstream_400, empty, unauthenticated = await trio.to_thread.run_sync(calls)
    client.close()
    assert isinstance(upstream_down, anthropic.InternalServerError)
    assert upstream_down.body["error"]["type"] in ("overloaded_error", "api_error")  # type: ignore[index]
    assert isinstance(upstream_400, anthropic.BadRequestError)
    assert "bad thing upstream" in str(upstream_400)
    assert isinstance(empty, anthropic.BadRequestError)
    assert isinstance(unauthenticated, anthropic.AuthenticationError)


async def test_failure_mid_stream_is_an_error_event(rig: Rig) -> None:
    reply = Reply(items=(Text(text="partial answer that goes on and on"),))
    rig.fake.enqueue(Turn(reply=reply, fault=Fault(cut_after_events=3)))
    body = {**BODY, "stream": True}
    async with rig.client.stream("POST", "/v1/messages", json=body, headers=KEY) as response:
        assert response.status_code == 200
        text = (await response.aread()).decode()
    assert text.startswith("event: message_start")
    assert "event: error" in text
    assert "message_stop" not in text
    error_data = text.split("event: error\ndata: ")[1].split("\n")[0]
    assert '"type":"error"' in error_data and '"api_error"' in error_data


async def test_budget_refusals_are_402_billing_and_429_rate_limit(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    fixed_cost(fake)
    budgets = (
        '  - {level: "virtual_key", id: "codex-dev", limit: 0.0, period: "daily"}\n'
        '  - {level: "team", id: "red", requests_per_minute: 1}\n'
    )
    config = budget_config(fake, tmp_path / "trail.db", budgets=budgets)
    alice = {"x-api-key": "sk-alice-budget-test-key-0001"}
    async with budget_gateway(config) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as client:
            spent = await client.post("/v1/messages", json=BODY, headers=KEY)
            first = await client.post("/v1/messages", json=BODY, headers=alice)
            limited = await client.post("/v1/messages", json=BODY, headers=alice)
    message = _assert_anthropic_error(spent, 402, "billing_error")
    assert "codex-dev" in message
    assert first.status_code == 200, first.text
    _assert_anthropic_error(limited, 429, "rate_limit_error")
    assert int(limited.headers["retry-after"]) >= 1
    rows = Trail(tmp_path / "trail.db").rows(
        "SELECT client_format, http_status FROM requests ORDER BY started_at"
    )
    assert [tuple(row) for row in rows] == [
        ("anthropic", 402),
        ("anthropic", 200),
        ("anthropic", 429),
    ]


async def test_count_tokens_is_a_labelled_estimate(rig: Rig) -> None:
    path = "/v1/messages/count_tokens"
    counted = await rig.client.post(path, json=BODY, headers=KEY)
    assert counted.status_code == 200
    assert counted.headers["x-switchyard-token-count"] == "estimate"
    assert counted.json()["input_tokens"] > 0
    refused = await rig.client.post(path, json=BODY)
    _assert_anthropic_error(refused, 401, "authentication_error")
    bad = await rig.client.post(path, json={"model": "x"}, headers=KEY)
    _assert_anthropic_error(bad, 400, "invalid_request_error")
    assert not rig.fake.requests


@pytest.fixture
async def gemini_rig(fake: FakeProviderServer, tmp_path: Path) -> Any:
    db = tmp_path / "trail.db"
    config = make_config(config_yaml([provider_for("gemini", fake)], db_path=db))
    async with running_gateway(config) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as client:
            yield client, fake


async def test_upstream_rate_limit_comes_back_as_429(gemini_rig: Any) -> None:
    client, fake = gemini_rig
    fake.enqueue(Fault(status=429, retry_after="3"))
    response = await client.post("/v1/messages", json=BODY, headers=KEY)
    _assert_anthropic_error(response, 429, "rate_limit_error")
    assert response.headers["retry-after"] == "3"


async def test_a_claude_code_session_over_its_cap_is_429(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    """Claude Code's ``x-claude-code-session-id`` is counted like Codex's ``session-id``."""
    strict = (
        '  - id: "strict"\n'
        '    key: "sk-sy-test-virtual-key-strict-0077"\n'
        '    account: "dev"\n'
        "    session_requests_per_minute: 2\n"
    )
    text = config_yaml([provider_for("gemini", fake)], db_path=tmp_path / "t.db", extra_keys=strict)
    headers = {"x-api-key": "sk-sy-test-virtual-key-strict-0077"}
    async with running_gateway(make_config(text)) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as client:
            answers = [
                await client.post(
                    "/v1/messages",
                    json=BODY,
                    headers={**headers, "x-claude-code-session-id": session},
                )
                for session in ("s-1", "s-1", "s-1", "s-2")
            ]
    assert [answer.status_code for answer in answers] == [200, 200, 429, 200]
    message = _assert_anthropic_error(answers[2], 429, "rate_limit_error")
    assert "session" in message
    assert int(answers[2].headers["retry-after"]) >= 1
    rows = Trail(tmp_path / "t.db").rows("SELECT session_id FROM requests ORDER BY started_at")
    assert [row["session_id"] for row in rows] == ["s-1", "s-1", "s-1", "s-2"]


def _assert_protocol_error(response: httpx.Response, status: int, kind: str) -> None:
    """An error the HTTP layer answers before any request exists (no request id)."""
    assert response.status_code == status, response.text
    document = response.json()
    assert document["type"] == "error"
    assert document["error"]["type"] == kind
    assert isinstance(document["error"]["message"], str) and document["error"]["message"]


async def test_errors_before_a_request_exists_are_in_anthropics_shape_too(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    """413 (body over the limit), 405 (not a POST) and 408 (body too slow) on the Messages
    API take its shape; the same on Chat Completions keeps OpenAI's."""
    text = config_yaml([provider_for("anthropic", fake)], db_path=tmp_path / "trail.db")
    config = make_config(text.replace("server:\n", "server:\n  body_timeout_s: 1\n", 1))
    huge = {**BODY, "messages": [{"role": "user", "content": "x" * 1_100_000}]}
    async with running_gateway(config) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as client:
            too_large = await client.post("/v1/messages", json=huge, headers=KEY)
            not_post = await client.get("/v1/messages", headers=KEY)
            bearer = {"authorization": f"Bearer {VIRTUAL_KEY}"}
            openai = await client.post("/v1/chat/completions", json=huge, headers=bearer)
        slow = await _slow_body(gateway.port, "/v1/messages")
    _assert_protocol_error(too_large, 413, "request_too_large")
    _assert_protocol_error(not_post, 405, "invalid_request_error")
    assert openai.status_code == 413 and openai.json()["error"]["type"] == "invalid_request_error"
    head, _, body = slow.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408")
    assert orjson.loads(body)["error"]["type"] == "invalid_request_error"
    assert orjson.loads(body)["type"] == "error"


async def _slow_body(port: int, path: str) -> bytes:
    """A request whose body never finishes: what the gateway answers."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        head = (
            f"POST {path} HTTP/1.1\r\nhost: x\r\nx-api-key: {VIRTUAL_KEY}\r\n"
            "content-type: application/json\r\ncontent-length: 100\r\n\r\n{"
        )
        await stream.send_all(head.encode())
        received = b""
        with trio.fail_after(10):
            while chunk := await stream.receive_some():
                received += chunk
    return received
