"""Bytes the trail stores per Codex turn: a session of the real Codex CLI, recorded through
the gateway to a fake provider, then measured turn by turn.

The fake answers ``turns - 1`` times with a shell call (``echo turn-N``) and then with a
text, so one ``codex exec`` makes ``turns`` requests in one session. For each request:

- ``whole``: its events' payloads with every body inline (what the trail stored before
  content-addressed blobs, and what ``rebuild_payload`` gives back);
- ``stored``: its events' payloads as stored, plus the blobs it was first to need (data
  and key/parent bytes);
- ``new items``: the bytes of its conversation items not in the session's previous
  request (beyond the common prefix of ``input``), and of its response's ``output``;
- ``overhead``: ``stored - new items``: what a turn costs beyond its own new content.

Every stored body and response is also checked to rebuild byte for byte.

    CODEX_BIN=…/codex .venv/bin/python scripts/trail_bytes.py [--turns 20] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
import trio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fakes import open_fake_provider  # noqa: E402
from fakes.script import FunctionCall, Reply, Text, Turn  # noqa: E402
from storage.blob_store import rebuild_payload  # noqa: E402
from storage.codec import read_document  # noqa: E402
from storage.database import make_engine  # noqa: E402
from storage.tables import blobs  # noqa: E402
from tests.codex_rig import run_codex  # noqa: E402
from tests.gateway_rig import (  # noqa: E402
    VIRTUAL_KEY,
    config_yaml,
    make_config,
    openai_provider,
    running_gateway,
)

KEY_BYTES = 64  # a blob row's key and parent


@dataclass(frozen=True, slots=True)
class TurnBytes:
    request_id: str
    whole: int
    stored: int
    new_items: int

    @property
    def overhead(self) -> int:
        return self.stored - self.new_items


async def record_session(db: Path, work: Path, turns: int) -> int:
    """Run one ``codex exec`` of ``turns`` requests through a gateway writing to ``db``."""
    async with trio.open_nursery() as nursery:
        fake = await open_fake_provider(nursery)
        for n in range(turns - 1):
            call = FunctionCall(
                name="exec_command", arguments=json.dumps({"cmd": f"echo turn-{n}"})
            )
            fake.enqueue(Turn(reply=Reply(items=(call,))))
        fake.enqueue(Turn(reply=Reply(items=(Text(text="All done."),))))
        config = make_config(config_yaml([openai_provider(fake.base_url)], db_path=db))
        async with running_gateway(config) as gateway:
            run = await run_codex(
                gateway.base_url + "/v1",
                "Run the commands one by one.",
                api_key=VIRTUAL_KEY,
                tmp=work,
                timeout_s=300,
            )
        nursery.cancel_scope.cancel()
    if run.returncode != 0:
        raise RuntimeError(f"codex exec failed: {run.stderr[-2000:]}")
    return turns


def measure(url: str) -> list[TurnBytes]:
    """Per request, in order: see the module docstring. Raises if a body does not
    rebuild exactly as ``read_document`` reads it from the whole payload."""
    engine = make_engine(url)
    seen: set[bytes] = set()
    previous_input: dict[str, list[bytes]] = {}
    result: list[TurnBytes] = []
    try:
        with engine.connect() as connection:
            requests = connection.execute(
                sa.text("SELECT request_id, session_id FROM requests ORDER BY started_at")
            ).all()
            for request_id, session_id in requests:
                rows = connection.execute(
                    sa.text("SELECT kind, payload FROM events WHERE request_id = :r ORDER BY seq"),
                    {"r": request_id},
                ).all()
                whole = stored = new_items = 0
                for kind, text in rows:
                    payload = text.encode()
                    full = rebuild_payload(connection, payload)
                    whole += len(full)
                    stored += len(payload) + _new_blob_bytes(connection, payload, seen)
                    new_items += _new_item_bytes(kind, full, previous_input, session_id)
                result.append(TurnBytes(request_id, whole, stored, new_items))
    finally:
        engine.dispose()
    return result


def _new_blob_bytes(connection: sa.Connection, payload: bytes, seen: set[bytes]) -> int:
    fields = orjson.loads(payload)
    total = 0
    for name in ("body", "response"):
        for part in fields.get(f"{name}_parts", ()):
            key: bytes | None = bytes.fromhex(part[3])
            while key is not None and key not in seen:
                seen.add(key)
                row = connection.execute(
                    sa.select(blobs.c.parent, blobs.c.data).where(blobs.c.key == key)
                ).one()
                total += len(row.data) + KEY_BYTES
                key = None if row.parent is None else bytes(row.parent)
    return total


def _new_item_bytes(
    kind: str, full: bytes, previous: dict[str, list[bytes]], session: str | None
) -> int:
    fields = orjson.loads(full)
    if kind == "request.received":
        document: Any = orjson.loads(read_document("body", fields, full) or b"{}")
        items = [orjson.dumps(item) for item in document.get("input", [])]
        before = previous.get(session or "", [])
        common = 0
        while common < min(len(items), len(before)) and items[common] == before[common]:
            common += 1
        previous[session or ""] = items
        return sum(len(item) for item in items[common:])
    if kind == "response.completed":
        document = orjson.loads(read_document("response", fields, full) or b"{}")
        return sum(len(orjson.dumps(item)) for item in document.get("output", []))
    return 0


def _report(turns: list[TurnBytes], db: Path) -> dict[str, Any]:
    count = len(turns)
    return {
        "requests": count,
        "whole_bytes_per_turn": round(sum(t.whole for t in turns) / count),
        "stored_bytes_per_turn": round(sum(t.stored for t in turns) / count),
        "overhead_bytes_per_turn_max": max(t.overhead for t in turns[1:] or turns),
        "overhead_bytes_per_turn_mean": round(sum(t.overhead for t in turns) / count),
        "database_file_bytes": db.stat().st_size,
        "turns": [asdict(t) | {"overhead": t.overhead} for t in turns],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--keep", type=Path, default=None, help="keep the database here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        db = folder / "trail.db"
        work = Path(scratch) / "codex"
        work.mkdir()
        trio.run(record_session, db, work, args.turns)
        turns = measure(f"sqlite:///{db}")
        report = _report(turns, db)
    for turn in report["turns"]:
        print(
            f"{turn['request_id']}  whole {turn['whole']:>7}  stored {turn['stored']:>7}  "
            f"new items {turn['new_items']:>6}  overhead {turn['overhead']:>6}"
        )
    summary = {k: v for k, v in report.items() if k != "turns"}
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
