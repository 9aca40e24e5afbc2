"""``switchyard sessions``: one row per Codex session, thread, client session or request."""

from __future__ import annotations

import trio

from tests.gateway_rig import auth
from tests.scenarios.conftest import Rig
from tests.scenarios.replay_rig import responses_body, switchyard


async def test_sessions_group_by_session_then_thread_then_header_then_request(rig: Rig) -> None:
    sent = [
        {"session-id": "codex-1", "thread-id": "t-1"},
        {"session-id": "codex-1", "thread-id": "t-1"},
        {"thread-id": "t-2"},
        {"x-switchyard-session": "mine"},
        {},
    ]
    ids = []
    for headers in sent:
        response = await rig.client.post(
            "/v1/responses", json=responses_body("hi"), headers=auth() | headers
        )
        assert response.status_code == 200
        ids.append(response.headers["x-request-id"])
    with trio.fail_after(5):
        while len(rig.trail.rows("SELECT 1 FROM requests WHERE status = 'completed'")) < 5:
            await trio.sleep(0.02)
    db = f"sqlite:///{rig.trail.path}"
    result = await switchyard("sessions", "--db", db, "--json")
    assert result.returncode == 0, result.stderr
    turns = {row["session"]: row["turns"] for row in result.json()}
    assert turns == {"codex-1": 2, "t-2": 1, "mine": 1, ids[4]: 1}
    row = next(row for row in result.json() if row["session"] == "codex-1")
    assert (row["providers"], row["models"], row["errors"]) == ("fake-openai", "gpt-5.5", 0)
    assert row["input_tokens"] > 0 and row["cost_usd"] > 0

    only = await switchyard("sessions", "--db", db, "--model", "nope", "--json")
    assert only.json() == []
    table = await switchyard("sessions", "--db", db, "--since", "1h")
    assert "codex-1" in table.stdout and "turns" in table.stdout
