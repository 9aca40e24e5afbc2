"""Every error the ingress can give: OpenAI's shape, the right status, and a trail."""

from __future__ import annotations

import orjson
import pytest

from fakes import Fault, Reply, Text
from tests.gateway_rig import auth
from tests.scenarios.conftest import Rig


def _assert_openai_error(response: object, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    error = response.json()["error"]  # type: ignore[attr-defined]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and error["message"]
    return error


CHAT = {"model": "gpt-5.5", "messages": [{"role": "user", "content": "hi"}]}


async def test_malformed_json_is_400(rig: Rig) -> None:
    response = await rig.client.post(
        "/v1/chat/completions",
        content=b"{not json",
        headers={**auth(), "content-type": "application/json"},
    )
    _assert_openai_error(response, 400)


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/v1/responses", {"model": "gpt-5.5"}, "input"),
        ("/v1/responses", {"input": "hi"}, "model"),
        ("/v1/chat/completions", {"model": "gpt-5.5", "messages": []}, "messages"),
        ("/v1/chat/completions", {"model": "gpt-5.5", "messages": "hi"}, "messages"),
        ("/v1/chat/completions", {**CHAT, "stream": "yes"}, "stream"),
        ("/v1/responses", [1, 2], None),
    ],
)
async def test_invalid_body_is_400_with_param(
    rig: Rig, path: str, body: object, param: str | None
) -> None:
    response = await rig.client.post(path, json=body, headers=auth())
    error = _assert_openai_error(response, 400)
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"


async def test_unknown_provider_prefix_is_404(rig: Rig) -> None:
    body = {**CHAT, "model": "nosuch/gpt-5.5"}
    response = await rig.client.post("/v1/chat/completions", json=body, headers=auth())
    error = _assert_openai_error(response, 404)
    assert error["code"] == "model_not_found"
    assert not rig.fake.requests


@pytest.mark.parametrize(
    "headers", [{}, {"authorization": "Bearer sk-wrong"}, {"authorization": "Basic x"}]
)
async def test_missing_or_invalid_key_is_401(rig: Rig, headers: dict[str, str]) -> None:
    response = await rig.client.post("/v1/chat/completions", json=CHAT, headers=headers)
    error = _assert_openai_error(response, 401)
    assert error["type"] == "authentication_error"
    assert not rig.fake.requests


async def test_body_over_the_limit_is_413(rig: Rig) -> None:
    body = {**CHAT, "messages": [{"role": "user", "content": "x" * 1_100_000}]}
    response = await rig.client.post("/v1/chat/completions", json=body, headers=auth())
    _assert_openai_error(response, 413)
    assert not rig.fake.requests


async def test_unknown_route_is_404_and_wrong_method_405(rig: Rig) -> None:
    _assert_openai_error(await rig.client.get("/v1/nothing-here", headers=auth()), 404)
    _assert_openai_error(await rig.client.get("/v1/responses", headers=auth()), 405)


async def test_upstream_429_keeps_retry_after(rig: Rig) -> None:
    rig.fake.enqueue(Fault(status=429, retry_after="7"))
    response = await rig.client.post("/v1/chat/completions", json=CHAT, headers=auth())
    error = _assert_openai_error(response, 429)
    assert response.headers["retry-after"] == "7"
    assert error["code"] == "rate_limit_exceeded"


async def test_upstream_429_without_retry_after_still_carries_one(rig: Rig) -> None:
    rig.fake.enqueue(Fault(status=429))
    response = await rig.client.post(
        "/v1/responses", json={"model": "m", "input": "x"}, headers=auth()
    )
    _assert_openai_error(response, 429)
    assert int(response.headers["retry-after"]) >= 1


@pytest.mark.parametrize(("upstream", "client"), [(500, 500), (503, 503), (400, 400), (404, 404)])
async def test_upstream_status_reaches_the_client(rig: Rig, upstream: int, client: int) -> None:
    rig.fake.enqueue(Fault(status=upstream))
    response = await rig.client.post("/v1/chat/completions", json=CHAT, headers=auth())
    _assert_openai_error(response, client)


async def test_upstream_key_rejected_is_not_blamed_on_the_client(rig: Rig) -> None:
    rig.fake.enqueue(Fault(status=401))
    response = await rig.client.post("/v1/chat/completions", json=CHAT, headers=auth())
    _assert_openai_error(response, 502)


async def test_stream_cut_before_completion_becomes_response_failed(rig: Rig) -> None:
    rig.fake.enqueue(Fault(cut_after_events=4))
    body = {"model": "gpt-5.5", "input": "hi", "stream": True}
    response = await rig.client.post("/v1/responses", json=body, headers=auth())
    assert response.status_code == 200
    events = [
        orjson.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: ")
    ]
    assert events[-1]["type"] == "response.failed"
    assert events[-2]["type"] == "error"
    assert "response.completed" not in {event["type"] for event in events}
    request_id = response.headers["x-request-id"]
    rows = await rig.trail.wait_rows(
        "SELECT * FROM requests WHERE request_id = ? AND status = 'failed'", request_id
    )
    assert rows[0]["error_kind"] == "upstream_error"


async def test_chat_stream_cut_ends_with_an_error_chunk(rig: Rig) -> None:
    rig.fake.enqueue(Fault(cut_after_events=2))
    body = {**CHAT, "stream": True}
    response = await rig.client.post("/v1/chat/completions", json=body, headers=auth())
    lines = [line for line in response.text.splitlines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    assert "error" in orjson.loads(lines[-2][6:])


async def test_upstream_failed_event_is_relayed(rig: Rig) -> None:
    rig.fake.enqueue(Fault(failed_event=("server_error", "boom")))
    body = {"model": "gpt-5.5", "input": "hi", "stream": True}
    response = await rig.client.post("/v1/responses", json=body, headers=auth())
    assert '"response.failed"' in response.text


async def test_rejected_requests_leave_a_trail(rig: Rig) -> None:
    response = await rig.client.post("/v1/chat/completions", json=CHAT, headers={})
    assert response.status_code == 401
    rows = await rig.trail.wait_rows("SELECT * FROM requests WHERE http_status = 401")
    assert rows[0]["status"] == "failed"
    assert rows[0]["virtual_key"] is None


async def test_fake_still_answers_after_errors(rig: Rig) -> None:
    rig.fake.enqueue(Fault(status=500), Reply(items=(Text(text="fine"),)))
    first = await rig.client.post("/v1/chat/completions", json=CHAT, headers=auth())
    second = await rig.client.post("/v1/chat/completions", json=CHAT, headers=auth())
    assert (first.status_code, second.status_code) == (500, 200)
