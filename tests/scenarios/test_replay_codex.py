"""A session logged by the real Codex CLI through one mix, replayed against another."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
import trio

from fakes import FakeUsage, FunctionCall, Reply, Text, open_fake_provider
from tests.codex_rig import run_codex
from tests.gateway_rig import VIRTUAL_KEY, Trail, make_config, running_gateway
from tests.scenarios.replay_rig import (
    ORIGINAL_MODEL,
    ORIGINAL_PRICE,
    REPLAY_MODEL,
    REPLAY_PRICE,
    cost,
    original_yaml,
    replay_yaml,
    switchyard,
)

pytestmark = pytest.mark.codex

COMMAND = json.dumps({"cmd": "echo switchyard-replay > proof.txt"})
ORIGINAL_USAGE = FakeUsage(input_tokens=1200, output_tokens=80)
REPLAY_USAGE = FakeUsage(input_tokens=1500, output_tokens=40)


async def test_codex_session_replayed_against_another_mix(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    original, other = await open_fake_provider(nursery), await open_fake_provider(nursery)
    original.enqueue(
        Reply(items=(FunctionCall(name="exec_command", arguments=COMMAND),), usage=ORIGINAL_USAGE),
        Reply(items=(Text(text="Done. The file proof.txt holds the line."),), usage=ORIGINAL_USAGE),
    )
    db = tmp_path / "trail.db"
    async with running_gateway(make_config(original_yaml(original, db))) as gateway:
        run = await run_codex(
            gateway.base_url + "/v1",
            "Write the proof file.",
            api_key=VIRTUAL_KEY,
            tmp=tmp_path,
            model=ORIGINAL_MODEL,
        )
        assert run.returncode == 0, run.stderr[-3000:]
        assert (run.workdir / "proof.txt").read_text().strip() == "switchyard-replay"
    trail = Trail(db)
    logged = trail.rows("SELECT * FROM requests ORDER BY started_at")
    assert [row["status"] for row in logged] == ["completed", "completed"]

    sessions = await switchyard("sessions", "--db", f"sqlite:///{db}", "--json")
    assert sessions.returncode == 0, sessions.stderr
    (session,) = sessions.json()
    assert session["session"] == logged[0]["session_id"] and session["turns"] == 2
    assert session["cost_usd"] == pytest.approx(2 * cost(ORIGINAL_PRICE, ORIGINAL_USAGE))
    assert (session["providers"], session["models"]) == ("fake-openai", ORIGINAL_MODEL)

    # the other mix calls the same tool with the same arguments (keys spaced otherwise),
    # then answers in other words
    other.enqueue(
        Reply(
            items=(FunctionCall(name="exec_command", arguments=COMMAND.replace(": ", ":")),),
            usage=REPLAY_USAGE,
        ),
        Reply(items=(Text(text="Done. proof.txt now holds the line."),), usage=REPLAY_USAGE),
    )
    config = tmp_path / "other.yaml"
    config.write_text(replay_yaml(other, db))
    out = tmp_path / "report"
    result = await switchyard(
        "replay",
        "--config",
        str(config),
        "--session",
        session["session"],
        "--concurrency",
        "1",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert "overall" in result.stdout  # the table
    assert (out / "report.html").is_file()
    report = orjson.loads((out / "report.json").read_bytes())
    overall = report["rows"][0]
    original_cost = 2 * cost(ORIGINAL_PRICE, ORIGINAL_USAGE)
    replay_cost = 2 * cost(REPLAY_PRICE, REPLAY_USAGE)
    assert overall["original_cost_usd"] == pytest.approx(original_cost)
    assert overall["replay_cost_usd"] == pytest.approx(replay_cost)
    assert overall["cost_difference_usd"] == pytest.approx(replay_cost - original_cost)
    assert overall["original_input_tokens"] == 2 * ORIGINAL_USAGE.input_tokens
    assert overall["replay_output_tokens"] == 2 * REPLAY_USAGE.output_tokens
    (pair,) = report["rows"][1:]
    assert (pair["original_model"], pair["replay_model"]) == (ORIGINAL_MODEL, REPLAY_MODEL)
    assert (pair["original_provider_type"], pair["replay_provider_type"]) == ("openai", "anthropic")
    verdicts = [row["verdict"] for row in report["requests"]]
    assert verdicts == ["same_tools_same_args", "both_text"]
    assert 0 < report["requests"][1]["text_similarity"] < 1
    # each turn went with its logged history: the second carries the first's tool result
    assert len(other.requests) == 2
    first, second = (orjson.dumps(request.body) for request in other.requests)
    assert b"tool_result" not in first and b"tool_result" in second
    replays = trail.rows("SELECT * FROM requests WHERE replay_run_id IS NOT NULL")
    assert {row["session_id"] for row in replays} == {session["session"]}
