"""Provider prompt caching for Codex on Claude: a multi-turn session of the real Codex CLI
through the gateway to the Anthropic fake. From turn 2 on the trail shows cached input
tokens, and each turn costs what the shipped prices say for its fresh, written and read
tokens — less than the same turn without the cache."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from budgets.pricing import PER_TOKEN, ModelPrice, PriceTable
from fakes import FakeProviderServer, FakeUsage, FunctionCall, Reply, Text
from fakes.prompt_cache import PromptCache
from tests.codex_rig import run_codex
from tests.gateway_rig import VIRTUAL_KEY, Trail, auth, config_yaml, make_config, running_gateway
from tests.scenarios.translation_rig import MODELS, provider_for

MODEL = MODELS["anthropic"]
STEPS = ("echo one > one.txt", "echo two > two.txt", "echo three > three.txt")
PROMPT = "Create three files, one command at a time."


def _price() -> ModelPrice:
    price = PriceTable.shipped().find("anthropic", MODEL)
    assert price is not None and price.cached_input is not None and price.cache_write is not None
    return price


def _dollars(price: ModelPrice, *, fresh: int, read: int, written: int, output: int) -> float:
    """The cost of one turn, straight from the price table (USD per million tokens)."""
    assert price.cached_input is not None and price.cache_write is not None
    per_m = (
        fresh * price.input
        + read * price.cached_input
        + written * price.cache_write
        + output * price.output
    )
    return per_m * PER_TOKEN


def _replayed_usage(fake: FakeProviderServer) -> list[FakeUsage]:
    """What the fake charged each request: its bodies replayed through a fresh cache."""
    cache = PromptCache()
    charged = []
    for n, request in enumerate(fake.requests):
        assert isinstance(request.body, dict) and request.turn and request.turn.reply
        usage = FakeUsage(input_tokens=len(request.raw_body) // 4)
        scope = (request.header("x-api-key") or "", MODEL)
        charged.append(cache.charged(usage, request.body, scope=scope, now=float(n)))
    return charged


async def _rows(trail: Trail, count: int) -> list[Any]:
    sql = "SELECT * FROM requests WHERE status = 'completed' ORDER BY started_at"
    return await trail.wait_rows(sql, at_least=count)


@pytest.mark.codex
async def test_codex_session_on_claude_reads_its_prefix_from_turn_two(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    calls = [
        Reply(items=(FunctionCall(name="exec_command", arguments=json.dumps({"cmd": c})),))
        for c in STEPS
    ]
    fake.enqueue(*calls, Reply(items=(Text(text="Created the three files."),)))
    db = tmp_path / "trail.db"
    config = make_config(config_yaml([provider_for("anthropic", fake)], db_path=db))
    async with running_gateway(config) as gateway:
        run = await run_codex(gateway.base_url + "/v1", PROMPT, api_key=VIRTUAL_KEY, tmp=tmp_path)
        assert run.returncode == 0, run.stderr[-3000:]
        assert run.turn_completed
        rows = await _rows(Trail(db, gateway.audit), len(STEPS) + 1)
    assert [(run.workdir / f).read_text().strip() for f in ("one.txt", "two.txt", "three.txt")] == [
        "one",
        "two",
        "three",
    ]
    upstream = [r.body for r in fake.requests]
    marks = [json.dumps(body).count('"cache_control"') for body in upstream]
    # turn 1: tools, system, the user turn; then also the previous user turn's end
    assert marks == [3, 4, 4, 4], marks

    price = _price()
    charged = _replayed_usage(fake)
    figures = []
    for turn, (row, usage) in enumerate(zip(rows, charged, strict=True), start=1):
        # the trail holds exactly what the fake billed, in OpenAI's arithmetic
        assert (row["cached_input_tokens"], row["cache_write_tokens"]) == (
            usage.cached_tokens,
            usage.cache_write_tokens,
        )
        assert row["input_tokens"] == usage.input_tokens
        fresh = row["input_tokens"] - row["cached_input_tokens"] - row["cache_write_tokens"]
        expected = _dollars(
            price,
            fresh=fresh,
            read=row["cached_input_tokens"],
            written=row["cache_write_tokens"],
            output=row["output_tokens"],
        )
        uncached = _dollars(
            price, fresh=row["input_tokens"], read=0, written=0, output=row["output_tokens"]
        )
        assert row["cost_usd"] == pytest.approx(expected, rel=1e-9)
        figures.append((turn, row, uncached))
    first, *later = figures
    assert first[1]["cached_input_tokens"] == 0 and first[1]["cache_write_tokens"] > 1024
    for _, row, uncached in later:
        assert row["cached_input_tokens"] >= first[1]["cache_write_tokens"]
        saving = row["cached_input_tokens"] * (price.input - price.cached_input)  # type: ignore[operator]
        premium = row["cache_write_tokens"] * (price.cache_write - price.input)  # type: ignore[operator]
        assert uncached - row["cost_usd"] == pytest.approx((saving - premium) * PER_TOKEN)
        assert row["cost_usd"] < uncached
    _print_figures(price, figures)


def _print_figures(price: ModelPrice, figures: list[tuple[int, Any, float]]) -> None:
    print(
        f"\n{MODEL}: input {price.input}, cache read {price.cached_input}, "
        f"cache write {price.cache_write}, output {price.output} USD/Mtok"
    )
    print("turn  input  cached  written  output   cost_usd  uncached_usd  saved")
    for turn, row, uncached in figures:
        print(
            f"{turn:>4} {row['input_tokens']:>6} {row['cached_input_tokens']:>7} "
            f"{row['cache_write_tokens']:>8} {row['output_tokens']:>7} {row['cost_usd']:>10.6f} "
            f"{uncached:>13.6f} {1 - row['cost_usd'] / uncached:>6.1%}"
        )


async def test_prompt_cache_off_sends_no_marks_and_bills_in_full(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    db = tmp_path / "trail.db"
    provider = provider_for("anthropic", fake, prompt_cache="off")
    body = {
        "model": "gpt-5.5",
        "instructions": "You are a careful coding agent. " * 300,
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "hello"}]}],
        "stream": False,
    }
    async with running_gateway(make_config(config_yaml([provider], db_path=db))) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10) as http:
            for _ in range(2):
                reply = await http.post("/v1/responses", json=body, headers=auth())
                assert reply.status_code == 200, reply.text
                details = reply.json()["usage"]["input_tokens_details"]
                assert details["cached_tokens"] == 0
        rows = await _rows(Trail(db, gateway.audit), 2)
    assert all(b"cache_control" not in r.raw_body for r in fake.requests)
    assert [(r["cached_input_tokens"], r["cache_write_tokens"]) for r in rows] == [(0, 0), (0, 0)]


async def test_prompt_cache_auto_reads_on_the_second_request(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    db = tmp_path / "trail.db"
    body = {
        "model": "gpt-5.5",
        "instructions": "You are a careful coding agent. " * 300,
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "hello"}]}],
        "stream": False,
    }
    config = make_config(config_yaml([provider_for("anthropic", fake)], db_path=db))
    async with running_gateway(config) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10) as http:
            usages = []
            for _ in range(2):
                reply = await http.post("/v1/responses", json=body, headers=auth())
                assert reply.status_code == 200, reply.text
                usages.append(reply.json()["usage"])
        rows = await _rows(Trail(db, gateway.audit), 2)
    written = rows[0]["cache_write_tokens"]
    assert written > 1024 and rows[0]["cached_input_tokens"] == 0
    assert (rows[1]["cached_input_tokens"], rows[1]["cache_write_tokens"]) == (written, 0)
    assert usages[1]["input_tokens_details"]["cached_tokens"] == written
    assert rows[1]["cost_usd"] < rows[0]["cost_usd"]
