"""The config watcher: reloads the config file on SIGHUP and whenever the file changes.

trio has no inotify, so the file's identity (mtime, size, inode) is polled, once a
second by default: cheap, and it also catches editors that save by renaming a new file
over the old one. A new file is loaded and checked in a worker thread; a valid one is
handed to ``apply`` (which swaps it into the ingress and the router), an invalid one is
logged with its ``file:line: problem`` and the config in force stays. Requests in flight
keep the config they started with: a reload only affects what arrives after it.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import structlog
import trio

from config.loader import ConfigError, load_config
from config.model import GatewayConfig
from config.reload import needs_restart

log = structlog.get_logger("switchyard.config_watcher")

POLL_S = 1.0

_Signature = tuple[int, int, int] | None  # (mtime_ns, size, inode); None: no file


@dataclass(frozen=True, slots=True, kw_only=True)
class WatcherStatistics:
    source: str
    reloads: int
    failures: int
    last_error: str | None


class ConfigWatcher:
    def __init__(
        self,
        path: str | Path,
        current: GatewayConfig,
        *,
        apply: Callable[[GatewayConfig], Awaitable[None]],
        poll_s: float = POLL_S,
        on_sighup: bool = False,
    ) -> None:
        self._path = trio.Path(path)
        self._current = current
        self._apply = apply
        self._poll_s = poll_s
        self._on_sighup = on_sighup
        self._lock = trio.Lock()
        self._seen: _Signature = None
        self._reloads = 0
        self._failures = 0
        self._last_error: str | None = None

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        self._seen = await self._signature()
        async with trio.open_nursery() as nursery:
            if self._on_sighup:
                await nursery.start(self._reload_on_sighup)
            nursery.start_soon(self._reload_on_change)
            task_status.started()

    def statistics(self) -> WatcherStatistics:
        return WatcherStatistics(
            source=str(self._path),
            reloads=self._reloads,
            failures=self._failures,
            last_error=self._last_error,
        )

    async def reload(self, *, why: str) -> bool:
        """Load the file now; apply it if it is valid. Returns whether it was applied."""
        async with self._lock:
            self._seen = await self._signature()
            try:
                config = await trio.to_thread.run_sync(load_config, os.fspath(self._path))
            except ConfigError as exc:
                self._failures += 1
                self._last_error = str(exc)
                log.error(
                    "config reload failed; keeping the config in force",
                    why=why,
                    problem=str(exc),
                )
                return False
            fixed = needs_restart(self._current, config)
            if fixed:
                log.warning("config reload: these settings apply only after a restart", fixed=fixed)
            await self._apply(config)
            self._current = config
            self._reloads += 1
            self._last_error = None
            log.info("config reloaded", why=why, source=config.source, reloads=self._reloads)
            return True

    async def _reload_on_sighup(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        with trio.open_signal_receiver(signal.SIGHUP) as signals:
            task_status.started()
            async for _ in signals:
                await self.reload(why="SIGHUP")

    async def _reload_on_change(self) -> None:
        while True:
            await trio.sleep(self._poll_s)
            if await self._signature() != self._seen:
                await self.reload(why="file changed")

    async def _signature(self) -> _Signature:
        try:
            stat = await self._path.stat()
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


__all__ = ["POLL_S", "ConfigWatcher", "WatcherStatistics"]
