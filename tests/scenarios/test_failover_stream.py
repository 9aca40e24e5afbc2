"""Never switch provider after the first byte reached the client: from then on a failure
is reported in the stream. Before the first byte, switching is fine."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from fakes import FakeProviderServer, Fault, Turn, open_fake_provider
from tests.scenarios.failover_rig import gate, sse_events, upstream

PRIMARY = 1_000_000_000
RETRY = {"max_retries": 2, "backoff_base_s": 0.01, "backoff_max_s": 0.05}


@pytest.fixture
async def a(nursery: trio.Nursery) -> FakeProviderServer:
    return await open_fake_provider(nursery)


@pytest.fixture
async def b(nursery: trio.Nursery) -> FakeProviderServer:
    return await open_fake_provider(nursery)


@pytest.mark.parametrize(
    "fault",
    [
        Fault(cut_after_events=3),
        Fault(hang_after_events=3),
        Fault(failed_event=("server_error", "the model fell over")),
    ],
    ids=["cut", "idle-timeout", "failed-event"],
)
async def test_a_failure_after_the_first_byte_stays_in_the_stream(
    a: FakeProviderServer, b: FakeProviderServer, tmp_path: Path, fault: Fault
) -> None:
    a.fallback = Turn(fault=fault)
    timeouts = {"first_byte_s": 5, "idle_s": 0.3, "total_s": 30}
    providers = [
        upstream(a, "a", weight=PRIMARY, retry=RETRY, timeouts=timeouts),
        upstream(b, "b", timeouts=timeouts),
    ]
    async with gate(providers, tmp_path) as g:
        response = await g.stream()
        attempts = await g.attempts(response)
        row = await g.finished(response.headers["x-request-id"])
    assert response.status_code == 200
    assert response.headers["x-switchyard-provider"] == "a"
    events = sse_events(response)
    assert events[0]["type"] == "response.created"
    assert events[-1]["type"] == "response.failed"
    assert "response.completed" not in {event["type"] for event in events}
    assert (len(a.requests), len(b.requests)) == (1, 0)  # no retry, no second provider
    assert len(attempts) == 1
    assert (row["status"], row["provider"], row["attempts"]) == ("failed", "a", 1)


async def test_a_stream_cut_before_any_event_fails_over(
    a: FakeProviderServer, b: FakeProviderServer, tmp_path: Path
) -> None:
    a.enqueue(Fault(cut_after_events=0))
    providers = [upstream(a, "a", weight=PRIMARY), upstream(b, "b")]
    async with gate(providers, tmp_path) as g:
        response = await g.stream()
        attempts = await g.attempts(response)
    assert response.headers["x-switchyard-provider"] == "b"
    assert sse_events(response)[-1]["type"] == "response.completed"
    assert (len(a.requests), len(b.requests)) == (1, 1)
    assert [r["provider"] for r in attempts] == ["a", "b"]
