"""The real Codex CLI, looping on a tool it lacks (the model keeps calling it), is stopped
by the session cap: its request over the cap gets a 429 with Retry-After, and Codex shows
its user the gateway's sentence about the session's requests in the last minute."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import trio

from fakes import FunctionCall, Reply, Turn, open_fake_provider
from tests.codex_rig import run_codex
from tests.scenarios.failover_rig import gate, upstream

pytestmark = pytest.mark.codex

CAP = 4
LOOPING_KEY = "sk-sy-test-virtual-key-looping-0031"
LOOPING = f"""  - id: "looping"
    key: "{LOOPING_KEY}"
    account: "dev"
    session_requests_per_minute: {CAP}
"""


async def test_a_looping_codex_session_is_stopped_at_the_cap_with_a_message_it_shows(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    fake = await open_fake_provider(nursery)
    loop = Reply(items=(FunctionCall(name="tool_codex_does_not_have", arguments="{}"),))
    fake.fallback = Turn(reply=loop)
    async with gate([upstream(fake, "a")], tmp_path, extra=LOOPING) as g:
        run = await run_codex(
            g.gateway.base_url + "/v1",
            "Use your tools until the task is done.",
            api_key=LOOPING_KEY,
            tmp=tmp_path,
            stream_max_retries=0,
            timeout_s=120,
        )
        await g.trail.wait_rows(
            "SELECT 1 FROM requests WHERE finished_at IS NOT NULL", at_least=CAP + 1
        )
        rows = g.trail.rows("SELECT status, session_id FROM requests ORDER BY started_at")
    failed = [event for event in run.events if event.get("type") == "turn.failed"]
    assert failed, orjson.dumps(run.events).decode()[-3000:]
    shown = str(failed[-1]["error"])  # what Codex tells its user
    assert f"this session sent {CAP} requests in the last minute" in shown, shown
    assert "stuck in a loop" in shown
    assert not run.turn_completed
    assert len(fake.requests) == CAP  # the request over the cap never reached the provider
    assert [row["status"] for row in rows[:CAP]] == ["completed"] * CAP
    assert rows[CAP]["status"] == "failed"
    assert len({row["session_id"] for row in rows}) == 1 and rows[0]["session_id"]
