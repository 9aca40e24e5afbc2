"""The real Codex CLI completes its two-turn shell-tool session through each provider
format — the gateway translating Responses to that provider and back — and through a
session whose two turns are served by two different providers."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from fakes import FakeProviderServer, Fault, Turn, open_fake_provider
from tests.codex_rig import CodexRun, run_codex
from tests.gateway_rig import VIRTUAL_KEY, Trail, config_yaml, make_config, running_gateway
from tests.scenarios.translation_rig import provider_for

pytestmark = pytest.mark.codex

PROMPT = "Create the proof file.\nrun: echo switchyard-{kind} > proof.txt"


async def _completed_rows(trail: Trail, count: int) -> list[object]:
    return list(
        await trail.wait_rows(
            "SELECT * FROM requests WHERE status = 'completed' ORDER BY started_at",
            at_least=count,
        )
    )


def _assert_session_done(run: CodexRun, kind: str) -> None:
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.turn_completed, run.events
    assert (run.workdir / "proof.txt").read_text().strip() == f"switchyard-{kind}"


@pytest.mark.parametrize(
    "kind",
    # "openai-compatible" is OpenAI Chat Completions as the upstream: Responses translated to Chat
    ["anthropic", "gemini", "cohere", "mistral", "openai-compatible"],
)
async def test_codex_session_through_provider(
    kind: str, fake: FakeProviderServer, tmp_path: Path
) -> None:
    db = tmp_path / "trail.db"
    config = make_config(config_yaml([provider_for(kind, fake)], db_path=db))
    async with running_gateway(config) as gateway:
        run = await run_codex(
            gateway.base_url + "/v1", PROMPT.format(kind=kind), api_key=VIRTUAL_KEY, tmp=tmp_path
        )
        _assert_session_done(run, kind)
        rows = await _completed_rows(Trail(db, gateway.audit), 2)
    assert {row["provider"] for row in rows} == {f"fake-{kind}"}  # type: ignore[index]
    assert len({row["session_id"] for row in rows}) == 1  # type: ignore[index]


async def test_codex_session_alternating_between_two_providers(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    first = await open_fake_provider(nursery)
    second = await open_fake_provider(nursery)
    # turn 1 is answered by the primary; its second call fails, so turn 2 fails over
    first.enqueue(Turn(), Fault(status=500))
    providers = [
        provider_for("anthropic", first, weight=1000),
        provider_for("gemini", second, weight=1),
    ]
    db = tmp_path / "trail.db"
    async with running_gateway(make_config(config_yaml(providers, db_path=db))) as gateway:
        run = await run_codex(
            gateway.base_url + "/v1",
            PROMPT.format(kind="mixed"),
            api_key=VIRTUAL_KEY,
            tmp=tmp_path,
        )
        _assert_session_done(run, "mixed")
        rows = await _completed_rows(Trail(db, gateway.audit), 2)
    assert [row["provider"] for row in rows] == ["fake-anthropic", "fake-gemini"]  # type: ignore[index]
