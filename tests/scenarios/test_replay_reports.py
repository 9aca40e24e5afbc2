"""The reports over a trail the real gateway wrote: a Codex-shaped session through a fake
provider with fixed usage. ``switchyard whatif`` with the same config prices it to the
logged costs; ``switchyard models`` counts the tool calls Codex answered successfully."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import trio

from budgets.pricing import PriceTable, usage_cost
from fakes import FakeProviderServer, FakeUsage, Reply, Text
from fakes.script import FunctionCall
from messages.usage import Usage
from replay.tokenizers import count_tokens
from tests.gateway_rig import (
    ENVIRON,
    Trail,
    auth,
    config_yaml,
    make_config,
    openai_provider,
    running_gateway,
)
from tests.scenarios.translation_rig import provider_for

USAGE = FakeUsage(input_tokens=1200, cached_tokens=200, output_tokens=300, reasoning_tokens=100)
# gpt-5.5: $5 in, $0.50 cached, $30 out (reasoning is output) — per million tokens
TURN_USD = (1000 * 5 + 200 * 0.5 + 300 * 30) / 1e6


def _turn(outputs: dict[str, str]) -> dict[str, Any]:
    items: list[dict[str, Any]] = [{"type": "message", "role": "user", "content": "fix it"}]
    items += [
        {"type": "function_call_output", "call_id": c, "output": o} for c, o in outputs.items()
    ]
    return {"model": "gpt-5.5", "input": items, "stream": False}


def _switchyard(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "cli.main", *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, check=False, env=env
    )


async def test_whatif_and_models_over_a_gateway_trail(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    db = tmp_path / "trail.db"
    text = config_yaml([openai_provider(fake.base_url)], db_path=db)
    config_path = tmp_path / "live.yaml"
    config_path.write_text(text)
    fake.enqueue(
        Reply(
            items=(
                FunctionCall(name="exec_command", arguments="{}", call_id="c1"),
                FunctionCall(name="exec_command", arguments="{}", call_id="c2"),
            ),
            usage=USAGE,
        ),
        Reply(
            items=(FunctionCall(name="exec_command", arguments="{}", call_id="c3"),), usage=USAGE
        ),
        Reply(items=(Text(text="done"),), usage=USAGE),
    )
    turns = [
        _turn({}),
        _turn(
            {"c1": "Process exited with code 0\nOutput:\nok", "c2": "Process exited with code 1"}
        ),
        _turn({"c3": "Chunk ID: 9\nProcess exited with code 0\nOutput:\n"}),
    ]
    async with running_gateway(make_config(text)) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as client:
            for body in turns:
                headers = auth() | {"session-id": "s-1"}
                response = await client.post("/v1/responses", json=body, headers=headers)
                assert response.status_code == 200, response.text
    trail = Trail(db)
    with trio.fail_after(5):
        while len(trail.rows("SELECT 1 FROM requests WHERE status = 'completed'")) < 3:
            await trio.sleep(0.01)
    logged = sum(row["cost_usd"] for row in trail.rows("SELECT cost_usd FROM requests"))
    assert logged == pytest.approx(3 * TURN_USD, rel=1e-9)
    env = {**os.environ, **ENVIRON}
    url = f"sqlite:///{db}"
    whatif = _switchyard("whatif", "--config", str(config_path), "--db", url, "--json", env=env)
    assert whatif.returncode == 0, whatif.stderr
    overall = orjson.loads(whatif.stdout)["rows"][0]
    assert overall["original_cost_usd"] == pytest.approx(3 * TURN_USD, rel=1e-9)
    assert overall["replay_cost_usd"] == pytest.approx(3 * TURN_USD, rel=1e-9)
    assert overall["cost_difference_usd"] == pytest.approx(0.0, abs=1e-12)
    models = _switchyard("models", "--db", url, "--json", env=env)
    assert models.returncode == 0, models.stderr
    [_, row] = orjson.loads(models.stdout)["rows"]
    assert (row["original_provider"], row["original_model"], row["requests"]) == (
        "fake-openai",
        "gpt-5.5",
        3,
    )
    assert row["cost_per_request_usd"] == pytest.approx(TURN_USD, rel=1e-9)
    assert row["cost_per_session_usd"] == pytest.approx(3 * TURN_USD, rel=1e-9)
    # three calls: c1 answered with exit 0, c2 with exit 1, c3 with exit 0
    assert (row["tool_calls"], row["tool_calls_followed"]) == (3, 2)
    assert row["ttfb_p50_ms"] is not None and row["latency_p95_ms"] is not None


async def test_whatif_recounts_another_tokenizer_on_logged_bodies(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    """Claude's logged counts, moved to GPT-5.5: re-counted with o200k_base on the stored
    body and response, the ratios applied, the cost priced at GPT-5.5's prices."""
    db = tmp_path / "trail.db"
    text = config_yaml([provider_for("anthropic", fake)], db_path=db)
    prompt = "Please rename the helper in utils.py and update every caller. " * 20
    fake.enqueue(Reply(items=(Text(text="Renamed it in four places."),), usage=USAGE))
    async with running_gateway(make_config(text)) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as client:
            body = {"model": "gpt-5.5", "input": prompt, "stream": False}
            response = await client.post("/v1/responses", json=body, headers=auth())
            assert response.status_code == 200, response.text
    trail = Trail(db)
    with trio.fail_after(5):
        while not trail.rows("SELECT 1 FROM requests WHERE status = 'completed'"):
            await trio.sleep(0.01)
    other = tmp_path / "other.yaml"
    other.write_text(config_yaml([openai_provider(fake.base_url)], db_path=db))
    env = {**os.environ, **ENVIRON}
    args = ("whatif", "--config", str(other), "--db", f"sqlite:///{db}", "--json")
    result = _switchyard(*args, env=env)
    assert result.returncode == 0, result.stderr
    document = orjson.loads(result.stdout)
    [logged] = trail.rows("SELECT * FROM requests")
    fin = count_tokens("o200k_base", prompt) / logged["input_tokens"]
    visible = logged["output_tokens"] - logged["reasoning_tokens"]
    fout = count_tokens("o200k_base", "Renamed it in four places.") / visible
    assert (
        "fake-anthropic/claude-sonnet-4-5-20250929 re-counted with o200k_base on 1 "
        in (document["estimate_note"])
    )
    usage = Usage(
        input_tokens=round(logged["input_tokens"] * fin),
        cached_input_tokens=round(logged["cached_input_tokens"] * fin),
        output_tokens=round(logged["output_tokens"] * fout),
        reasoning_tokens=round(logged["reasoning_tokens"] * fout),
    )
    price = PriceTable.shipped().find("openai", "gpt-5.5")
    assert price is not None
    overall = document["rows"][0]
    assert overall["replay_input_tokens"] == usage.input_tokens
    assert overall["replay_output_tokens"] == usage.output_tokens
    assert overall["replay_cost_usd"] == pytest.approx(usage_cost(price, usage), rel=1e-9)
    kept = _switchyard(*args, "--logged-counts", env=env)
    assert orjson.loads(kept.stdout)["rows"][0]["replay_input_tokens"] == logged["input_tokens"]
