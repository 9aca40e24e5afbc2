"""The exact cache layer through the real gateway: what hits, what must miss, whose
entries a request may see, and a hit served like a live answer in either mode."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fakes import FakeProviderServer
from storage.cost_report import cost_report
from storage.database import make_engine
from tests.scenarios.cache_rig import (
    ALICE,
    BOB,
    CAROL,
    COST,
    DAVE,
    ERIN,
    EVE,
    CacheRig,
    cache_rig,
    chat_body,
    fixed_answers,
    responses_body,
)

TOOL = {
    "type": "function",
    "name": "exec_command",
    "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}},
}


async def _twice(
    rig: CacheRig, first: dict[str, Any], second: dict[str, Any], **options: Any
) -> tuple[Any, Any]:
    one = await rig.post(first, **options)
    two = await rig.post(second, **options)
    assert one.status_code == two.status_code == 200, (one.text, two.text)
    return one, two


async def test_the_same_request_is_answered_from_the_cache(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    fixed_answers(fake)
    async with cache_rig(fake, tmp_path) as rig:
        one, two = await _twice(rig, responses_body(), responses_body())
        assert one.headers["x-switchyard-cache"] == "miss"
        assert two.headers["x-switchyard-cache"] == "hit-exact"
        assert "x-switchyard-cache-similarity" not in two.headers
        assert len(fake.requests) == 1
        first, second = one.json(), two.json()
        assert second["output"][0]["content"][0]["text"] == "cached answer"
        assert second["id"] != first["id"] and second["id"].startswith("resp_")
        assert second["output"][0]["id"] != first["output"][0]["id"]
        await rig.trail_flushed()
        hit = rig.events(two.headers["x-request-id"], "cache.hit")
        assert hit == [
            {
                "at": hit[0]["at"],
                "layer": "exact",
                "similarity": None,
                "origin_request_id": one.headers["x-request-id"],
                "cost_saved_usd": pytest.approx(COST),
            }
        ]
        assert rig.events(one.headers["x-request-id"], "cache.miss")[0]["reason"] == "no entry"
        rows = rig.trail.rows(
            "SELECT provider, attempts, cost_usd, cost_saved_usd, input_tokens FROM requests"
            " ORDER BY started_at"
        )
        assert [dict(row) for row in rows] == [
            {
                "provider": "fake-openai",
                "attempts": 1,
                "cost_usd": pytest.approx(COST),
                "cost_saved_usd": None,
                "input_tokens": 1000,
            },
            {
                "provider": "cache",
                "attempts": 0,
                "cost_usd": 0.0,
                "cost_saved_usd": pytest.approx(COST),
                "input_tokens": 0,
            },
        ]
        [day] = rig.trail.rows("SELECT cost_usd, cost_saved_usd FROM cost_by_day")
        assert (day["cost_usd"], day["cost_saved_usd"]) == (
            pytest.approx(COST),
            pytest.approx(COST),
        )
        [key] = rig.trail.rows("SELECT cost_saved_usd FROM cost_by_key WHERE virtual_key = 'alice'")
        assert key["cost_saved_usd"] == pytest.approx(COST)
        engine = make_engine(f"sqlite:///{rig.trail.path}")
        try:
            [team] = cost_report(engine, "team")
        finally:
            engine.dispose()
        assert (team["team"], team["requests"]) == ("red", 2)
        assert team["cost_saved_usd"] == pytest.approx(COST)  # what `switchyard cost` shows


_REORDERED = (
    b'{ "input" : [ { "content" : "What is 2+2?",\n "role" : "user" } ],\n\t"model" : "gpt-5.5" }'
)


async def test_key_order_and_whitespace_do_not_matter(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    fixed_answers(fake)
    async with cache_rig(fake, tmp_path) as rig:
        await rig.post(responses_body())
        raw = await rig.client.post(
            "/v1/responses",
            content=_REORDERED,
            headers={"authorization": f"Bearer {ALICE}", "content-type": "application/json"},
        )
        assert raw.headers["x-switchyard-cache"] == "hit-exact"
        assert len(fake.requests) == 1


@pytest.mark.parametrize(
    "extra",
    [
        {"prompt_cache_key": "thread-1234"},
        {"client_metadata": {"x-codex-turn-metadata": '{"turn_id": "t-9"}'}},
        {"store": False},
        {"store": True},
        {"stream": False},
        {"user": "someone"},
        {"metadata": {"team": "x"}},
        {"safety_identifier": "abc"},
        {"service_tier": "auto"},
    ],
    ids=lambda extra: next(iter(extra)),
)
async def test_fields_that_do_not_change_the_answer_are_ignored(
    fake: FakeProviderServer, tmp_path: Path, extra: dict[str, Any]
) -> None:
    fixed_answers(fake)
    async with cache_rig(fake, tmp_path) as rig:
        _, two = await _twice(rig, responses_body(), responses_body(**extra))
        assert two.headers["x-switchyard-cache"] == "hit-exact"
        assert len(fake.requests) == 1


async def test_client_made_item_ids_and_call_ids_are_ignored(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    """Codex gives every input message a fresh id, and a cached answer's calls get fresh
    call ids: the next turn's history still hashes the same."""

    def turn(message_id: str, call_id: str) -> dict[str, Any]:
        return {
            "model": "gpt-5.5",
            "input": [
                {"type": "message", "role": "user", "id": message_id, "content": "list files"},
                {
                    "type": "function_call",
                    "id": "fc_" + call_id,
                    "call_id": call_id,
                    "name": "exec_command",
                    "arguments": '{"cmd":"ls"}',
                },
                {
                    "type": "function_call_output",
                    "id": "fco_" + call_id,
                    "call_id": call_id,
                    "output": "a.txt",
                },
            ],
            "tools": [TOOL],
        }

    fixed_answers(fake)
    async with cache_rig(fake, tmp_path) as rig:
        _, two = await _twice(rig, turn("msg_1", "call_aaa"), turn("msg_2", "call_bbb"))
        assert two.headers["x-switchyard-cache"] == "hit-exact"
        assert len(fake.requests) == 1


