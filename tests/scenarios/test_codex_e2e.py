"""The real Codex CLI completes a two-turn, tool-using session through the gateway."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.codex_rig import run_codex
from tests.gateway_rig import VIRTUAL_KEY
from tests.scenarios.conftest import Rig

pytestmark = pytest.mark.codex


async def test_codex_runs_a_shell_command_and_the_trail_holds_both_turns(
    rig: Rig, tmp_path: Path
) -> None:
    prompt = "Create the proof file.\nrun: echo switchyard-e2e > proof.txt"
    run = await run_codex(rig.gateway.base_url + "/v1", prompt, api_key=VIRTUAL_KEY, tmp=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.turn_completed, run.events
    proof = run.workdir / "proof.txt"
    assert proof.read_text().strip() == "switchyard-e2e"
    assert [c.get("exit_code") for c in run.commands] == [0]

    rows = await rig.trail.wait_rows(
        "SELECT * FROM requests WHERE status = 'completed' ORDER BY started_at", at_least=2
    )
    assert len(rows) == 2
    sessions = {row["session_id"] for row in rows}
    assert len(sessions) == 1 and None not in sessions
    assert all(row["input_tokens"] > 0 and row["output_tokens"] > 0 for row in rows)
    first, second = (rig.trail.body(row["request_id"]) for row in rows)
    assert first is not None and second is not None
    assert b"function_call_output" not in first
    assert b"function_call_output" in second  # turn 2 carries the command's output back
    upstream_tools = {
        tool.get("name")
        for tool in rig.fake.requests[0].body["tools"]  # type: ignore[union-attr]
    }
    assert "exec_command" in upstream_tools
