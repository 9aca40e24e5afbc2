"""The cache's side writes: one job applies every pending change; a failed write keeps
its changes for the writer's retry, and a newer change of the same key wins."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from actors.cache_persistence import WRITE_KEY, CachePersistence
from cache.entries import Entry
from storage import make_engine, migrate
from storage.cache_store import load_entries


def _entry(key: bytes, answer: bytes = b"{}") -> Entry:
    return Entry(
        key=key,
        scope="s",
        model="m",
        answer=answer,
        origin_request_id="r",
        cost_usd=None,
        created_at=1.0,
        expires_at=4e9,
    )


def test_a_failed_write_keeps_its_changes_for_the_retry(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    engine = make_engine(url)  # no tables yet: the first write fails
    jobs: dict[str, Callable[[], object]] = {}
    persistence = CachePersistence(engine, lambda key, job: jobs.__setitem__(key, job))
    persistence.stored(_entry(b"a"))
    persistence.stored(_entry(b"b"))
    with pytest.raises(sa.exc.OperationalError):
        jobs[WRITE_KEY]()
    persistence.stored(_entry(b"a", answer=b'{"newer":1}'))  # made while the write failed
    persistence.removed([_entry(b"b")])
    migrate(url)
    jobs[WRITE_KEY]()
    loaded = load_entries(engine, now=2.0, limit=10)
    assert [(entry.key, entry.answer) for entry in loaded] == [(b"a", b'{"newer":1}')]
    assert persistence.writes == 1
    engine.dispose()
