"""Gateway replicas for the scale-out scenarios: separate ``switchyard serve`` processes
on one PostgreSQL database (``SWITCHYARD_TEST_PG_URL``), sharing a budget by leases."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa
import trio

from fakes import FakeProviderServer, Fault, Reply, Text, Turn
from storage import make_engine, migrate
from tests.gateway_rig import ADMIN_KEY, ENVIRON, config_yaml, openai_provider
from tests.scenarios.budget_rig import ALICE_KEY, FIXED_USAGE, alice, body
from tests.storage.conftest import reset_postgres

PG_URL = os.environ.get("SWITCHYARD_TEST_PG_URL")
needs_postgres = [
    pytest.mark.postgres,
    pytest.mark.skipif(PG_URL is None, reason="SWITCHYARD_TEST_PG_URL is not set"),
]


def fresh_postgres() -> str:
    assert PG_URL is not None
    reset_postgres(PG_URL)
    engine = make_engine(PG_URL)
    try:
        with engine.begin() as connection:
            for table in ("budget_leases", "budget_pools"):
                connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    finally:
        engine.dispose()
    migrate(PG_URL)
    return PG_URL


def replica_config(
    fake: FakeProviderServer,
    tmp_path: Path,
    url: str,
    *,
    limit: float,
    ttl_s: float = 15,
    budget: str | None = None,
    providers: list[dict[str, Any]] | None = None,
) -> Path:
    """``budget``: a budget as a YAML flow mapping's fields (default: alice's ``limit``,
    in total; with its own ``level`` and ``id``, any scope's)."""
    providers = providers or [openai_provider(fake.base_url)]
    text = config_yaml(providers, db_path=tmp_path / "unused.db", admin_key=ADMIN_KEY)
    text = text.replace(f'url: "sqlite:///{tmp_path / "unused.db"}"', f'url: "{url}"')
    text = text.replace(
        "server:\n",
        f"server:\n  shared_budgets: true\n  budget_lease_ttl_s: {ttl_s}\n",
    )
    text += ALICE_KEY
    fields = budget or f'limit: {limit}, period: "total"'
    if "level:" not in fields:
        fields = f'level: "virtual_key", id: "alice", {fields}'
    text += f"budgets:\n  - {{{fields}}}\n"

    path = tmp_path / "switchyard.yaml"
    path.write_text(text)
    return path


def slow_fixed_cost(fake: FakeProviderServer) -> None:
    """Every answer bills the fixed usage after 50 ms, so many are in flight at once."""
    fake.fallback = Turn(
        reply=Reply(items=(Text(text="ok"),), usage=FIXED_USAGE),
        fault=Fault(hang_before_headers_s=0.05),
    )


@contextmanager
def replica(config: Path, log_path: Path, *extra: str) -> Iterator[subprocess.Popen[bytes]]:
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "cli.main", "--log-json", "serve"),
                *("--config", str(config), "--port", "0", *extra),
            ],
            env={**os.environ, **ENVIRON},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


async def listening_urls(
    log_path: Path, process: subprocess.Popen[bytes], count: int = 1
) -> list[str]:
    with trio.fail_after(60):
        while True:
            urls = [
                str(orjson.loads(line)["url"])
                for line in log_path.read_text(errors="replace").splitlines()
                if line.startswith("{") and '"gateway listening"' in line
            ]
            if len(urls) >= count:
                return urls
            assert process.poll() is None, log_path.read_text()[-3000:]
            await trio.sleep(0.05)


@dataclass
class Load:
    """Clients spending alice's budget until every one of them is refused."""

    urls: list[str]
    statuses: Counter[int] = field(default_factory=Counter)
    answered: list[str] = field(default_factory=list)  # request ids of the 200s
    errors: int = 0
    refusal: int = 402  # the status that refuses a client: 402 (budget) or 429 (rate)

    async def run(self, clients: int, per_client: int) -> None:
        async with trio.open_nursery() as nursery:
            for number in range(clients):
                nursery.start_soon(self._client, number, per_client)

    async def _client(self, number: int, per_client: int) -> None:
        url = self.urls[number % len(self.urls)]
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            for n in range(per_client):
                try:
                    response = await client.post(
                        "/v1/responses", json=body(f"c{number:02}-{n}"), headers=alice()
                    )
                except httpx.TransportError:
                    self.errors += 1  # a killed replica
                    return
                self.statuses[response.status_code] += 1
                if response.status_code == 200:
                    self.answered.append(response.headers["x-request-id"])
                else:
                    assert response.status_code == self.refusal, response.text
                    if self.refusal == 429:
                        assert float(response.headers["retry-after"]) >= 0
                        return


