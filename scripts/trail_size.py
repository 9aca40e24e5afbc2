"""The SQLite trail's size per request, with and without bodies, measured on real traffic.

Starts a fake provider and the gateway in this process, sends ``--requests`` small
requests (the bench's ``chat`` and ``responses-stream`` bodies, alternately, 16 at a
time), stops the gateway (the trail is flushed), checkpoints the WAL and measures the
file. Then retention removes every body (as ``retention.bodies`` would once they are
old), the freed pages go back with ``incremental_vacuum``, and the file is measured
again; then once more after a ``VACUUM`` (pruning small bodies in place leaves room inside
pages that only ``VACUUM`` compacts; large parts live in ``blobs``, whose pages are freed
whole). Sizes are extrapolated to a million requests.

    .venv/bin/python scripts/trail_size.py [--requests 5000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx
import trio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from benchlib.load import WORKLOADS  # noqa: E402

from fakes import open_fake_provider  # noqa: E402
from storage.database import make_engine  # noqa: E402
from storage.retention import RetentionPolicy, prune  # noqa: E402
from tests.gateway_rig import (  # noqa: E402
    VIRTUAL_KEY,
    auth,
    config_yaml,
    make_config,
    openai_provider,
    running_gateway,
)

CLIENTS = 16


async def send_requests(db: Path, count: int) -> None:
    bodies = [
        (f"/v1{WORKLOADS[name].path}", WORKLOADS[name].body)
        for name in ("chat", "responses-stream")
    ]
    async with trio.open_nursery() as nursery:
        fake = await open_fake_provider(nursery)
        config = make_config(config_yaml([openai_provider(fake.base_url)], db_path=db))
        async with (
            running_gateway(config) as gateway,
            httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as client,
        ):
            remaining = iter(range(count))

            async def worker() -> None:
                for n in remaining:
                    path, body = bodies[n % 2]
                    headers = auth(VIRTUAL_KEY) | {"content-type": "application/json"}
                    response = await client.post(path, content=body, headers=headers)
                    response.raise_for_status()

            async with trio.open_nursery() as clients:
                for _ in range(CLIENTS):
                    clients.start_soon(worker)
        nursery.cancel_scope.cancel()


def file_size(url: str, path: Path) -> int:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    return path.stat().st_size


def vacuum(url: str) -> None:
    engine = make_engine(url)
    try:
        raw = engine.raw_connection()
        try:
            driver = raw.driver_connection
            assert driver is not None
            driver.execute("VACUUM")
        finally:
            raw.close()
    finally:
        engine.dispose()


def prune_bodies(url: str) -> int:
    """Remove every body (retention of one hour, an hour from now); the bodies removed."""
    engine = make_engine(url)
    policy = RetentionPolicy(bodies_s=3600, events_s=None)
    removed = 0
    try:
        while True:
            report = prune(engine, policy, now=time.time() + 2 * 3600)
            removed += report.bodies
            if not report.more:
                return removed
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--keep", type=Path, default=None, help="keep the database here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        db = folder / "trail.db"
        url = f"sqlite:///{db}"
        trio.run(send_requests, db, args.requests)
        with_bodies = file_size(url, db)
        removed = prune_bodies(url)
        without_bodies = file_size(url, db)
        vacuum(url)
        vacuumed = file_size(url, db)
    per_million = 1_000_000 / args.requests
    print(
        json.dumps(
            {
                "requests": args.requests,
                "file_bytes_with_bodies": with_bodies,
                "file_bytes_without_bodies": without_bodies,
                "file_bytes_without_bodies_after_vacuum": vacuumed,
                "bodies_removed": removed,
                "bytes_per_request_with_bodies": round(with_bodies / args.requests),
                "bytes_per_request_without_bodies": round(without_bodies / args.requests),
                "gb_per_million_with_bodies": round(with_bodies * per_million / 1e9, 2),
                "gb_per_million_without_bodies": round(without_bodies * per_million / 1e9, 2),
                "gb_per_million_without_bodies_after_vacuum": round(
                    vacuumed * per_million / 1e9, 2
                ),
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
