"""Numbers from a hostile provider, through the real gateway: absurd token counts are
recorded as ``attempt.anomaly`` events and never lower spend; a ``Retry-After`` of any
shape gives the client a bounded one; a request the provider may have received is
re-sent only when the policy allows it, and the trail says so."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from fakes import FakeProviderServer, Fault, Turn, open_fake_provider
from routing.retry import MAX_RETRY_AFTER_S, RESEND_NOTE
from tests.gateway_rig import auth
from tests.scenarios.hostile_rig import ENDPOINTS, KINDS, body, hostile

ABSURD = ["-5", "1e20", '"x"', "1.5", "true", "18446744073709551615", "{}"]


@pytest.fixture
async def calm(nursery: trio.Nursery) -> FakeProviderServer:
    return await open_fake_provider(nursery)


def _spend(trail_rows: list[object]) -> float:
    return sum(float(row["cost_usd"] or 0.0) for row in trail_rows)  # type: ignore[index]


async def test_absurd_usage_is_an_anomaly_and_never_lowers_spend(
    fake: FakeProviderServer, calm: FakeProviderServer, tmp_path: Path
) -> None:
    async with hostile(fake, calm, tmp_path) as g:
        spent = 0.0
        for value in ABSURD:
            for kind in KINDS:
                for endpoint in ENDPOINTS:
                    for stream in (True, False):
                        fake.enqueue(Turn(fault=Fault(usage_value=value)))
                        seen = await g.send(endpoint, kind, stream)
                        assert seen.status == 200 and seen.completed, (value, kind, seen)
                        anomalies = g.payloads(seen.request_id, "attempt.anomaly")
                        assert anomalies, (value, kind, endpoint, stream)
                        assert {a["provider_id"] for a in anomalies} == {f"fake-{kind}"}
                        assert all(len(a["value"]) <= 64 and a["field"] for a in anomalies)
                        row = seen.row
                        for column in ("input_tokens", "output_tokens", "reasoning_tokens"):
                            assert 0 <= row[column] < 3_000_000_000, (column, row[column])
                        assert row["cost_usd"] is None or row["cost_usd"] >= 0
                        now = _spend(g.trail.rows("SELECT cost_usd FROM requests"))
                        assert now >= spent
                        spent = now
        assert (await g.client.get("/healthz")).status_code == 200


BAD_RETRY_AFTER = ["inf", "nan", "-5", "1e400", "soon", "Wed, 21 Oct 2015 07:28:00 GMT", "1e12"]


@pytest.mark.parametrize("value", BAD_RETRY_AFTER)
async def test_any_retry_after_gives_the_client_a_bounded_one(
    fake: FakeProviderServer, calm: FakeProviderServer, tmp_path: Path, value: str
) -> None:
    retry = {"max_retries": 1, "backoff_base_s": 0.01, "backoff_max_s": 0.02}
    fake.fallback = Turn(fault=Fault(status=429, retry_after=value))
    async with hostile(fake, calm, tmp_path, retry=retry) as g:
        for kind in ("openai", "anthropic", "gemini", "cohere"):
            for endpoint in ENDPOINTS:
                with trio.fail_after(10):  # a NaN or huge delay must never be slept on
                    seen = await g.send(endpoint, kind, stream=True)
                assert seen.status == 429, (kind, seen)
                assert seen.kinds[-1] == "response.failed"
                response = await g.client.post(
                    endpoint, json=body(endpoint, kind, False), headers=auth()
                )
                assert response.status_code == 429
                assert 1 <= int(response.headers["retry-after"]) <= MAX_RETRY_AFTER_S


async def test_a_request_the_provider_may_have_is_resent_only_as_the_policy_says(
    fake: FakeProviderServer, calm: FakeProviderServer, tmp_path: Path
) -> None:
    """The fake reads the request on a reused keep-alive connection, then closes it."""
    retry = {"max_retries": 1, "backoff_base_s": 0.01, "backoff_max_s": 0.02}
    async with hostile(fake, calm, tmp_path, retry=retry) as g:
        assert (await g.send("/v1/chat/completions", "openai", stream=False)).status == 200
        fake.enqueue(Turn(fault=Fault(close_before_response=True)))
        before = len(fake.requests)
        seen = await g.send("/v1/chat/completions", "openai", stream=False)
        assert seen.status == 200  # resent (the default policy), and the trail says why
        assert len(fake.requests) - before == 2  # the provider saw it twice: visibly
        started = g.payloads(seen.request_id, "attempt.started")
        assert [s["attempt"] for s in started] == [1, 2]
        assert RESEND_NOTE in started[1]["reason"]


async def test_with_resend_unanswered_off_the_request_is_sent_once(
    fake: FakeProviderServer, calm: FakeProviderServer, tmp_path: Path
) -> None:
    retry = {"max_retries": 1, "backoff_base_s": 0.01, "resend_unanswered": "false"}
    async with hostile(fake, calm, tmp_path, retry=retry) as g:
        for stream in (False, True):
            assert (await g.send("/v1/responses", "openai", stream=stream)).status == 200
            fake.enqueue(Turn(fault=Fault(close_before_response=True)))
            before = len(fake.requests)
            seen = await g.send("/v1/responses", "openai", stream=stream)
            assert seen.status == 502 and seen.kinds[-1] == "response.failed"
            assert len(fake.requests) - before == 1  # never re-sent, not even silently
            assert len(g.payloads(seen.request_id, "attempt.started")) == 1
        # a provider that answered (503) did not act on the request: that is still retried
        fake.enqueue(Turn(fault=Fault(status=503)))
        seen = await g.send("/v1/responses", "openai", stream=False)
        assert seen.status == 200 and len(g.payloads(seen.request_id, "attempt.started")) == 2
