"""The trail in a list: the ``Recorder`` twin for tests and development.

Same contract as the SQL recorder (``tests/storage/contract.py``) for the events;
it keeps no ``requests`` / ``attempts`` projections.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Sequence

from storage.codec import encode_payload, recorded_at
from storage.recorder import SequencedEvent, StoredEvent, TrailIntegrityError


class InMemoryRecorder:
    """``Recorder`` kept in process memory; safe to call from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[StoredEvent] = []
        self._by_request: dict[str, list[StoredEvent]] = {}
        self._keys: set[tuple[str, int]] = set()

    def append(self, batch: Sequence[SequencedEvent]) -> None:
        keys = [(item.event.request_id, item.seq) for item in batch]
        with self._lock:
            if len(set(keys)) != len(keys) or not self._keys.isdisjoint(keys):
                raise TrailIntegrityError(
                    f"batch of {len(batch)} events repeats a stored (request_id, seq)"
                )
            next_id = len(self._events) + 1
            for offset, item in enumerate(batch):
                self._store(_stored(next_id + offset, item))
            self._keys.update(keys)

    def stored_keys(self, keys: Sequence[tuple[str, int]]) -> set[tuple[str, int]]:
        with self._lock:
            return self._keys.intersection(keys)

    def read(self, request_id: str) -> list[StoredEvent]:
        with self._lock:
            stored = list(self._by_request.get(request_id, ()))
        return sorted(stored, key=lambda event: event.seq)

    def read_since(self, cursor: int, limit: int = 1000) -> list[StoredEvent]:
        with self._lock:
            start = bisect.bisect_right(self._events, cursor, key=lambda event: event.id)
            return self._events[start : start + limit]

    def _store(self, stored: StoredEvent) -> None:
        self._events.append(stored)
        self._by_request.setdefault(stored.request_id, []).append(stored)


def _stored(event_id: int, item: SequencedEvent) -> StoredEvent:
    event = item.event
    return StoredEvent(
        id=event_id,
        request_id=event.request_id,
        seq=item.seq,
        kind=event.kind,
        recorded_at=recorded_at(event),
        payload=encode_payload(event),
    )


__all__ = ["InMemoryRecorder"]
