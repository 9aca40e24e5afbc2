"""The cache actor's entries kept in SQL through the one SQL writer.

Changes (an entry stored, one removed) collect in ``pending``, latest state per key,
and one side write (``TrailWriter.submit``, key ``"cache"``) applies them together with
the pruning of expired rows. The job takes the pending changes under a lock as it runs
(on the writer's thread) and puts them back if the write fails, so the writer's retry
writes them — and a newer change of the same key, made meanwhile, wins.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import trio
from sqlalchemy.engine import Engine

from cache.entries import Entry
from storage.cache_store import load_entries, load_entries_since, write_entries

Submit = Callable[[str, Callable[[], object]], None]
WRITE_KEY = "cache"


class CachePersistence:
    def __init__(self, engine: Engine, submit: Submit) -> None:
        self._engine = engine
        self._submit = submit
        self._lock = threading.Lock()
        self._pending: dict[bytes, Entry | None] = {}
        self.writes = 0

    async def load(self, *, now: float, limit: int) -> list[Entry]:
        return await trio.to_thread.run_sync(
            lambda: load_entries(self._engine, now=now, limit=limit)
        )

    async def load_since(self, *, since: float, now: float, limit: int) -> list[Entry]:
        return await trio.to_thread.run_sync(
            lambda: load_entries_since(self._engine, since=since, now=now, limit=limit)
        )

    def stored(self, entry: Entry) -> None:
        with self._lock:
            self._pending[entry.key] = entry
        self._submit(WRITE_KEY, self._write)

    def removed(self, entries: list[Entry]) -> None:
        if not entries:
            return
        with self._lock:
            for entry in entries:
                self._pending[entry.key] = None
        self._submit(WRITE_KEY, self._write)

    def prune_soon(self) -> None:
        self._submit(WRITE_KEY, self._write)

    def _write(self) -> None:
        with self._lock:
            changes, self._pending = self._pending, {}
        try:
            write_entries(self._engine, changes, expired_before=time.time())
        except BaseException:
            with self._lock:
                for key, entry in changes.items():
                    self._pending.setdefault(key, entry)
            raise
        self.writes += 1


__all__ = ["CachePersistence"]
