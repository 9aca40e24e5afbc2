"""The database fails under load and comes back: the gateway keeps serving (or sheds with
503 + Retry-After once its spool is full), and once the fault clears every answered
request has its full trail. Real gateway, real SQLite file, fake provider over sockets.

- SQLite locked: another connection holds ``BEGIN EXCLUSIVE`` past the 5 s busy timeout.
- Disk full: the database lives on a small tmpfs that a ballast file fills up (a real
  ``SQLITE_FULL``); then the ballast is deleted. Also, where mounting is not permitted
  too, SQLite's ``PRAGMA max_page_count`` capped at the file's size (the same error).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import trio

from actors import audit, system
from actors.system import GatewayHandle
from fakes import FakeProviderServer
from tests.gateway_rig import Trail, config_yaml, make_config, openai_provider, running_gateway
from tests.scenarios.db_fault_rig import (
    Load,
    assert_full_trails,
    assert_sheds_say_when,
    matrix,
    sqlite_checks,
    wait_caught_up,
)

LOCK_HELD_S = 7.0  # past SQLITE_BUSY_TIMEOUT_MS (5 s)


def _tight_spool(monkeypatch: pytest.MonkeyPatch) -> None:
    """A spool and an inbox small enough for the load to fill them during the fault."""
    monkeypatch.setattr(system, "AUDIT_INBOX", 1000)  # sheds at 800
    monkeypatch.setattr(audit, "SPOOL_MAX", 200)


async def _until_outage(gateway: GatewayHandle, limit_s: float = 20.0) -> None:
    assert gateway.audit is not None
    with trio.fail_after(limit_s):
        while gateway.audit.statistics().database_ok:
            await trio.sleep(0.02)


def _hold_exclusive_lock(db: Path, held: threading.Event, seconds: float) -> None:
    connection = sqlite3.connect(db, isolation_level=None, timeout=30)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        held.set()
        time.sleep(seconds)
        connection.execute("ROLLBACK")
    finally:
        connection.close()


@pytest.mark.parametrize("spool", ["roomy", "tight"])
async def test_sqlite_locked_past_the_busy_timeout(
    fake: FakeProviderServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spool: str
) -> None:
    if spool == "tight":
        _tight_spool(monkeypatch)
    db = tmp_path / "trail.db"
    config = make_config(config_yaml([openai_provider(fake.base_url)], db_path=db))
    async with running_gateway(config) as gateway:
        assert gateway.audit is not None
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as client:
            load = Load(client)
            async with trio.open_nursery() as nursery:
                nursery.start_soon(load.run)
                await trio.sleep(0.5)
                held = threading.Event()
                load.phase = "during"
                async with trio.open_nursery() as lock:
                    lock.start_soon(
                        trio.to_thread.run_sync, _hold_exclusive_lock, db, held, LOCK_HELD_S
                    )
                    await _until_outage(gateway)  # the writer did hit the lock
                load.phase = "after"
                await wait_caught_up(gateway.audit.statistics, backlog=500)
                await trio.sleep(1.0)
                load.stop()
            await wait_caught_up(gateway.audit.statistics)
            assert gateway.audit.statistics().failed_writes >= 1
    print("\n".join(["sqlite locked, spool " + spool, *matrix(load.answers)]))
    _outcome(load, spool, db)


async def _fault_lasts(load: Load, spool: str) -> None:
    """3 s; with the tight spool, until it has filled (a 503 answered), however slowly
    the load runs on a busy machine."""
    await trio.sleep(3.0)
    if spool == "tight":
        with trio.fail_after(30):
            while not any(a.status == 503 for a in load.answered("during")):
                await trio.sleep(0.1)


def _outcome(load: Load, spool: str, db: Path) -> None:
    assert_full_trails(load.answers, *sqlite_checks(Trail(db)))
    assert_sheds_say_when(load.answers)
    during = load.answered("during")
    assert any(a.complete for a in during), "nothing was served during the fault"
    if spool == "tight":
        assert any(a.status == 503 for a in during), "the spool never filled"
    else:
        assert not any(a.status == 503 for a in load.answers)
    assert any(a.complete for a in load.answered("after"))
    assert load.transport_errors == 0


@dataclass
class FullDisk:
    """Where the database lives, and how to fill its disk and free it again."""

    db: Path
    fill: Callable[[], object]
    free: Callable[[], object]


@contextlib.contextmanager
def _tmpfs(path: Path, size: str) -> Iterator[FullDisk]:
    """A small tmpfs, filled by a ballast file: a real full filesystem."""
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(
            f"cannot mount a tmpfs here ({mounted.stderr.decode().strip()}); "
            "the max_page_count case covers SQLITE_FULL"
        )
    ballast = path / "ballast"
    try:
        yield FullDisk(db=path / "trail.db", fill=lambda: _fill(ballast), free=ballast.unlink)
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@contextlib.contextmanager
def _page_cap(path: Path) -> Iterator[FullDisk]:
    """SQLite's own size cap: while ``capped``, every transaction starts with
    ``PRAGMA max_page_count`` at the file's current size, so growing it fails with
    ``SQLITE_FULL`` exactly as a full disk does (for the gateway's connections too)."""
    capped = threading.Event()

    def begin(connection: sa.Connection) -> None:
        if connection.dialect.name == "sqlite":
            cap = 1 if capped.is_set() else 1_073_741_823  # 1 → the current page count
            connection.exec_driver_sql(f"PRAGMA max_page_count = {cap}")

    sa.event.listen(sa.Engine, "begin", begin)
    try:
        yield FullDisk(db=path / "trail.db", fill=capped.set, free=capped.clear)
    finally:
        sa.event.remove(sa.Engine, "begin", begin)


def _fill(ballast: Path) -> int:
    """Write ``ballast`` until the filesystem is full, down to its last 512 bytes."""
    size, written = 65536, 0
    fd = os.open(ballast, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        while True:
            try:
                written += os.write(fd, b"\0" * size)
            except OSError:
                if size <= 512:
                    return written
                size //= 2
    finally:
        os.close(fd)


@pytest.mark.parametrize(
    ("how", "spool"), [("tmpfs", "roomy"), ("tmpfs", "tight"), ("max_page_count", "roomy")]
)
async def test_a_full_disk(
    fake: FakeProviderServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
    spool: str,
) -> None:
    if spool == "tight":
        _tight_spool(monkeypatch)
    disk_for = _tmpfs(tmp_path / "disk", "32m") if how == "tmpfs" else _page_cap(tmp_path)
    with disk_for as disk:
        config = make_config(config_yaml([openai_provider(fake.base_url)], db_path=disk.db))
        async with running_gateway(config) as gateway:
            assert gateway.audit is not None
            async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as client:
                load = Load(client)
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(load.run)
                    await trio.sleep(0.5)
                    load.phase = "during"
                    await trio.to_thread.run_sync(disk.fill)
                    await _until_outage(gateway)
                    await _fault_lasts(load, spool)
                    disk.free()
                    load.phase = "after"
                    await wait_caught_up(gateway.audit.statistics, backlog=500)
                    await trio.sleep(1.0)
                    load.stop()
                await wait_caught_up(gateway.audit.statistics)
                assert gateway.audit.statistics().failed_writes >= 1
        print("\n".join([f"disk full ({how}), spool {spool}", *matrix(load.answers)]))
        _outcome(load, spool, disk.db)
