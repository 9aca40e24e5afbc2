"""The narrow interface between the audit logger and wherever the trail is kept.

Implementations: ``storage.sql.SqlRecorder`` (SQLite, PostgreSQL) and
``storage.memory.InMemoryRecorder``; ``tests/storage/contract.py`` runs one suite
against each. Every method blocks: the audit logger calls ``append`` through
``trio.to_thread.run_sync`` with a one-thread limiter, so there is a single writer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from messages.events import TrailEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class SequencedEvent:
    """A trail event with its position in its request (``seq`` starts at 1)."""

    seq: int
    event: TrailEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredEvent:
    """One trail event as stored.

    ``id`` is global and increasing in append order (the cursor for ``read_since``);
    ``recorded_at`` is the event's own ``at`` as an aware UTC datetime; ``payload``
    is the JSON document the codec wrote, whole: a body stored in parts is put back
    (``storage.blob_store.rebuild_payload``), so ``storage.event_decoding`` reads it.
    """

    id: int
    request_id: str
    seq: int
    kind: str
    recorded_at: datetime
    payload: bytes


class TrailIntegrityError(Exception):
    """A batch conflicts with what is stored, e.g. a replayed ``(request_id, seq)``.

    Nothing from the batch was written. It is a bug upstream of the recorder, so
    the audit logger lets it propagate.
    """


class Recorder(Protocol):
    def append(self, batch: Sequence[SequencedEvent]) -> None:
        """Store the whole batch atomically, or raise and store none of it."""
        ...

    def stored_keys(self, keys: Sequence[tuple[str, int]]) -> set[tuple[str, int]]:
        """Which of ``keys`` (``(request_id, seq)``) are stored already.

        The audit logger asks before it writes a batch again after a failed write whose
        commit it could not see (a dropped connection): what was committed is skipped.
        """
        ...

    def read(self, request_id: str) -> list[StoredEvent]:
        """One request's events in ``seq`` order (empty if unknown)."""
        ...

    def read_since(self, cursor: int, limit: int = 1000) -> list[StoredEvent]:
        """Up to ``limit`` events with ``id > cursor``, in ``id`` order.

        Start from cursor 0 and continue from the last ``id`` returned.
        """
        ...


__all__ = ["Recorder", "SequencedEvent", "StoredEvent", "TrailIntegrityError"]
