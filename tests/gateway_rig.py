"""Starting the real gateway for a test: in this trio run (fast, most tests) or as a
subprocess (signals, the CLI). Either way it listens on a loopback port and writes its
trail to a real SQLite file."""

from __future__ import annotations

import os
import sqlite3
import ssl
import sys
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import trio

from actors.audit import AuditLogger
from actors.system import GatewayHandle, run_gateway
from config import parse_config
from config.model import GatewayConfig

T = TypeVar("T")

VIRTUAL_KEY = "sk-sy-test-virtual-key-0001"
PROVIDER_KEY = "sk-provider-test-secret-0002"
ADMIN_KEY = "sy-test-admin-key-0123456789abcdef"  # server.admin_key, for /healthz details


def config_yaml(
    providers: list[dict[str, Any]],
    *,
    db_path: Path,
    max_body_bytes: int = 1_000_000,
    max_inflight: int = 1024,
    extra_keys: str = "",
    admin_key: str | None = None,
) -> str:
    lines = [
        "server:",
        f"  max_body_bytes: {max_body_bytes}",
        f"  max_inflight: {max_inflight}",
        *([f'  admin_key: "{admin_key}"'] if admin_key else []),
        "database:",
        f'  url: "sqlite:///{db_path}"',
        "accounts:",
        '  - id: "dev"',
        "    providers:",
    ]
    for provider in providers:
        first = True
        for key, value in provider.items():
            prefix = "      - " if first else "        "
            first = False
            if isinstance(value, dict):
                inner = ", ".join(f"{k}: {v}" for k, v in value.items())
                lines.append(f"{prefix}{key}: {{{inner}}}")
            elif isinstance(value, str):
                lines.append(f'{prefix}{key}: "{value}"')
            else:
                lines.append(f"{prefix}{key}: {value}")
    lines += [
        "virtual_keys:",
        '  - id: "codex-dev"',
        '    key: "${TEST_VIRTUAL_KEY}"',
        '    account: "dev"',
    ]
    return "\n".join(lines) + "\n" + extra_keys


def openai_provider(base_url: str, **overrides: Any) -> dict[str, Any]:
    provider: dict[str, Any] = {
        "id": "fake-openai",
        "type": "openai",
        "api_key": "${TEST_PROVIDER_KEY}",
        "model": "gpt-5.5",
        "base_url": base_url,
        "retry": {"max_retries": 0},
        "timeouts": {"first_byte_s": 5, "idle_s": 5, "total_s": 30},
    }
    provider.update(overrides)
    return provider


ENVIRON = {"TEST_VIRTUAL_KEY": VIRTUAL_KEY, "TEST_PROVIDER_KEY": PROVIDER_KEY}


def make_config(text: str, environ: Mapping[str, str] = ENVIRON) -> GatewayConfig:
    return parse_config(text, source="test.yaml", environ=dict(environ))


@asynccontextmanager
async def running_gateway(
    config: GatewayConfig, *, ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[GatewayHandle]:
    async with trio.open_nursery() as nursery:
        handle: GatewayHandle = await nursery.start(
            lambda task_status: run_gateway(
                config, port=0, ssl_context=ssl_context, task_status=task_status
            )
        )
        try:
            yield handle
        finally:
            handle.stop()


POLL_OTHER_PROCESS_S = 0.02
"""How often a wait looks again at the trail of a gateway in another process (one in
this process is looked at after each of its audit logger's flushes instead)."""


@dataclass
class Trail:
    """Read access to the gateway's SQLite file, as a user would query it.

    Tests wait for what the trail should come to hold with ``wait_rows`` /
    ``wait_until``: for a gateway in this process (``audit`` given) they look after each
    batch the audit logger commits, never on a timer.
    """

    path: Path
    audit: AuditLogger | None = None

    async def wait_rows(
        self, sql: str, *params: Any, at_least: int = 1, within_s: float = 10.0
    ) -> list[sqlite3.Row]:
        """The rows of ``sql`` once it returns ``at_least`` of them."""

        def enough() -> list[sqlite3.Row] | None:
            rows = self.rows(sql, *params)
            return rows if len(rows) >= at_least else None

        return await self.wait_until(enough, within_s=within_s)

    async def wait_no_rows(self, sql: str, *params: Any, within_s: float = 10.0) -> None:
        """Return once ``sql`` returns nothing (e.g. no request left in progress)."""
        await self.wait_until(lambda: not self.rows(sql, *params), within_s=within_s)

    async def wait_until(self, check: Callable[[], T | None], *, within_s: float = 10.0) -> T:
        """``check()``'s first truthy result, asked once the trail has caught up with
        every event sent so far and again after each later flush."""
        with trio.fail_after(within_s):
            while True:
                if self.audit is not None:
                    await self.audit.flushed()
                if result := check():
                    return result
                await self._next_write()

    async def _next_write(self) -> None:
        if self.audit is None:  # a gateway in another process
            await trio.sleep(POLL_OTHER_PROCESS_S)
        else:
            await self.audit.next_write()

    def rows(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        with sqlite3.connect(self.path) as connection:
            connection.row_factory = sqlite3.Row
            return list(connection.execute(sql, params))

    def kinds(self, request_id: str) -> list[str]:
        rows = self.rows("SELECT kind FROM events WHERE request_id = ? ORDER BY seq", request_id)
        return [row["kind"] for row in rows]

    def body(self, request_id: str, kind: str = "request.received") -> bytes | None:
        """The request's body (or, for ``response.completed``, its response) byte for byte,
        rebuilt by the storage layer from its stored parts."""
        from storage.blob_store import rebuild_body
        from storage.database import make_engine

        (row,) = self.rows(
            "SELECT payload FROM events WHERE request_id = ? AND kind = ?", request_id, kind
        )
        engine = make_engine(f"sqlite:///{self.path}")
        try:
            with engine.connect() as connection:
                return rebuild_body(connection, row["payload"].encode())
        finally:
            engine.dispose()


def auth(key: str = VIRTUAL_KEY) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def admin_auth() -> dict[str, str]:
    """The header that unlocks ``/healthz`` details (with ``admin_key=ADMIN_KEY``)."""
    return {"authorization": f"Bearer {ADMIN_KEY}"}


@contextmanager
def gateway_process(config_path: Path, env: Mapping[str, str], log_path: Path) -> Iterator[Any]:
    """``switchyard serve`` in a subprocess (stdout/stderr to ``log_path``)."""
    import subprocess

    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cli.main",
                "--log-json",
                "serve",
                "--config",
                str(config_path),
                "--port",
                "0",
            ],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
