"""Real Codex sessions through the gateway: every stored body and response rebuilds byte
for byte, and a turn stores its new items plus a few KB (``scripts/trail_bytes.py``
measures the 20-turn figure)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from messages.events import RequestReceived, ResponseCompleted, TrailEvent
from storage import SequencedEvent, SqlRecorder, decode_event, make_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import trail_bytes

pytestmark = pytest.mark.codex
TURNS = 4
OVERHEAD_LIMIT = 5 * 1024


async def test_every_body_of_a_real_codex_session_rebuilds_byte_for_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[TrailEvent] = []
    append = SqlRecorder.append

    def tap(self: SqlRecorder, batch: Sequence[SequencedEvent]) -> None:
        seen.extend(item.event for item in batch)  # the bytes as the gateway had them
        append(self, batch)

    monkeypatch.setattr(SqlRecorder, "append", tap)
    db = tmp_path / "trail.db"
    (tmp_path / "codex").mkdir()
    await trail_bytes.record_session(db, tmp_path / "codex", TURNS)

    documents = [e for e in seen if isinstance(e, RequestReceived | ResponseCompleted)]
    assert len(documents) == 2 * TURNS
    engine = make_engine(f"sqlite:///{db}")
    try:
        recorder = SqlRecorder(engine)
        for original in documents:
            (stored,) = [s for s in recorder.read(original.request_id) if s.kind == original.kind]
            assert decode_event(stored.request_id, stored.kind, stored.payload) == original
    finally:
        engine.dispose()
    assert any(len(e.body) > 20_000 for e in documents if isinstance(e, RequestReceived))

    turns = trail_bytes.measure(f"sqlite:///{db}")
    assert len(turns) == TURNS
    for later in turns[1:]:
        assert later.overhead <= OVERHEAD_LIMIT, turns
        assert later.stored * 5 < later.whole, turns
