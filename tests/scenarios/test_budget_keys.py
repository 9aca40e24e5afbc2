"""Virtual keys made with ``switchyard keys create`` work on a running gateway, are
charged to their team and customer, and a revoked or expired key gets a 401 within
the store watcher's poll."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx
import orjson
import trio

from budgets.keys import StoredKey, new_secret, secret_digest, shown_prefix
from fakes import FakeProviderServer
from storage.database import make_engine
from storage.key_store import create_key
from tests.gateway_rig import Trail
from tests.scenarios.budget_rig import body, budget_config, budget_gateway, fixed_cost


async def _switchyard(*args: str) -> str:
    done = await trio.run_process(
        [sys.executable, "-m", "cli.main", *args], capture_stdout=True, capture_stderr=True
    )
    return done.stdout.decode()


async def _status_becomes(client: httpx.AsyncClient, secret: str, status: int) -> httpx.Response:
    with trio.fail_after(5):
        while True:
            response = await client.post(
                "/v1/responses", json=body(), headers={"authorization": f"Bearer {secret}"}
            )
            if response.status_code == status:
                return response
            await trio.sleep(0.05)


async def test_a_cli_key_works_then_is_refused_once_revoked(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    fixed_cost(fake)
    db = tmp_path / "trail.db"
    config = budget_config(fake, db)
    async with budget_gateway(config) as gateway:
        url = f"sqlite:///{db}"
        created = orjson.loads(
            await _switchyard(
                "keys",
                "create",
                "--name",
                "ci",
                "--account",
                "dev",
                "--team",
                "blue",
                "--customer",
                "globex",
                "--db",
                url,
                "--json",
            )
        )[0]
        secret, key_id = created["secret"], created["id"]
        assert secret.startswith("sy-")
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as client:
            ok = await _status_becomes(client, secret, 200)
            await _switchyard("keys", "revoke", key_id, "--db", url)
            revoked_at = time.monotonic()
            refused = await _status_becomes(client, secret, 401)
            delay = time.monotonic() - revoked_at
    assert delay < 2.0
    # read only now: closing any descriptor of the file drops this process's SQLite locks
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("trail.db*"))
    assert secret.encode() not in stored
    error = refused.json()["error"]
    assert error["code"] == "invalid_api_key" and "revoked" in error["message"]
    trail = Trail(db)
    [served] = trail.rows(
        "SELECT virtual_key, team, customer FROM requests WHERE request_id = ?",
        ok.headers["x-request-id"],
    )
    assert tuple(served) == (key_id, "blue", "globex")
    [rejected] = trail.rows(
        "SELECT virtual_key, http_status FROM requests WHERE request_id = ?",
        refused.headers["x-request-id"],
    )
    assert tuple(rejected) == (key_id, 401)


async def test_expired_and_unknown_keys_get_401(fake: FakeProviderServer, tmp_path: Path) -> None:
    fixed_cost(fake)
    db = tmp_path / "trail.db"
    config = budget_config(fake, db)
    secret = new_secret()
    async with budget_gateway(config) as gateway:
        engine = make_engine(f"sqlite:///{db}")
        create_key(
            engine,
            StoredKey(
                id="vk_short",
                name="short-lived",
                digest=secret_digest(secret),
                prefix=shown_prefix(secret),
                account="dev",
                created_at=time.time(),
                expires_at=time.time() + 1.0,
            ),
        )
        engine.dispose()
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as client:
            await _status_becomes(client, secret, 200)
            expired = await _status_becomes(client, secret, 401)
            unknown = await client.post(
                "/v1/responses", json=body(), headers={"authorization": "Bearer sy-not-a-key"}
            )
            models = await client.get("/v1/models", headers={"authorization": f"Bearer {secret}"})
    assert "expired" in expired.json()["error"]["message"]
    assert unknown.status_code == 401 and models.status_code == 401
