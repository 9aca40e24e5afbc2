"""The command line a newcomer meets: config errors, migrate, demo."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import trio

from actors.demo import DEMO_KEY


def _switchyard(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
    )


def test_invalid_config_names_file_line_and_problem(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(
        "accounts:\n"
        '  - id: "dev"\n'
        "    providers:\n"
        '      - id: "p"\n'
        '        type: "openai"\n'
        '        api_key: "x"\n'
        '        model: "m"\n'
        '        weight: "sixty"\n'
    )
    result = _switchyard("serve", "--config", str(config), "--port", "0")
    assert result.returncode == 2
    assert f"{config}:8:" in result.stderr
    assert "weight" in result.stderr


def test_missing_environment_variable_is_reported_without_starting(tmp_path: Path) -> None:
    config = tmp_path / "env.yaml"
    config.write_text(
        "accounts:\n"
        '  - id: "dev"\n'
        "    providers:\n"
        '      - {id: "p", type: "openai", model: "m", api_key: "${SURELY_UNSET_KEY_X}"}\n'
    )
    result = _switchyard("serve", "--config", str(config))
    assert result.returncode == 2
    assert "SURELY_UNSET_KEY_X" in result.stderr
    assert f"{config}:4:" in result.stderr


def test_migrate_creates_the_schema(tmp_path: Path) -> None:
    db = tmp_path / "fresh.db"
    result = _switchyard("migrate", "--db", f"sqlite:///{db}")
    assert result.returncode == 0, result.stderr
    import sqlite3

    with sqlite3.connect(db) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {"events", "requests", "attempts", "alembic_version"} <= tables


async def test_demo_serves_without_any_key(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli.main",
            "demo",
            "--port",
            "0",
            "--db",
            f"sqlite:///{tmp_path / 'demo.db'}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = None
        with trio.fail_after(30):
            while url is None:
                line = await trio.to_thread.run_sync(process.stdout.readline)
                assert line, "the demo exited before printing its URL"
                found = re.search(r"the gateway on (http://127\.0\.0\.1:\d+)", line)
                url = found.group(1) if found else None
        body = {"model": "gpt-5.5", "messages": [{"role": "user", "content": "hello demo"}]}
        async with httpx.AsyncClient(base_url=url, timeout=20) as client:
            response = await client.post(
                "/v1/chat/completions", json=body, headers={"authorization": f"Bearer {DEMO_KEY}"}
            )
        assert response.status_code == 200
        assert "hello demo" in response.json()["choices"][0]["message"]["content"]
        process.send_signal(signal.SIGINT)
        with trio.fail_after(30):
            while process.poll() is None:
                await trio.sleep(0.05)
        assert process.returncode == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
