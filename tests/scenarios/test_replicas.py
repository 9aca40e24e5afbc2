"""Three gateway replicas on one PostgreSQL behind nginx, 32 clients spending one key's budget at
its edge: the budget holds across replicas (leases), every answered request has its
trail exactly once, and a replica killed with SIGKILL leaves the budget consistent once
its leases expire, within the stated bound. Also ``serve --workers 2`` on one port."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest
import trio
from prometheus_client.parser import text_string_to_metric_families

from actors.budget import PROVIDER_SHARE_S
from actors.cache import FOLLOW_S
from actors.metrics_peers import SHARE_S
from fakes import FakeProviderServer
from tests.gateway_rig import admin_auth, openai_provider
from tests.scenarios.budget_rig import COST, FIXED_USAGE, alice, body
from tests.scenarios.replica_rig import (
    Load,
    fresh_postgres,
    lease_rows,
    listening_urls,
    needs_postgres,
    nginx_in_front,
    pool_totals,
    provider_spend,
    replica,
    replica_config,
    replicas,
    slow_fixed_cost,
    terminal_counts,
    trail_spend,
)

pytestmark = needs_postgres

LIMIT = 4.0  # 500 requests of $0.008; a lease slice is 1 % of it: $0.04, five requests
CLIENTS, PER_CLIENT = 32, 20  # 640 asks: the budget runs out before they do
BUDGET = ("virtual_key", "alice", "total")


@pytest.mark.parametrize("period", ["total", "1h"])  # a calendar pool; a rolling window's
async def test_three_replicas_hold_one_budget_and_write_each_trail_once(
    fake: FakeProviderServer, tmp_path: Path, period: str
) -> None:
    url = fresh_postgres()
    slow_fixed_cost(fake)
    budget = f'limit: {LIMIT}, period: "{period}"'
    config = replica_config(fake, tmp_path, url, limit=LIMIT, budget=budget)
    async with replicas(config, tmp_path) as (_, urls):
        with nginx_in_front(urls, tmp_path / "nginx") as balanced:
            load = Load([balanced])  # every client through nginx, as deployed
            await load.run(CLIENTS, PER_CLIENT)
    spent, served = trail_spend(url)
    print(
        f"\n3 replicas x {CLIENTS} clients, {period}: limit ${LIMIT:.2f}, spent ${spent:.4f} "
        f"({served} answered), overspend ${max(0.0, spent - LIMIT):.4f}, "
        f"refused {load.statuses[402]}"
    )
    assert load.errors == 0
    assert load.statuses[200] == served == len(load.answered)
    assert load.statuses[402] > 0
    assert spent <= LIMIT + 1e-9  # estimates cover the billed cost: no overspend at all
    assert spent >= LIMIT - 3 * 2 * 0.01 * LIMIT  # at most two slices idle per replica
    assert spent == pytest.approx(served * COST, rel=1e-9)
    assert terminal_counts(url, load.answered) == {1: len(load.answered)}
    assert lease_rows(url) == []  # every replica gave its leases back when it stopped
    assert pool_totals(url, period) == pytest.approx(spent, abs=1e-9)


RPM = 300  # a slice is 3 requests


async def test_three_replicas_hold_one_rate_limit(fake: FakeProviderServer, tmp_path: Path) -> None:
    url = fresh_postgres()
    slow_fixed_cost(fake)
    budget = f'requests_per_minute: {RPM}, tokens_per_minute: 100000000, period: "total"'
    config = replica_config(fake, tmp_path, url, limit=LIMIT, budget=budget)
    async with replicas(config, tmp_path) as (_, urls):
        with nginx_in_front(urls, tmp_path / "nginx") as balanced:
            load = Load([balanced], refusal=429)  # each client stops at its first 429
            started = time.monotonic()
            await load.run(CLIENTS, PER_CLIENT)
            took = time.monotonic() - started
    served = load.statuses[200]
    print(
        f"\n3 replicas x {CLIENTS} clients: {RPM} requests per minute, "
        f"{served} answered in {took:.1f} s, refused {load.statuses[429]}"
    )
    assert took < 50  # all inside one window: the limit is the bound
    assert load.errors == 0
    assert served <= RPM
    assert served >= RPM - 3 * 2 * 3  # at most two slices idle per replica
    assert load.statuses[429] == CLIENTS
    assert terminal_counts(url, load.answered) == {1: served}
    assert lease_rows(url) == []
    assert pool_totals(url, "requests/minute") == pytest.approx(served)
    # tokens: each admitted at its input estimate, corrected to what it used when settled;
    # a request settled after its replica's accountant stopped (the last ones of its
    # shutdown) keeps its estimate: at most its output short, for at most each client
    used = served * (FIXED_USAGE.input_tokens + FIXED_USAGE.output_tokens)
    pooled = pool_totals(url, "tokens/minute")
    print(f"tokens per minute pooled: {pooled:.0f} of {used} used")
    assert used - CLIENTS * FIXED_USAGE.output_tokens <= pooled <= used


PROVIDER_LIMIT = 1.6  # 200 answers of $0.008 from the primary


async def test_three_replicas_share_a_providers_budget(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    """The router skips a provider whose budget all replicas together spent: each adds
    its spend to the provider's pool every PROVIDER_SHARE_S and reads the others'."""
    url = fresh_postgres()
    slow_fixed_cost(fake)
    providers = [
        openai_provider(fake.base_url, id="primary", weight=1000),
        openai_provider(fake.base_url, id="backup", weight=1),
    ]
    budget = f'level: "provider", id: "primary", limit: {PROVIDER_LIMIT}, period: "daily"'
    config = replica_config(fake, tmp_path, url, limit=LIMIT, budget=budget, providers=providers)
    async with replicas(config, tmp_path) as (_, urls):
        load = Load(urls)
        started = time.monotonic()
        await load.run(12, 40)
        took = time.monotonic() - started
    spent = provider_spend(url)
    rate_usd = load.statuses[200] * COST / took
    # the others learn of a charge within two sharing intervals; 12 requests in flight
    bound = rate_usd * 2 * PROVIDER_SHARE_S + 12 * COST
    print(
        f"\n3 replicas x 12 clients, provider budget ${PROVIDER_LIMIT:.2f}: primary spent "
        f"${spent['primary']:.3f} (over by ${max(0.0, spent['primary'] - PROVIDER_LIMIT):.3f}, "
        f"bound ${bound:.3f} at ${rate_usd:.2f}/s), backup ${spent.get('backup', 0.0):.3f}"
    )
    assert load.errors == 0 and load.statuses[200] == 480
    assert spent["primary"] >= PROVIDER_LIMIT
    assert spent["primary"] <= PROVIDER_LIMIT + bound  # each replica alone would spend 3x
    assert spent["backup"] > 0


# httpx leaves a request body's generator unfinished when the server dies under it
@pytest.mark.filterwarnings("ignore:Exception ignored in. <async_generator object ByteStream")
async def test_a_replica_killed_mid_run_leaves_the_budget_within_the_bound(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    url = fresh_postgres()
    slow_fixed_cost(fake)
    config = replica_config(fake, tmp_path, url, limit=LIMIT, ttl_s=2)
    async with replicas(config, tmp_path) as (processes, urls):
        doomed = processes[0]
        load = Load(urls)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(load.run, CLIENTS, PER_CLIENT)
            while load.statuses[200] < 100:
                await trio.sleep(0.02)
            held = {row[0]: row[1] - row[2] for row in lease_rows(url)}
            doomed.send_signal(signal.SIGKILL)
            doomed.wait()
        # the survivors settle the dead replica's leases once they expire (2 s)
        with trio.fail_after(20):
            while len({row[0] for row in lease_rows(url)}) > 2:
                await trio.sleep(0.2)
        later = Load(urls[1:])
        await later.run(8, 10)  # spend what the dead replica's leases gave back
    spent, _ = trail_spend(url)
    # the bound: what the killed replica held leased and had not reported consumed
    bound = max(held.values(), default=0.0) + 0.01 * LIMIT
    print(
        f"\nSIGKILL of 1 of 3 replicas: limit ${LIMIT:.2f}, spent ${spent:.4f}, "
        f"overspend ${max(0.0, spent - LIMIT):.4f}, bound ${bound:.4f}"
    )
    assert spent <= LIMIT + bound
    assert later.statuses[402] > 0  # the budget ends, it is not leaked away
    assert lease_rows(url) == []


async def test_two_workers_share_a_port_the_trail_and_the_budget(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    url = fresh_postgres()
    slow_fixed_cost(fake)
    config = replica_config(fake, tmp_path, url, limit=1.0)
    log = tmp_path / "workers.log"
    with replica(config, log, "--workers", "2") as parent:
        urls = await listening_urls(log, parent, count=2)
        assert len(set(urls)) == 1  # one port
        load = Load(urls[:1])
        await load.run(16, 12)
        replicas = {row[0] for row in lease_rows(url)}
        await trio.sleep(SHARE_S + 0.5)  # every worker has written its counts since
        scrapes = [await requests_total(urls[0]) for _ in range(6)]  # either may answer
        tiles = [await overview_requests(urls[0]) for _ in range(6)]
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=60) == 0
    spent, served = trail_spend(url)
    assert len(replicas) == 2  # both workers served and leased
    assert load.statuses[200] == served and load.statuses[402] > 0
    assert spent <= 1.0 + 1e-9
    assert terminal_counts(url, load.answered) == {1: len(load.answered)}
    assert lease_rows(url) == []
    # /metrics counts both workers' requests, whichever of them answers the scrape
    assert scrapes == [16 * 12] * 6
    assert tiles == [16 * 12] * 6  # the dashboard's live tiles too


async def requests_total(url: str) -> float:
    """``switchyard_requests_total`` summed over its series, from one scrape."""
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{url}/metrics", headers=admin_auth())
    assert response.status_code == 200, response.text
    families = text_string_to_metric_families(response.text)
    [requests] = [family for family in families if family.name == "switchyard_requests"]
    return sum(sample.value for sample in requests.samples if sample.name.endswith("_total"))


async def overview_requests(url: str) -> int:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{url}/admin/api/overview", headers=admin_auth())
    assert response.status_code == 200, response.text
    return int(response.json()["requests_total"])


async def _switchyard(*args: str) -> str:
    done = await trio.run_process(
        [sys.executable, "-m", "cli.main", *args], capture_stdout=True, capture_stderr=True
    )
    return done.stdout.decode()


async def _seconds_until(urls: list[str], secret: str, status: int) -> list[float]:
    """For each replica, how long until a request with ``secret`` gets ``status``."""
    started = time.monotonic()
    waits = []
    async with httpx.AsyncClient(timeout=20) as client:
        for url in urls:
            with trio.fail_after(15):
                while True:
                    response = await client.post(
                        f"{url}/v1/responses",
                        json=body("hello"),
                        headers={"authorization": f"Bearer {secret}"},
                    )
                    if response.status_code == status:
                        break
                    await trio.sleep(0.05)
            waits.append(time.monotonic() - started)
    return waits


async def test_keys_and_budgets_set_with_the_cli_reach_every_replica_within_seconds(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    url = fresh_postgres()
    slow_fixed_cost(fake)
    config = replica_config(fake, tmp_path, url, limit=LIMIT)
    async with replicas(config, tmp_path) as (_, urls):
        created = orjson.loads(
            await _switchyard(
                "keys", "create", "--name", "ci", "--account", "dev", "--db", url, "--json"
            )
        )[0]
        secret, key_id = created["secret"], created["id"]
        key_works = await _seconds_until(urls, secret, 200)
        await _switchyard(
            "budgets", "set", "--level", "virtual_key", "--id", key_id,
            "--period", "total", "--limit", "0.000001", "--db", url,
        )  # fmt: skip
        budget_applies = await _seconds_until(urls, secret, 402)
        await _switchyard("keys", "revoke", key_id, "--db", url)
        revoked = await _seconds_until(urls, secret, 401)
    print(
        f"\nCLI change seen by all 3 replicas after: key {max(key_works):.2f} s, "
        f"budget {max(budget_applies):.2f} s, revocation {max(revoked):.2f} s"
    )
    assert max(key_works + budget_applies + revoked) < 5.0


async def test_an_answer_cached_by_one_replica_is_served_by_another(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    url = fresh_postgres()
    slow_fixed_cost(fake)
    config = replica_config(fake, tmp_path, url, limit=LIMIT)
    headers = {**alice(), "x-switchyard-cache": "exact"}
    request = body("what does git rebase --onto do?")
    async with replicas(config, tmp_path, count=2) as (_, (first, second)):
        async with httpx.AsyncClient(timeout=20) as client:
            stored = await client.post(f"{first}/v1/responses", json=request, headers=headers)
            assert stored.headers["x-switchyard-cache"] == "miss"
            calls = len(fake.requests)
            await trio.sleep(2 * FOLLOW_S + 1)  # the other replica's poll has run
            again = await client.post(f"{second}/v1/responses", json=request, headers=headers)
    assert again.headers["x-switchyard-cache"] == "hit-exact"
    assert again.status_code == 200 and again.json()["output"]
    assert len(fake.requests) == calls  # served without asking the provider
