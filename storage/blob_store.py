"""The ``blobs`` table: writing a batch's parts, and rebuilding stored payloads.

``rebuild_payload`` is the one way to read a stored payload whole: every reader of
bodies (the SQL recorder's ``read`` / ``read_since``, the CLI, tests) goes through it.
``BlobWriter`` is the write side, owned by the SQL recorder and used only from the
audit logger's worker thread: it splits each body of a batch (``storage.blobs``) and
collects the blobs the batch needs written, skipping those it wrote lately.
"""

from __future__ import annotations

import time

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage.blobs import (
    SPLIT_MIN_BYTES,
    Blob,
    FetchChain,
    KnownBlobs,
    Part,
    check_chain,
    join_document,
    split_value,
)
from storage.codec import DOCUMENTS, read_document, stored_document
from storage.tables import blobs, events

_CHAIN = sa.text(
    """WITH RECURSIVE chain(key, parent, data, depth) AS (
    SELECT key, parent, data, 0 FROM blobs WHERE key = :key
    UNION ALL
    SELECT b.key, b.parent, b.data, c.depth + 1 FROM blobs b JOIN chain c ON b.key = c.parent
    WHERE c.depth + 1 < :count
)
SELECT key, parent, data FROM chain ORDER BY depth"""
).bindparams(sa.bindparam("key", type_=sa.LargeBinary()), sa.bindparam("count"))

_UPSERT = sa.text(
    """INSERT INTO blobs (key, parent, data, used_at) VALUES (:key, :parent, :data, :used_at)
ON CONFLICT (key) DO UPDATE SET used_at = CASE
    WHEN excluded.used_at > blobs.used_at THEN excluded.used_at ELSE blobs.used_at END"""
).bindparams(
    sa.bindparam("key", type_=sa.LargeBinary()),
    sa.bindparam("parent", type_=sa.LargeBinary()),
    sa.bindparam("data", type_=sa.LargeBinary()),
)


def chain_fetcher(connection: Connection) -> FetchChain:
    """Reads a chain (or a value) in one recursive query, each node checked."""

    def fetch(key: bytes, count: int) -> list[Blob]:
        rows = connection.execute(_CHAIN, {"key": key, "count": max(count, 1)})
        nodes = [Blob(key=bytes(r.key), parent=_bytes(r.parent), data=bytes(r.data)) for r in rows]
        return list(check_chain(key, nodes))

    return fetch


def _bytes(value: bytes | memoryview | None) -> bytes | None:
    return None if value is None else bytes(value)


def rebuild_payload(connection: Connection, payload: bytes) -> bytes:
    """``payload`` with its body (or response) whole again, byte for byte as it arrived.

    A payload stored whole comes back as it is. Raises ``BrokenTrail`` if a part is
    missing or does not match its key.
    """
    if b'_parts":' not in payload:
        return payload
    fields = orjson.loads(payload)
    for name in DOCUMENTS:
        parts = fields.get(f"{name}_parts")
        if parts is None:
            continue
        skeleton = stored_document(name, fields, payload)
        whole = join_document(skeleton, parts, chain_fetcher(connection))
        del fields[f"{name}_parts"]
        fields[f"{name}_size"] = len(whole)
        fields[name] = orjson.Fragment(whole)  # the document stays the last field
        return orjson.dumps(fields)
    return payload


def rebuild_body(connection: Connection, payload: bytes) -> bytes | None:
    """The body (``request.received``) or response (``response.completed``) of a stored
    payload, byte for byte; ``None`` if the payload has neither."""
    whole = rebuild_payload(connection, payload)
    fields = orjson.loads(whole)
    for name in DOCUMENTS:
        if name in fields:
            return read_document(name, fields, whole)
    return None


def stored_payload(connection: Connection, request_id: str, kind: str) -> str | None:
    """The stored payload of ``request_id``'s ``kind`` event as text (before
    ``rebuild_body``), or ``None`` when the trail has no such event."""
    payload: str | None = connection.execute(
        sa.select(sa.cast(events.c.payload, sa.Text)).where(
            events.c.request_id == request_id, events.c.kind == kind
        )
    ).scalar()
    return payload


class BlobWriter:
    """Splits a batch's bodies and gathers the blobs to write with it (see the module
    docstring). ``begin`` a batch, ``split`` each body, ``write`` in the batch's
    transaction, and ``committed`` once it has committed."""

    def __init__(self, known: KnownBlobs | None = None) -> None:
        self._known = known or KnownBlobs()
        self._pending: dict[bytes, Blob] = {}
        self._now = 0

    def begin(self) -> None:
        self._pending = {}
        self._now = int(time.time())

    def split(self, raw: bytes) -> tuple[bytes, list[Part]] | None:
        """``raw``'s skeleton and parts; ``(raw, [])`` for JSON kept whole (so the caller
        need not parse it again to know it is JSON); ``None`` for a short or not-JSON body."""
        if len(raw) < SPLIT_MIN_BYTES or raw[:1] != b"{":
            return None
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        done = split_value(raw, value)
        if done is None:
            return raw, []
        for blob in done.blobs:
            if blob.key not in self._pending and not self._known.fresh(blob.key, self._now):
                self._pending[blob.key] = blob
        return done.skeleton, done.parts

    def write(self, connection: Connection) -> None:
        if self._pending:
            connection.execute(_UPSERT, [_row(blob, self._now) for blob in self._pending.values()])

    def committed(self) -> None:
        self._known.remember(list(self._pending), self._now)
        self._pending = {}


def _row(blob: Blob, now: int) -> dict[str, object]:
    return {"key": blob.key, "parent": blob.parent, "data": blob.data, "used_at": now}


def blob_bytes(connection: Connection) -> int:
    """The bytes of data in ``blobs`` (for measurements)."""
    total = connection.execute(sa.select(sa.func.sum(sa.func.length(blobs.c.data)))).scalar()
    return int(total or 0)


__all__ = ["BlobWriter", "blob_bytes", "chain_fetcher", "rebuild_body", "rebuild_payload"]
