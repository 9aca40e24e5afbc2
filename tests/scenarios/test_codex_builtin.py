"""The real Codex CLI through its built-in ``openai`` provider (``openai_base_url`` at the
gateway, the virtual key stored with ``codex login --with-api-key``), configured by
``switchyard codex-config --form builtin``: a tool turn over the Responses WebSocket with
no fallback to HTTP, and Codex's model list filled from the gateway's catalog."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from pathlib import Path

import orjson
import pytest
import trio

from tests.codex_rig import codex_binary, codex_config_toml, run_codex
from tests.gateway_rig import VIRTUAL_KEY
from tests.scenarios.conftest import Rig

pytestmark = pytest.mark.codex

PROMPT = "Create the proof file.\nrun: echo switchyard-builtin > proof.txt"
FALLBACK_SIGNS = ("Reconnecting", "Falling back", "HTTPS transport")


async def _completed_rows(rig: Rig, count: int) -> list[dict[str, object]]:
    rows = await rig.trail.wait_rows(
        "SELECT * FROM requests WHERE status = 'completed' ORDER BY started_at", at_least=count
    )
    return [dict(row) for row in rows]


async def test_codex_builtin_provider_runs_a_tool_turn_over_the_websocket(
    rig: Rig, tmp_path: Path
) -> None:
    run = await run_codex(
        rig.gateway.base_url + "/v1", PROMPT, api_key=VIRTUAL_KEY, tmp=tmp_path, form="builtin"
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert 'openai_base_url = "' + rig.gateway.base_url + '/v1"' in run.config_toml
    assert "model_providers" not in run.config_toml
    assert run.turn_completed, run.events
    assert (run.workdir / "proof.txt").read_text().strip() == "switchyard-builtin"
    for sign in FALLBACK_SIGNS:
        assert sign not in run.stdout and sign not in run.stderr, sign
    rows = await _completed_rows(rig, 2)
    assert len(rows) == 2  # the two model turns; Codex's warm-up asked no model
    assert {row["session_id"] for row in rows} != {None}
    assert len({row["session_id"] for row in rows}) == 1
    second = rig.trail.body(str(rows[1]["request_id"]))
    assert second is not None and b"function_call_output" in second
    assert b'"function_call"' in second  # the incremental input was made whole again
    print(f"\ncodex exec, built-in provider over the WebSocket: {run.seconds:.2f} s")


async def test_builtin_against_custom_provider_time(rig: Rig, tmp_path: Path) -> None:
    """Both ways of configuring Codex complete the same task; their times are printed
    (run with -s), never asserted: performance is measured, not tested."""
    times = {}
    for form in ("custom", "builtin"):
        (tmp_path / form).mkdir()
        run = await run_codex(
            rig.gateway.base_url + "/v1",
            PROMPT,
            api_key=VIRTUAL_KEY,
            tmp=tmp_path / form,
            form=form,
        )
        assert run.returncode == 0 and run.turn_completed, run.stderr[-2000:]
        assert not any(sign in run.stdout + run.stderr for sign in FALLBACK_SIGNS)
        times[form] = run.seconds
    print(
        f"\ncodex exec wall time: custom provider {times['custom']:.2f} s, "
        f"built-in provider (WebSocket) {times['builtin']:.2f} s"
    )


def _chatgpt_style_login(home: Path, access_token: str) -> None:
    """An ``auth.json`` as a ChatGPT login leaves it, whose access token is the virtual
    key: Codex then sends it as the bearer token and fetches ``/models`` from the gateway."""

    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {
        "email": "dev@example.com",
        "exp": now + 86400,
        "iat": now,
        "https://api.openai.com/auth": {
            "chatgpt_plan_type": "pro",
            "chatgpt_account_id": "acct-local",
            "chatgpt_user_id": "user-local",
        },
    }
    id_token = f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.sig"
    auth = {
        "auth_mode": "chatgpt",
        "OPENAI_API_KEY": None,
        "tokens": {
            "id_token": id_token,
            "access_token": access_token,
            "refresh_token": "refresh-local",
            "account_id": "acct-local",
        },
        "last_refresh": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()),
    }
    (home / "auth.json").write_text(json.dumps(auth))


async def test_codexs_model_list_is_filled_from_the_gateways_catalog(
    rig: Rig, tmp_path: Path
) -> None:
    home = tmp_path / "codex_home"
    home.mkdir()
    config = await codex_config_toml(
        rig.gateway.base_url + "/v1",
        model="gpt-5.5",
        form="builtin",
        stream_max_retries=1,
        tmp=tmp_path,
    )
    (home / "config.toml").write_text(config)
    _chatgpt_style_login(home, VIRTUAL_KEY)
    env = {k: v for k, v in os.environ.items() if k not in {"OPENAI_API_KEY", "CODEX_API_KEY"}}
    env.update(CODEX_HOME=str(home), RUST_LOG="warn")
    requests = [
        {"id": 0, "method": "initialize", "params": {"clientInfo": {"name": "t", "version": "1"}}},
        {"method": "initialized", "params": {}},
        {"id": 1, "method": "model/list", "params": {}},
    ]
    listed = await _app_server_answer(env, requests, answer_id=1)
    ids = [model["id"] for model in listed["result"]["data"]]  # type: ignore[index]
    assert ids == ["gpt-5.5", "fake-openai/gpt-5.5"]  # the routes of the key's account
    cache = orjson.loads((home / "models_cache.json").read_bytes())
    assert [model["slug"] for model in cache["models"]] == ids  # decoded, and kept


async def _app_server_answer(
    env: dict[str, str], requests: list[dict[str, object]], *, answer_id: int
) -> dict[str, object]:
    """Send JSON-RPC lines to ``codex app-server`` and return the answer to ``answer_id``."""
    async with trio.open_nursery() as nursery:
        process = await nursery.start(
            lambda task_status: trio.run_process(
                [codex_binary(), "app-server"],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                check=False,
                task_status=task_status,
            )
        )
        try:
            with trio.fail_after(60):
                for request in requests:
                    await process.stdin.send_all(orjson.dumps(request) + b"\n")
                buffer = b""
                while True:
                    chunk = await process.stdout.receive_some(65536)
                    assert chunk, "app-server ended before answering"
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        message = orjson.loads(line) if line.strip() else {}
                        if message.get("id") == answer_id:
                            return message  # type: ignore[no-any-return]
        finally:
            process.kill()
