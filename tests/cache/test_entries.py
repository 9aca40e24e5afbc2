"""The entry table: TTL, the LRU bound, scopes."""

from __future__ import annotations

from cache.entries import Entry, EntryTable


def _entry(key: bytes, *, scope: str = "dev/red/acme", at: float = 0.0, ttl: float = 10.0) -> Entry:
    return Entry(
        key=key,
        scope=scope,
        model="m",
        answer=b"{}",
        origin_request_id="r",
        cost_usd=None,
        created_at=at,
        expires_at=at + ttl,
    )


def test_get_honours_scope_ttl_and_max_age() -> None:
    table = EntryTable(10)
    table.put(_entry(b"k"))
    assert table.get(b"k", "dev/red/acme", now=1, max_age_s=100) is not None
    assert table.get(b"k", "dev/blue/acme", now=1, max_age_s=100) is None
    assert table.get(b"k", "dev/red/acme", now=5, max_age_s=2) is None  # older than asked
    assert len(table) == 1
    assert table.get(b"k", "dev/red/acme", now=10, max_age_s=100) is None  # expired
    assert len(table) == 0 and table.expirations == 1


def test_put_evicts_the_least_recently_used() -> None:
    table = EntryTable(2)
    table.put(_entry(b"a"))
    table.put(_entry(b"b"))
    assert table.get(b"a", "dev/red/acme", now=1, max_age_s=100) is not None
    evicted = table.put(_entry(b"c"))
    assert [entry.key for entry in evicted] == [b"b"]
    assert table.evictions == 1
    assert table.by_id(evicted[0].entry_id) is None


def test_replacing_a_key_returns_the_old_entry_with_a_new_id() -> None:
    table = EntryTable(2)
    first = _entry(b"a")
    table.put(first)
    second = _entry(b"a")
    assert table.put(second) == [first]
    assert second.entry_id != first.entry_id and len(table) == 1


def test_prune_and_resize() -> None:
    table = EntryTable(5)
    for index, ttl in enumerate((1.0, 5.0, 1.0)):
        table.put(_entry(bytes([index]), ttl=ttl))
    assert {entry.key for entry in table.prune(2.0)} == {b"\x00", b"\x02"}
    table.put(_entry(b"x"))
    assert [entry.key for entry in table.resize(1)] == [b"\x01"]
