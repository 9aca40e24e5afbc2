"""The real Codex CLI, run twice with the same prompt on a cache-enabled key: the second
session's first turn is served from the cache (the trail says so), and Codex still runs
the tool call it was handed and completes its turn."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from fakes import FakeProviderServer
from tests.codex_rig import run_codex
from tests.scenarios.cache_rig import ALICE, cache_rig

pytestmark = pytest.mark.codex

PROMPT = "Create the proof file.\nrun: echo switchyard-cache > proof.txt"


async def test_a_second_codex_session_is_served_from_the_cache(
    fake: FakeProviderServer, tmp_path: Path
) -> None:
    async with cache_rig(fake, tmp_path) as rig:
        base_url = rig.gateway.base_url + "/v1"
        first = await run_codex(base_url, PROMPT, api_key=ALICE, tmp=tmp_path)
        assert first.returncode == 0 and first.turn_completed, first.stderr[-3000:]
        proof = first.workdir / "proof.txt"
        assert proof.read_text().strip() == "switchyard-cache"
        proof.unlink()
        upstream_before = len(fake.requests)
        with trio.fail_after(10):  # both answers of the first session are kept
            while (await rig.cache_statistics())["stored"] < upstream_before:
                await trio.sleep(0.05)

        second = await run_codex(base_url, PROMPT, api_key=ALICE, tmp=tmp_path)
        assert second.returncode == 0 and second.turn_completed, second.stderr[-3000:]
        assert proof.read_text().strip() == "switchyard-cache"  # the cached call was run
        assert [c.get("exit_code") for c in second.commands] == [0]

        await rig.trail_flushed()
        rows = rig.trail.rows(
            "SELECT request_id, session_id, provider FROM requests ORDER BY started_at"
        )
        sessions: dict[str, list[str]] = {}
        for row in rows:
            sessions.setdefault(row["session_id"], []).append(row["request_id"])
        (one, two) = sessions.values()
        [origin] = rig.events(two[0], "cache.hit")
        assert origin["layer"] == "exact"
        assert origin["origin_request_id"] == one[0]
        assert len(fake.requests) < upstream_before * 2  # the provider did not see it all again
