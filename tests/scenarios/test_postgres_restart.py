"""PostgreSQL stopped and started again under load: the gateway keeps serving, holds the
trail, catches up, and every answered request has its full trail.

The test runs its own throwaway cluster (``initdb`` in a temporary directory, on a free
port, from the same PostgreSQL binaries CI installs), so the restart touches no other
server. It runs where the PostgreSQL suite runs (``SWITCHYARD_TEST_PG_URL`` set).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import trio

from fakes import FakeProviderServer
from tests.gateway_rig import config_yaml, make_config, openai_provider, running_gateway
from tests.scenarios.db_fault_rig import (
    Load,
    assert_full_trails,
    assert_sheds_say_when,
    matrix,
    wait_caught_up,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("SWITCHYARD_TEST_PG_URL"), reason="SWITCHYARD_TEST_PG_URL is not set"
    ),
]
DOWN_S = 3.0


class Cluster:
    """A private PostgreSQL cluster: ``pg_ctl`` on its own data directory only."""

    def __init__(self, bindir: Path, datadir: Path, port: int) -> None:
        self.bindir, self.datadir, self.port = bindir, datadir, port
        self.url = f"postgresql+psycopg://switchyard@127.0.0.1:{port}/postgres"

    def pg_ctl(self, *args: str) -> None:
        command = [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-w", *args]
        subprocess.run(_as_owner(command), check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.datadir}"
        self.pg_ctl("-o", options, "-l", str(self.datadir / "server.log"), "start")

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "stop")


def _as_owner(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as ``postgres`` then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def private_cluster() -> Iterator[Cluster]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.skip("no PostgreSQL server binaries (Debian's postgresql package)")
    bindir = Path(found[-1]).parent
    datadir = Path(tempfile.mkdtemp(prefix="switchyard-pg-"))
    if os.geteuid() == 0:
        shutil.chown(datadir, "postgres", "postgres")
    cluster = Cluster(bindir, datadir, _free_port())
    subprocess.run(
        _as_owner([str(bindir / "initdb"), "-D", str(datadir), "-U", "switchyard", "-A", "trust"]),
        check=True,
        capture_output=True,
        timeout=120,
    )
    cluster.start()
    try:
        yield cluster
    finally:
        subprocess.run(
            _as_owner([str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(datadir, ignore_errors=True)


def _checks(engine: sa.Engine) -> tuple[Any, Any]:
    def kinds(request_id: str) -> list[tuple[int, str]]:
        query = sa.text("SELECT seq, kind FROM events WHERE request_id = :r ORDER BY seq")
        with engine.connect() as connection:
            return [(row.seq, row.kind) for row in connection.execute(query, {"r": request_id})]

    def request_row(request_id: str) -> dict[str, Any] | None:
        query = sa.text("SELECT * FROM requests WHERE request_id = :r")
        with engine.connect() as connection:
            row = connection.execute(query, {"r": request_id}).first()
        return None if row is None else dict(row._mapping)

    return kinds, request_row


async def test_postgres_restarted_under_load(fake: FakeProviderServer, tmp_path: Path) -> None:
    with private_cluster() as cluster:
        text = config_yaml([openai_provider(fake.base_url)], db_path=tmp_path / "unused.db")
        config = make_config(text.replace(f"sqlite:///{tmp_path / 'unused.db'}", cluster.url))
        async with running_gateway(config) as gateway:
            assert gateway.audit is not None
            async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as client:
                load = Load(client)
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(load.run)
                    await trio.sleep(0.5)
                    load.phase = "during"
                    await trio.to_thread.run_sync(cluster.stop)
                    with trio.fail_after(20):
                        while gateway.audit.statistics().database_ok:
                            await trio.sleep(0.02)
                    await trio.sleep(DOWN_S)
                    await trio.to_thread.run_sync(cluster.start)
                    load.phase = "after"
                    await wait_caught_up(gateway.audit.statistics, backlog=500)
                    await trio.sleep(1.0)
                    load.stop()
                await wait_caught_up(gateway.audit.statistics)
        print("\n".join(["postgres restarted", *matrix(load.answers)]))
        engine = sa.create_engine(cluster.url)
        try:
            assert_full_trails(load.answers, *_checks(engine))
        finally:
            engine.dispose()
    assert_sheds_say_when(load.answers)
    assert any(a.complete for a in load.answered("during"))
    assert any(a.complete for a in load.answered("after"))
    assert load.transport_errors == 0