def select(url: str, sql: str, **params: object) -> list[Any]:
    """The rows of one query against the shared database."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(sa.text(sql), params))
    finally:
        engine.dispose()


def trail_spend(url: str) -> tuple[float, int]:
    """(alice's completed spend, completed requests) from the shared trail."""
    [(spent, served)] = select(
        url,
        "SELECT COALESCE(SUM(cost_usd), 0), COUNT(*) FROM requests "
        "WHERE virtual_key = 'alice' AND status = 'completed'",
    )
    return float(spent), int(served)


def terminal_counts(url: str, request_ids: list[str]) -> Counter[int]:
    """How many terminal events each answered request has (should be 1 for all)."""
    rows = select(
        url,
        "SELECT request_id, COUNT(*) FROM events WHERE kind IN "
        "('response.completed', 'response.failed') GROUP BY request_id",
    )
    counts = {row[0]: row[1] for row in rows}
    return Counter(counts.get(request_id, 0) for request_id in request_ids)


def provider_spend(url: str) -> dict[str, float]:
    """What each provider billed, from the shared trail's attempts."""
    rows = select(
        url, "SELECT provider, COALESCE(SUM(cost_usd), 0) FROM attempts GROUP BY provider"
    )
    return {str(row[0]): float(row[1]) for row in rows}


def pool_totals(url: str, period: str) -> float:
    """What alice's pools of ``period`` hold, summed over their periods or steps."""
    [(total,)] = select(
        url,
        "SELECT COALESCE(SUM(allocated), 0) FROM budget_pools "
        "WHERE scope_id = 'alice' AND period = :period",
        period=period,
    )
    return float(total or 0.0)


def lease_rows(url: str) -> list[Any]:
    return select(url, "SELECT replica_id, granted, consumed FROM budget_leases")


NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)

_NGINX_CONF = """\
worker_processes 1;
pid {home}/nginx.pid;
error_log {home}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {home}/body;
    proxy_temp_path {home}/proxy;
    fastcgi_temp_path {home}/fastcgi;
    uwsgi_temp_path {home}/uwsgi;
    scgi_temp_path {home}/scgi;
    upstream switchyard {{
{servers}
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 16m;
        location / {{
            proxy_pass http://switchyard;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_read_timeout 300s;
        }}
    }}
}}
"""


@contextmanager
def nginx_in_front(urls: list[str], home: Path) -> Iterator[str]:
    """Debian's nginx on a free loopback port, balancing over ``urls``; its base URL."""
    assert NGINX is not None, "nginx is not installed (.ci/run installs it)"
    home.mkdir(parents=True, exist_ok=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    servers = "\n".join(f"        server {url.split('//', 1)[1]};" for url in urls)
    conf = home / "nginx.conf"
    conf.write_text(_NGINX_CONF.format(home=home, servers=servers, port=port))
    with (home / "stderr.log").open("wb") as stderr:
        process = subprocess.Popen(
            [NGINX, "-c", str(conf), "-p", str(home), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert process.poll() is None, (home / "stderr.log").read_text()
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@asynccontextmanager
async def replicas(
    config: Path, tmp_path: Path, count: int = 3
) -> AsyncIterator[tuple[list[subprocess.Popen[bytes]], list[str]]]:
    """``count`` replicas on ``config``: their processes and base URLs."""
    with ExitStack() as stack:
        logs = [tmp_path / f"replica-{n}.log" for n in range(count)]
        processes = [stack.enter_context(replica(config, log)) for log in logs]
        urls = [(await listening_urls(log, p))[0] for log, p in zip(logs, processes, strict=True)]
        yield processes, urls
