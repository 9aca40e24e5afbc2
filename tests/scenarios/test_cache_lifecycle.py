"""A cached answer's life through the real gateway: what is kept (complete answers only),
for how long (TTL, the size bound), across a restart, at what cost to the budget, and
what a hostile cache header gets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio

from fakes import FakeProviderServer, Fault, Reply, Text, Turn
from tests.gateway_rig import running_gateway
from tests.scenarios.cache_rig import (
    ALICE,
    COST,
    ERIN,
    USAGE,
    cache_config,
    cache_rig,
    chat_body,
    fixed_answers,
    responses_body,
)


async def test_a_hit_settles_its_budget_hold_at_zero(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    fixed_answers(fake)
    budget = "budgets:\n  - {level: virtual_key, id: alice, limit: 100, period: daily}\n"
    async with cache_rig(fake, tmp_path, extra=budget) as rig:
        await rig.post(responses_body())
        hit = await rig.post(responses_body())
        assert hit.headers["x-switchyard-cache"] == "hit-exact"
        accountant = rig.gateway.accountant
        assert accountant is not None
        with trio.fail_after(5):
            while accountant.statistics().settled < 2:
                await trio.sleep(0.05)
        stats = accountant.statistics()
        assert stats.reserved == 2 and stats.holds == 0
        [view] = stats.budgets
        assert view.spent_usd == pytest.approx(COST)  # the live answer only
        assert view.reserved_usd == 0.0


async def test_an_entry_expires_after_its_ttl(fake: FakeProviderServer, tmp_path: Path) -> None:
    fixed_answers(fake)
    async with cache_rig(fake, tmp_path) as rig:
        await rig.post(responses_body(), **{"x-switchyard-cache-ttl": "1s"})
        fresh = await rig.post(responses_body())
        assert fresh.headers["x-switchyard-cache"] == "hit-exact"
        await trio.sleep(1.1)
        stale = await rig.post(responses_body())
        assert stale.headers["x-switchyard-cache"] == "miss"
        assert len(fake.requests) == 2


async def test_a_request_can_refuse_entries_older_than_its_ttl(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    fixed_answers(fake)
    async with cache_rig(fake, tmp_path) as rig:
        await rig.post(responses_body())  # kept for the policy's hour
        await trio.sleep(1.1)
        young = await rig.post(responses_body(), **{"x-switchyard-cache-ttl": "1"})
        assert young.headers["x-switchyard-cache"] == "miss"
        assert len(fake.requests) == 2


async def test_the_size_bound_evicts_the_least_recently_used(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    fixed_answers(fake)
    async with cache_rig(fake, tmp_path, cache_extra="  max_entries: 2\n") as rig:
        for text in ("one", "two"):
            await rig.post(responses_body(text))
        assert (await rig.post(responses_body("one"))).headers["x-switchyard-cache"] == "hit-exact"
        await rig.post(responses_body("three"))  # evicts "two", used least recently
        assert (await rig.post(responses_body("one"))).headers["x-switchyard-cache"] == "hit-exact"
        await rig.wait_entries(2)  # the writer has applied the eviction
        stats = await rig.cache_statistics()
        assert (stats["entries"], stats["evictions"]) == (2, 1)
        assert (await rig.post(responses_body("two"))).headers["x-switchyard-cache"] == "miss"


async def test_entries_come_back_after_a_restart(fake: FakeProviderServer, tmp_path: Path) -> None:
    fixed_answers(fake)
    async with cache_rig(fake, tmp_path) as rig:
        first = await rig.post(responses_body())
        await rig.post(responses_body("short-lived"), **{"x-switchyard-cache-ttl": "1"})
    rows = rig.trail.rows("SELECT origin_request_id FROM cache_entries ORDER BY created_at")
    assert next(row["origin_request_id"] for row in rows) == first.headers["x-request-id"]
    assert len(rows) == 2
    await trio.sleep(1.1)
    async with cache_rig(fake, tmp_path) as rig:
        again = await rig.post(responses_body())
        assert again.headers["x-switchyard-cache"] == "hit-exact"
        expired = await rig.post(responses_body("short-lived"))
        assert expired.headers["x-switchyard-cache"] == "miss"
        assert len(fake.requests) == 3
        await rig.trail_flushed()
        hit = rig.events(again.headers["x-request-id"], "cache.hit")
        assert hit[0]["origin_request_id"] == first.headers["x-request-id"]
        assert hit[0]["cost_saved_usd"] == pytest.approx(COST)


@pytest.mark.parametrize(
    "turn",
    [
        Turn(fault=Fault(status=500)),
        Turn(reply=Reply(items=(Text(text="half an ans"),), usage=USAGE, finish="length")),
        Turn(reply=Reply(items=(Text(text="cut"),), usage=USAGE), fault=Fault(cut_after_events=3)),
        Turn(
            reply=Reply(items=(Text(text="x"),), usage=USAGE),
            fault=Fault(failed_event=("server_error", "boom")),
        ),
    ],
    ids=["error-status", "incomplete", "cut-stream", "failed-in-stream"],
)
async def test_only_complete_answers_are_kept(
    fake: FakeProviderServer, tmp_path: Path, turn: Turn
) -> None:
    fixed_answers(fake)
    async with cache_rig(fake, tmp_path) as rig:
        fake.enqueue(turn)
        await rig.post(responses_body(stream=True), settle=False)
        offered = 1 if turn.fault is None else 0  # a failed answer is not even offered
        await rig.wait_offers(offered)
        again = await rig.post(responses_body(stream=True))
        assert again.headers["x-switchyard-cache"] == "miss"
        assert len(fake.requests) == 2
        third = await rig.post(responses_body(stream=True))
        assert third.headers["x-switchyard-cache"] == "hit-exact"  # the good one was kept


_HOSTILE = [
    ("x-switchyard-cache", "yes"),
    ("x-switchyard-cache", "exact; drop table"),
    ("x-switchyard-cache", "x" * 5000),
    ("x-switchyard-cache-ttl", "-5"),
    ("x-switchyard-cache-ttl", "0"),
    ("x-switchyard-cache-ttl", "1e9"),
    ("x-switchyard-cache-ttl", "99999999999999999999"),
    ("x-switchyard-cache-ttl", "31d"),
    ("x-switchyard-cache-ttl", "soon"),
    ("x-switchyard-cache-threshold", "nan"),
    ("x-switchyard-cache-threshold", "inf"),
    ("x-switchyard-cache-threshold", "2"),
    ("x-switchyard-cache-threshold", "0.1"),
    ("x-switchyard-cache-threshold", "-0.9"),
    ("x-switchyard-cache-threshold", "high"),
]


@pytest.mark.parametrize(("header", "value"), _HOSTILE)
@pytest.mark.parametrize("path", ["/v1/responses", "/v1/chat/completions"])
async def test_a_wrong_cache_header_is_a_400_naming_it(
    fake: FakeProviderServer, tmp_path: Path, header: str, value: str, path: str
) -> None:
    fixed_answers(fake)
    body: dict[str, Any] = chat_body() if "chat" in path else responses_body()
    async with cache_rig(fake, tmp_path) as rig:
        for key in (ALICE, ERIN):  # with a policy, and opting in by header only
            response = await rig.post(body, key=key, path=path, **{header: value})
            assert response.status_code == 400, response.text
            error = response.json()["error"]
            assert error["param"] == header
            assert header in error["message"]
            assert error["type"] == "invalid_request_error"
        assert fake.requests == []


async def test_the_cache_starts_empty_on_a_fresh_database(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    fixed_answers(fake)
    async with running_gateway(cache_config(fake, tmp_path / "t.db")) as gateway:
        assert gateway.config.cache.policies[0].mode == "exact"