@pytest.mark.parametrize(
    "changed",
    [
        {"model": "gpt-4o-mini"},
        {"instructions": "Answer in French."},
        {"tools": [TOOL]},
        {"temperature": 0.2},
        {"top_p": 0.5},
        {"max_output_tokens": 50},
        {"reasoning": {"effort": "high"}},
        {"input": [{"role": "user", "content": "What is 2+3?"}]},
    ],
    ids=lambda changed: next(iter(changed)),
)
async def test_what_changes_the_answer_misses(
    fake: FakeProviderServer, tmp_path: Path, changed: dict[str, Any]
) -> None:
    fixed_answers(fake)
    async with cache_rig(fake, tmp_path) as rig:
        _, two = await _twice(rig, responses_body(), {**responses_body(), **changed})
        assert two.headers["x-switchyard-cache"] == "miss"
        assert len(fake.requests) == 2


async def test_whole_numbers_sample_the_same(fake: FakeProviderServer, tmp_path: Path) -> None:
    fixed_answers(fake)
    async with cache_rig(fake, tmp_path) as rig:
        _, two = await _twice(rig, responses_body(temperature=1), responses_body(temperature=1.0))
        assert two.headers["x-switchyard-cache"] == "hit-exact"


async def test_a_hit_never_crosses_teams_customers_or_accounts(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    fixed_answers(fake)
    async with cache_rig(fake, tmp_path) as rig:
        await rig.post(responses_body(), key=ALICE)
        for key in (BOB, CAROL):
            response = await rig.post(responses_body(), key=key)
            assert response.headers["x-switchyard-cache"] == "miss", key
        other = await rig.post(responses_body(), key=ERIN, **{"x-switchyard-cache": "exact"})
        assert other.headers["x-switchyard-cache"] == "miss"
        assert len(fake.requests) == 4
        same_team = await rig.post(responses_body(), key=DAVE)
        assert same_team.headers["x-switchyard-cache"] == "hit-exact"
        again = await rig.post(responses_body(), key=ERIN, **{"x-switchyard-cache": "exact"})
        assert again.headers["x-switchyard-cache"] == "hit-exact"  # its own entry
        assert len(fake.requests) == 4


async def test_a_forbidding_policy_wins_over_the_header(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    fixed_answers(fake)
    async with cache_rig(fake, tmp_path) as rig:
        for _ in range(2):
            response = await rig.post(responses_body(), key=EVE, **{"x-switchyard-cache": "exact"})
            assert response.status_code == 200
            assert "x-switchyard-cache" not in response.headers
        assert len(fake.requests) == 2
        await rig.trail_flushed()
        assert rig.trail.rows("SELECT * FROM events WHERE kind LIKE 'cache.%'") == []


async def test_the_header_turns_the_cache_off_for_one_request(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    fixed_answers(fake)
    async with cache_rig(fake, tmp_path) as rig:
        await rig.post(responses_body())
        off = await rig.post(responses_body(), **{"x-switchyard-cache": "off"})
        assert "x-switchyard-cache" not in off.headers
        assert len(fake.requests) == 2


def _sse_types(text: str) -> list[str]:
    """The stream's event types, a run of deltas counted once (a live answer comes in
    as many deltas as the provider sent; a cached one in one)."""
    types: list[str] = []
    for line in text.splitlines():
        if line.startswith("data: "):
            kind = json.loads(line.removeprefix("data: "))["type"]
            if not (types and types[-1] == kind and kind.endswith(".delta")):
                types.append(kind)
    return types


async def test_a_streamed_request_is_served_from_a_non_streamed_answer(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    fixed_answers(fake)
    async with cache_rig(fake, tmp_path) as rig:
        live = await rig.post(responses_body("live, for comparison", stream=True))
        _, hit = await _twice(rig, responses_body(), responses_body(stream=True))
        assert hit.headers["x-switchyard-cache"] == "hit-exact"
        assert hit.headers["content-type"].startswith("text/event-stream")
        assert _sse_types(hit.text) == _sse_types(live.text)  # the live grammar, event for event
        assert len(fake.requests) == 2  # the live stream above, and the first non-streamed


async def test_a_non_streamed_request_is_served_from_a_streamed_answer(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    fixed_answers(fake)
    async with cache_rig(fake, tmp_path) as rig:
        _, hit = await _twice(rig, chat_body(stream=True), chat_body(), path="/v1/chat/completions")
        assert hit.headers["x-switchyard-cache"] == "hit-exact"
        body = hit.json()
        assert body["object"] == "chat.completion"
        assert body["choices"][0]["message"]["content"] == "cached answer"
        assert body["choices"][0]["finish_reason"] == "stop"
        assert len(fake.requests) == 1


async def test_requests_without_the_cache_meet_none_of_it(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    fixed_answers(fake)
    async with cache_rig(fake, tmp_path) as rig:
        for _ in range(2):
            response = await rig.post(responses_body(), key=ERIN)  # no policy, no header
            assert "x-switchyard-cache" not in response.headers
        assert len(fake.requests) == 2
        await rig.trail_flushed()
        assert rig.trail.rows("SELECT * FROM events WHERE kind LIKE 'cache.%'") == []
        assert rig.trail.rows("SELECT * FROM cache_entries") == []


async def test_anthropic_messages_requests_are_not_cached(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    fixed_answers(fake)
    body = {"model": "gpt-5.5", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}
    headers = {"x-api-key": ALICE, "anthropic-version": "2023-06-01", "x-switchyard-cache": "exact"}
    async with cache_rig(fake, tmp_path) as rig:
        for _ in range(2):
            response = await rig.client.post("/v1/messages", json=body, headers=headers)
            assert response.status_code == 200, response.text
            assert "x-switchyard-cache" not in response.headers
        assert len(fake.requests) == 2
