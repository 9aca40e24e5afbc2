"""Retries and failover, counted at the fakes: each fault leads to the right number of
attempts at the right providers, the trail records every attempt and why it happened,
and when everything fails the client gets the most useful error.

Provider ``a`` is the primary in every test here (weight 10⁹ against 1)."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from fakes import FakeProviderServer, Fault, Turn, open_fake_provider
from tests.scenarios.failover_rig import closed_port_url, gate, upstream
from tests.scenarios.translation_rig import provider_for

PRIMARY = 1_000_000_000


@pytest.fixture
async def a(nursery: trio.Nursery) -> FakeProviderServer:
    return await open_fake_provider(nursery)


@pytest.fixture
async def b(nursery: trio.Nursery) -> FakeProviderServer:
    return await open_fake_provider(nursery)


def _retrying(retries: int, **fields: object) -> dict[str, object]:
    return {"max_retries": retries, "backoff_base_s": 0.01, "backoff_max_s": 0.05, **fields}


async def test_429_with_retry_after_retries_the_same_provider_after_that_delay(
    a: FakeProviderServer, b: FakeProviderServer, tmp_path: Path
) -> None:
    a.enqueue(Fault(status=429, retry_after="0.3"))
    providers = [upstream(a, "a", weight=PRIMARY, retry=_retrying(1)), upstream(b, "b")]
    async with gate(providers, tmp_path) as g:
        response = await g.chat()
        assert response.status_code == 200
        assert response.headers["x-switchyard-provider"] == "a"
        assert response.headers["x-switchyard-attempts"] == "2"
        attempts = await g.attempts(response)
    assert (len(a.requests), len(b.requests)) == (2, 0)
    assert a.requests[1].received_at - a.requests[0].received_at >= 0.3
    assert [row["outcome"] for row in attempts] == ["rate_limited", "ok"]
    assert [row["reason"] for row in attempts] == [
        "primary",
        "retry 1 of a: rate_limited rate_limit_exceeded, retry-after 0.3s",
    ]


async def test_429_without_retry_after_backs_off_and_retries(
    a: FakeProviderServer, b: FakeProviderServer, tmp_path: Path
) -> None:
    a.enqueue(Fault(status=429))
    providers = [upstream(a, "a", weight=PRIMARY, retry=_retrying(1)), upstream(b, "b")]
    async with gate(providers, tmp_path) as g:
        response = await g.chat()
        attempts = await g.attempts(response)
    assert response.headers["x-switchyard-provider"] == "a"
    assert (len(a.requests), len(b.requests)) == (2, 0)
    assert "backoff" in attempts[1]["reason"]


@pytest.mark.parametrize(
    ("status", "outcome"), [(500, "upstream_error"), (503, "overloaded"), (529, "overloaded")]
)
async def test_server_errors_retry_then_fail_over(
    a: FakeProviderServer, b: FakeProviderServer, tmp_path: Path, status: int, outcome: str
) -> None:
    a.fallback = Turn(fault=Fault(status=status))
    providers = [upstream(a, "a", weight=PRIMARY, retry=_retrying(1)), upstream(b, "b")]
    async with gate(providers, tmp_path) as g:
        response = await g.chat()
        assert response.status_code == 200
        assert response.headers["x-switchyard-provider"] == "b"
        assert response.headers["x-switchyard-attempts"] == "3"
        attempts = await g.attempts(response)
        row = await g.finished(response.headers["x-request-id"])
    assert (len(a.requests), len(b.requests)) == (2, 1)
    assert [(r["provider"], r["outcome"]) for r in attempts] == [
        ("a", outcome),
        ("a", outcome),
        ("b", "ok"),
    ]
    assert attempts[0]["reason"] == "primary"
    assert attempts[1]["reason"].startswith(f"retry 1 of a: {outcome}")
    assert attempts[2]["reason"].startswith(f"failover from a: {outcome}")
    assert attempts[2]["reason"].endswith("no retries left")
    assert (row["provider"], row["attempts"], row["status"]) == ("b", 3, "completed")


async def test_connection_refused_fails_over(b: FakeProviderServer, tmp_path: Path) -> None:
    providers = [upstream(closed_port_url(), "a", weight=PRIMARY), upstream(b, "b")]
    async with gate(providers, tmp_path) as g:
        response = await g.chat()
        attempts = await g.attempts(response)
    assert response.headers["x-switchyard-provider"] == "b"
    assert [r["outcome"] for r in attempts] == ["upstream_error", "ok"]
    assert "could not connect" in attempts[0]["error_message"]
    assert len(b.requests) == 1


async def test_a_hang_before_the_first_byte_times_out_and_fails_over(
    a: FakeProviderServer, b: FakeProviderServer, tmp_path: Path
) -> None:
    a.fallback = Turn(fault=Fault(hang_before_headers_s=20))
    timeouts = {"first_byte_s": 0.3, "idle_s": 5, "total_s": 30}
    providers = [upstream(a, "a", weight=PRIMARY, timeouts=timeouts), upstream(b, "b")]
    async with gate(providers, tmp_path) as g:
        started = trio.current_time()
        response = await g.chat()
        elapsed = trio.current_time() - started
        attempts = await g.attempts(response)
    assert response.headers["x-switchyard-provider"] == "b"
    assert 0.3 <= elapsed < 3
    assert [r["outcome"] for r in attempts] == ["timeout", "ok"]
    assert "no first byte within 0.3s" in attempts[0]["error_message"]


async def test_a_retry_after_beyond_the_cap_fails_over_at_once(
    a: FakeProviderServer, b: FakeProviderServer, tmp_path: Path
) -> None:
    a.enqueue(Fault(status=429, retry_after="20"))
    retry = _retrying(3, max_retry_after_s=2)
    providers = [upstream(a, "a", weight=PRIMARY, retry=retry), upstream(b, "b")]
    async with gate(providers, tmp_path) as g:
        with trio.fail_after(3):
            response = await g.chat()
        attempts = await g.attempts(response)
    assert response.headers["x-switchyard-provider"] == "b"
    assert (len(a.requests), len(b.requests)) == (1, 1)
    assert "over the 2s cap" in attempts[1]["reason"]


@pytest.mark.parametrize("status", [400, 404, 413, 422])
async def test_the_requests_own_fault_goes_back_without_failover(
    a: FakeProviderServer, b: FakeProviderServer, tmp_path: Path, status: int
) -> None:
    a.enqueue(Fault(status=status))
    providers = [upstream(a, "a", weight=PRIMARY, retry=_retrying(2)), upstream(b, "b")]
    async with gate(providers, tmp_path) as g:
        response = await g.chat()
        attempts = await g.attempts(response)
    assert response.status_code == status
    assert (len(a.requests), len(b.requests)) == (1, 0)
    assert len(attempts) == 1


async def test_when_all_fail_a_rate_limit_wins_with_its_retry_after(
    a: FakeProviderServer, b: FakeProviderServer, tmp_path: Path
) -> None:
    a.enqueue(Fault(status=500))
    b.enqueue(Fault(status=429, retry_after="3"))
    providers = [upstream(a, "a", weight=PRIMARY), upstream(b, "b")]
    async with gate(providers, tmp_path) as g:
        response = await g.chat()
        row = await g.finished(response.headers["x-request-id"])
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert response.headers["x-switchyard-attempts"] == "2"
    assert response.json()["error"]["code"] == "rate_limit_exceeded"
    assert (row["status"], row["http_status"], row["attempts"]) == ("failed", 429, 2)


async def test_when_all_fail_a_429_without_delay_still_tells_codex_to_wait(
    a: FakeProviderServer, b: FakeProviderServer, tmp_path: Path
) -> None:
    a.enqueue(Fault(status=429))
    b.enqueue(Fault(status=500))
    providers = [upstream(a, "a", weight=PRIMARY), upstream(b, "b")]
    async with gate(providers, tmp_path) as g:
        response = await g.chat()
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1


async def test_when_all_fail_without_a_rate_limit_the_last_error_is_shown(
    a: FakeProviderServer, b: FakeProviderServer, tmp_path: Path
) -> None:
    a.enqueue(Fault(status=500))
    b.enqueue(Fault(status=503))
    providers = [upstream(a, "a", weight=PRIMARY), upstream(b, "b")]
    async with gate(providers, tmp_path) as g:
        response = await g.chat()
    assert response.status_code == 503
    assert response.headers["x-switchyard-attempts"] == "2"


async def test_a_gemini_429_is_retried_after_its_retry_delay(
    a: FakeProviderServer, b: FakeProviderServer, tmp_path: Path
) -> None:
    """Gemini states the delay in the error body (``RetryInfo.retryDelay``)."""
    a.enqueue(Fault(status=429, retry_after="0.3"))
    primary = {**provider_for("gemini", a, weight=PRIMARY, retry=_retrying(1)), "id": "a"}
    async with gate([primary, upstream(b, "b")], tmp_path) as g:
        response = await g.chat()
        attempts = await g.attempts(response)
    assert response.headers["x-switchyard-provider"] == "a"
    assert (len(a.requests), len(b.requests)) == (2, 0)
    assert a.requests[1].received_at - a.requests[0].received_at >= 0.3
    assert "retry-after 0.3s" in attempts[1]["reason"]
