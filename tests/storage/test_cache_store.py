"""``cache_entries`` in SQL: stored, replaced, deleted, expired rows pruned, read back."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from cache.entries import Entry
from storage.cache_store import load_entries, write_entries


def _entry(key: bytes, *, at: float, ttl: float = 100.0, answer: bytes = b'{"items":[]}') -> Entry:
    return Entry(
        key=key,
        scope="dev/red/acme",
        model="gpt-5.5",
        answer=answer,
        origin_request_id=f"req-{key.hex()}",
        cost_usd=0.008,
        created_at=at,
        expires_at=at + ttl,
        fingerprint=b"\x01" * 32,
        user_text="how?",
        embedding=b"\x00" * 16,
    )


def test_entries_are_stored_replaced_and_read_back_in_order(engine: Engine) -> None:
    write_entries(engine, {b"a": _entry(b"a", at=10), b"b": _entry(b"b", at=20)}, expired_before=0)
    write_entries(engine, {b"a": _entry(b"a", at=30, answer=b"{}")}, expired_before=0)
    loaded = load_entries(engine, now=40, limit=10)
    assert [(entry.key, entry.created_at, entry.answer) for entry in loaded] == [
        (b"b", 20, b'{"items":[]}'),
        (b"a", 30, b"{}"),
    ]
    first = loaded[0]
    assert (first.fingerprint, first.user_text, first.embedding) == (
        b"\x01" * 32,
        "how?",
        b"\x00" * 16,
    )
    assert first.cost_usd == 0.008 and first.origin_request_id == "req-62"


def test_deletes_expiry_and_the_limit(engine: Engine) -> None:
    entries = {bytes([i]): _entry(bytes([i]), at=float(i), ttl=10) for i in range(5)}
    write_entries(engine, entries, expired_before=0)
    write_entries(engine, {b"\x04": None}, expired_before=12.5)  # deleted, and 0..2 expired
    assert [entry.key for entry in load_entries(engine, now=0, limit=10)] == [b"\x03"]
    write_entries(engine, {bytes([9]): _entry(bytes([9]), at=50)}, expired_before=0)
    assert [entry.key for entry in load_entries(engine, now=20, limit=1)] == [b"\x09"]
