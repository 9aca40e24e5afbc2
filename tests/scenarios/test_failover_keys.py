"""A provider's keys: rotated request by request; a key the provider rejects (401/403) or
reports as out of quota is benched, and the next key — or the next provider — is tried,
never the same key again."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from fakes import FakeProviderServer, Fault, open_fake_provider
from tests.gateway_rig import PROVIDER_KEY
from tests.scenarios.failover_rig import ENVIRON_TWO_KEYS, SECOND_KEY, gate, upstream

PRIMARY = 1_000_000_000
TWO_KEYS = ["${TEST_PROVIDER_KEY}", "${TEST_PROVIDER_KEY_2}"]
QUOTA = Fault(
    status=429,
    error_type="insufficient_quota",
    error_code="insufficient_quota",
    error_message="You exceeded your current quota",
)


@pytest.fixture
async def a(nursery: trio.Nursery) -> FakeProviderServer:
    return await open_fake_provider(nursery)


@pytest.fixture
async def b(nursery: trio.Nursery) -> FakeProviderServer:
    return await open_fake_provider(nursery)


def _keys_used(fake: FakeProviderServer) -> list[str]:
    return [str(r.header("authorization")).removeprefix("Bearer ") for r in fake.requests]


def _two_keys(fake: FakeProviderServer, **fields: object) -> dict[str, object]:
    provider = upstream(fake, "a", weight=PRIMARY, api_keys=TWO_KEYS, **fields)
    del provider["api_key"]
    return provider


async def test_keys_rotate_request_by_request(
    a: FakeProviderServer, b: FakeProviderServer, tmp_path: Path
) -> None:
    async with gate([_two_keys(a), upstream(b, "b")], tmp_path, environ=ENVIRON_TWO_KEYS) as g:
        for _ in range(4):
            assert (await g.chat()).status_code == 200
    assert _keys_used(a) == [PROVIDER_KEY, SECOND_KEY, PROVIDER_KEY, SECOND_KEY]


@pytest.mark.parametrize("fault", [Fault(status=401), Fault(status=403), QUOTA])
async def test_a_rejected_key_is_benched_and_the_next_key_serves(
    a: FakeProviderServer, b: FakeProviderServer, tmp_path: Path, fault: Fault
) -> None:
    a.enqueue(fault)
    retry = {"max_retries": 3, "key_bench_s": 60}
    providers = [_two_keys(a, retry=retry), upstream(b, "b")]
    async with gate(providers, tmp_path, environ=ENVIRON_TWO_KEYS) as g:
        first = await g.chat()
        attempts = await g.attempts(first)
        later = [await g.chat() for _ in range(3)]
    assert first.status_code == 200
    assert first.headers["x-switchyard-provider"] == "a"
    assert first.headers["x-switchyard-attempts"] == "2"
    assert attempts[1]["reason"].startswith("next key of a: key rejected")
    assert attempts[0]["key_id"] != attempts[1]["key_id"]
    assert all(response.status_code == 200 for response in later)
    # the benched key is not used again while it rests; the provider still is
    assert _keys_used(a) == [PROVIDER_KEY, SECOND_KEY, SECOND_KEY, SECOND_KEY, SECOND_KEY]
    assert len(b.requests) == 0


@pytest.mark.parametrize("fault", [Fault(status=401), QUOTA])
async def test_with_its_only_key_rejected_the_provider_is_failed_over_not_retried(
    a: FakeProviderServer, b: FakeProviderServer, tmp_path: Path, fault: Fault
) -> None:
    a.enqueue(fault)
    retry = {"max_retries": 3, "key_bench_s": 60}
    providers = [upstream(a, "a", weight=PRIMARY, retry=retry), upstream(b, "b")]
    async with gate(providers, tmp_path) as g:
        first = await g.chat()
        second = await g.chat()
        attempts = await g.attempts(second)
    assert first.headers["x-switchyard-provider"] == "b"
    assert second.headers["x-switchyard-provider"] == "b"
    assert (len(a.requests), len(b.requests)) == (1, 2)  # no retry of the rejected key
    assert [r["provider"] for r in attempts] == ["b"]
    assert attempts[0]["reason"] == "failover from a: every key is benched"


async def test_a_rejected_key_comes_back_after_its_rest(
    a: FakeProviderServer, b: FakeProviderServer, tmp_path: Path
) -> None:
    a.enqueue(Fault(status=401))
    retry = {"max_retries": 0, "key_bench_s": 0.3}
    providers = [upstream(a, "a", weight=PRIMARY, retry=retry), upstream(b, "b")]
    async with gate(providers, tmp_path) as g:
        assert (await g.chat()).headers["x-switchyard-provider"] == "b"
        await trio.sleep(0.35)
        assert (await g.chat()).headers["x-switchyard-provider"] == "a"


async def test_every_key_rejected_everywhere_is_a_502_not_the_clients_401(
    a: FakeProviderServer, b: FakeProviderServer, tmp_path: Path
) -> None:
    a.enqueue(Fault(status=401))
    b.enqueue(Fault(status=403))
    async with gate([upstream(a, "a", weight=PRIMARY), upstream(b, "b")], tmp_path) as g:
        response = await g.chat()
    assert response.status_code == 502
    assert response.json()["error"]["type"] == "upstream_error"
