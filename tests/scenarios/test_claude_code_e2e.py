"""The real Claude Code CLI completes a Bash tool turn through the gateway's Anthropic
Messages endpoint, served by an OpenAI-compatible (Chat Completions) upstream; its
session id is in the trail."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import trio

from fakes import FakeProviderServer
from tests.claude_code_rig import run_claude
from tests.gateway_rig import VIRTUAL_KEY, Trail, config_yaml, make_config, running_gateway
from tests.scenarios.conftest import Rig
from tests.scenarios.translation_rig import provider_for

pytestmark = pytest.mark.claude_code


@pytest.fixture
async def chat_rig(fake: FakeProviderServer, tmp_path: Path) -> AsyncIterator[Rig]:
    async with _rig_for("openai-compatible", fake, tmp_path) as rig:
        yield rig


@pytest.fixture
async def anthropic_rig(fake: FakeProviderServer, tmp_path: Path) -> AsyncIterator[Rig]:
    async with _rig_for("anthropic", fake, tmp_path) as rig:
        yield rig


@asynccontextmanager
async def _rig_for(kind: str, fake: FakeProviderServer, tmp_path: Path) -> AsyncIterator[Rig]:
    db = tmp_path / "trail.db"
    config = make_config(config_yaml([provider_for(kind, fake)], db_path=db))
    async with running_gateway(config) as gateway:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=20) as client:
            yield Rig(fake=fake, gateway=gateway, client=client, trail=Trail(db))


async def test_claude_code_runs_bash_through_a_chat_upstream(chat_rig: Rig, tmp_path: Path) -> None:
    prompt = "Create the proof file.\nrun: echo switchyard-claude > proof.txt"
    run = await run_claude(chat_rig.gateway.base_url, prompt, api_key=VIRTUAL_KEY, tmp=tmp_path)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    assert (run.workdir / "proof.txt").read_text().strip() == "switchyard-claude"
    assert "Done." in run.stdout  # the fake's answer to the tool result reached the user

    first, second = chat_rig.fake.requests  # Chat Completions, as the upstream saw them
    assert isinstance(first.body, dict) and isinstance(second.body, dict)
    tools = {tool["function"]["name"] for tool in first.body["tools"]}
    assert "Bash" in tools
    roles = [message["role"] for message in first.body["messages"]]
    assert roles[0] == "system" and "system" in roles[1:]  # Claude Code's mid-conversation one
    calls = second.body["messages"][-2]["tool_calls"]
    assert json.loads(calls[0]["function"]["arguments"]) == {
        "command": "echo switchyard-claude > proof.txt"
    }
    assert second.body["messages"][-1]["role"] == "tool"

    with trio.fail_after(5):
        while len(rows := _completed(chat_rig.trail)) < 2:
            await trio.sleep(0.02)
    assert {row["client_format"] for row in rows} == {"anthropic"}
    sessions = {row["session_id"] for row in rows}
    assert len(sessions) == 1, sessions
    (session,) = sessions
    assert session is not None and len(session) == 36  # Claude Code's session UUID
    received = chat_rig.trail.rows(
        "SELECT payload FROM events WHERE kind = 'request.received' ORDER BY seq"
    )
    assert all(session in row["payload"] for row in received)
    assert all("claude-cli" in json.loads(row["payload"])["user_agent"] for row in received)


def _completed(trail: Trail) -> list[sqlite3.Row]:
    return trail.rows("SELECT * FROM requests WHERE status = 'completed' ORDER BY started_at")


async def test_claude_code_runs_bash_through_anthropic_passthrough(
    anthropic_rig: Rig, tmp_path: Path
) -> None:
    """To an Anthropic upstream the request goes as Claude Code wrote it (its beta
    header, its cache marks, its ``system`` message inside ``messages``)."""
    rig = anthropic_rig
    prompt = "Create the proof file.\nrun: echo switchyard-passthrough > proof.txt"
    run = await run_claude(rig.gateway.base_url, prompt, api_key=VIRTUAL_KEY, tmp=tmp_path)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    assert (run.workdir / "proof.txt").read_text().strip() == "switchyard-passthrough"
    assert "Done." in run.stdout
    first = rig.fake.requests[0]
    assert first.header("anthropic-beta") and "claude-code" in first.header("anthropic-beta")  # type: ignore[operator]
    assert "cache_control" in json.dumps(first.body)
    with trio.fail_after(5):
        while len(rows := _completed(rig.trail)) < 2:
            await trio.sleep(0.02)
    assert len({row["session_id"] for row in rows}) == 1


async def test_claude_code_pins_a_provider_and_lowers_max_tokens(
    chat_rig: Rig, tmp_path: Path
) -> None:
    """The README's advice: ``ANTHROPIC_MODEL=<provider id>/<model>`` pins the provider and
    model, ``CLAUDE_CODE_MAX_OUTPUT_TOKENS`` lowers what the upstream is asked for."""
    extra = {
        "ANTHROPIC_MODEL": "fake-openai-compatible/llama-pinned",
        "CLAUDE_CODE_MAX_OUTPUT_TOKENS": "4000",
    }
    run = await run_claude(
        chat_rig.gateway.base_url, "Say hi.", api_key=VIRTUAL_KEY, tmp=tmp_path, extra_env=extra
    )
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    assert "Hello from the fake provider" in run.stdout, run.stderr[-2000:]
    sent = chat_rig.fake.requests[-1].body
    assert isinstance(sent, dict)
    assert sent["model"] == "llama-pinned"
    assert sent.get("max_completion_tokens", sent.get("max_tokens")) == 4000, run.stderr[-2000:]
