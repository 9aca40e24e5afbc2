"""The cache's entries in memory: by exact key, with a TTL and a size bound.

Pure; one owner (the cache actor). ``get`` forgets an expired entry as it meets it and
refreshes the entry's place in the LRU order; ``put`` evicts the least recently used
entries beyond ``max_entries``; ``prune`` drops every expired entry. Each entry has an
integer ``entry_id`` for the semantic index, and the ones removed are returned so the
owner can drop them from the index and from SQL too.

The exact key already covers the scope (account, team, customer): an entry can never be
found by a request of another scope. ``scope`` is kept beside it all the same, and
``get`` checks it, so a key collision could not cross customers either.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass


@dataclass(slots=True, kw_only=True)
class Entry:
    key: bytes
    scope: str
    model: str
    answer: bytes  # providers.client_formats.cached_answer's document
    origin_request_id: str
    cost_usd: float | None
    created_at: float
    expires_at: float
    fingerprint: bytes | None = None  # semantic entries: their context
    user_text: str = ""
    embedding: bytes | None = None  # float32, normalised
    entry_id: int = 0


class EntryTable:
    def __init__(self, max_entries: int) -> None:
        self._max = max_entries
        self._by_key: OrderedDict[bytes, Entry] = OrderedDict()
        self._by_id: dict[int, Entry] = {}
        self._next_id = 1
        self.evictions = 0
        self.expirations = 0

    def __len__(self) -> int:
        return len(self._by_key)

    def resize(self, max_entries: int) -> list[Entry]:
        self._max = max_entries
        return self._evict()

    def get(self, key: bytes, scope: str, *, now: float, max_age_s: float) -> Entry | None:
        entry = self._by_key.get(key)
        if entry is None or entry.scope != scope:
            return None
        if entry.expires_at <= now:
            self._drop(entry)
            self.expirations += 1
            return None
        if now - entry.created_at > max_age_s:
            return None  # younger than its own TTL, older than this request accepts
        self._by_key.move_to_end(key)
        return entry

    def by_id(self, entry_id: int) -> Entry | None:
        return self._by_id.get(entry_id)

    def touch(self, entry: Entry) -> None:
        if self._by_key.get(entry.key) is entry:
            self._by_key.move_to_end(entry.key)

    def holds(self, entry: Entry) -> bool:
        """Whether this key's entry here is ``entry`` or newer (a replica's poll)."""
        current = self._by_key.get(entry.key)
        return current is not None and current.created_at >= entry.created_at

    def put(self, entry: Entry) -> list[Entry]:
        """Add (or replace) ``entry``; the entries removed to make room (and the replaced)."""
        removed = []
        old = self._by_key.get(entry.key)
        if old is not None:
            self._drop(old)
            removed.append(old)
        entry.entry_id = self._next_id
        self._next_id += 1
        self._by_key[entry.key] = entry
        self._by_id[entry.entry_id] = entry
        return removed + self._evict()

    def prune(self, now: float) -> list[Entry]:
        expired = [entry for entry in self._by_key.values() if entry.expires_at <= now]
        for entry in expired:
            self._drop(entry)
        self.expirations += len(expired)
        return expired

    def _evict(self) -> list[Entry]:
        evicted = []
        while len(self._by_key) > self._max:
            _, entry = self._by_key.popitem(last=False)
            del self._by_id[entry.entry_id]
            evicted.append(entry)
        self.evictions += len(evicted)
        return evicted

    def _drop(self, entry: Entry) -> None:
        del self._by_key[entry.key]
        del self._by_id[entry.entry_id]


__all__ = ["Entry", "EntryTable"]
