"""The request's total deadline bounds everything: attempts, retries, waits and failovers."""

from __future__ import annotations

from pathlib import Path

import trio

from fakes import Fault, Turn, open_fake_provider
from tests.scenarios.failover_rig import gate, upstream

PRIMARY = 1_000_000_000


async def test_the_total_deadline_holds_across_failovers(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    a, b, c = [await open_fake_provider(nursery) for _ in range(3)]
    for fake in (a, b, c):
        fake.fallback = Turn(fault=Fault(hang_before_headers_s=20))
    timeouts = {"first_byte_s": 0.6, "idle_s": 5, "total_s": 1.0}
    retry = {"max_retries": 3, "backoff_base_s": 0.01, "backoff_max_s": 0.05}
    providers = [
        upstream(a, "a", weight=PRIMARY, timeouts=timeouts, retry=retry),
        upstream(b, "b", weight=2, timeouts=timeouts, retry=retry),
        upstream(c, "c", weight=1, timeouts=timeouts, retry=retry),
    ]
    async with gate(providers, tmp_path) as g:
        started = trio.current_time()
        response = await g.chat()
        elapsed = trio.current_time() - started
        attempts = await g.attempts(response)
    assert response.status_code == 504
    assert 1.0 <= elapsed < 1.6, elapsed
    assert [r["provider"] for r in attempts] == ["a", "a"]  # the retry is cut by the deadline
    assert [r["outcome"] for r in attempts] == ["timeout", "timeout"]
    assert "total deadline" in attempts[-1]["error_message"]
    assert len(b.requests) == len(c.requests) == 0


async def test_a_retry_wait_past_the_deadline_fails_over_instead(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    a, b = await open_fake_provider(nursery), await open_fake_provider(nursery)
    a.enqueue(Fault(status=429, retry_after="5"))
    timeouts = {"first_byte_s": 5, "idle_s": 5, "total_s": 2}
    retry = {"max_retries": 1, "max_retry_after_s": 30}
    providers = [
        upstream(a, "a", weight=PRIMARY, timeouts=timeouts, retry=retry),
        upstream(b, "b", timeouts=timeouts),
    ]
    async with gate(providers, tmp_path) as g:
        with trio.fail_after(1.5):
            response = await g.chat()
        attempts = await g.attempts(response)
    assert response.headers["x-switchyard-provider"] == "b"
    assert attempts[1]["reason"].endswith("no time left")
    assert (len(a.requests), len(b.requests)) == (1, 1)
