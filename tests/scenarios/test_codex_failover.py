"""The real Codex CLI completes its two-turn shell-tool session while the primary provider
fails every request — with a 500, or by hanging before its first byte — because the
gateway fails over to the next provider before Codex sees anything."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from fakes import Fault, Turn, open_fake_provider
from tests.codex_rig import run_codex
from tests.gateway_rig import VIRTUAL_KEY, Trail
from tests.scenarios.failover_rig import gate, upstream

pytestmark = pytest.mark.codex

PROMPT = "Create the proof file.\nrun: echo switchyard-failover > proof.txt"
PRIMARY = 1_000_000_000


@pytest.mark.parametrize(
    ("fault", "outcome"),
    [(Fault(status=500), "upstream_error"), (Fault(hang_before_headers_s=60), "timeout")],
    ids=["primary-500", "primary-hangs"],
)
async def test_codex_session_completes_while_the_primary_fails(
    nursery: trio.Nursery, tmp_path: Path, fault: Fault, outcome: str
) -> None:
    primary, fallback = await open_fake_provider(nursery), await open_fake_provider(nursery)
    primary.fallback = Turn(fault=fault)
    timeouts = {"first_byte_s": 1, "idle_s": 10, "total_s": 60}
    breaker = {"failure_threshold": 100, "cooldown_s": 1}  # keep the primary in every route
    providers = [
        upstream(primary, "primary", weight=PRIMARY, timeouts=timeouts, breaker=breaker),
        upstream(fallback, "fallback", timeouts=timeouts),
    ]
    async with gate(providers, tmp_path) as g:
        run = await run_codex(g.gateway.base_url + "/v1", PROMPT, api_key=VIRTUAL_KEY, tmp=tmp_path)
        assert run.returncode == 0, run.stderr[-3000:]
        assert run.turn_completed, run.events
        assert (run.workdir / "proof.txt").read_text().strip() == "switchyard-failover"
        rows = await _completed(g.trail, 2)
    assert {row["provider"] for row in rows} == {"fallback"}
    assert len(primary.requests) >= 2  # each turn tried the primary first
    for row in rows:
        attempts = g.trail.rows(
            "SELECT provider, outcome, reason FROM attempts WHERE request_id = ? ORDER BY attempt",
            row["request_id"],
        )
        assert [(a["provider"], a["outcome"]) for a in attempts] == [
            ("primary", outcome),
            ("fallback", "ok"),
        ]
        assert attempts[1]["reason"].startswith(f"failover from primary: {outcome}")


async def _completed(trail: Trail, count: int) -> list[object]:
    with trio.fail_after(5):
        while True:
            rows = trail.rows(
                "SELECT * FROM requests WHERE status = 'completed' ORDER BY started_at"
            )
            if len(rows) >= count:
                return rows  # type: ignore[return-value]
            await trio.sleep(0.02)
