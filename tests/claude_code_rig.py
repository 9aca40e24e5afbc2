"""Driving the real Claude Code CLI (``claude -p``) against a gateway, offline, in a clean
home (no stored login), the way ``/work/shared/claude-code/NOTES.md`` describes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import trio

CLAUDE_CODE_VERSION = "2.1.332"
_INSTALLED = Path(__file__).resolve().parent.parent / ".tools/claude-code/node_modules/.bin/claude"


def claude_binary() -> str:
    """The pinned Claude Code CLI; ``scripts/test`` installs it and sets CLAUDE_CODE_BIN."""
    binary = os.environ.get("CLAUDE_CODE_BIN")
    if not binary and _INSTALLED.exists():
        binary = str(_INSTALLED)  # what scripts/install-claude-code put there
    if not binary:
        raise RuntimeError(
            "the Claude Code CLI is needed for this test: run scripts/test (it installs "
            f"@anthropic-ai/claude-code@{CLAUDE_CODE_VERSION}) or set CLAUDE_CODE_BIN"
        )
    return binary


@dataclass
class ClaudeRun:
    returncode: int
    stdout: str
    stderr: str
    workdir: Path


async def run_claude(
    base_url: str,
    prompt: str,
    *,
    api_key: str,
    tmp: Path,
    timeout_s: float = 150,
    extra_env: dict[str, str] | None = None,
) -> ClaudeRun:
    home = tmp / "claude_home"
    work = tmp / "work"
    home.mkdir()
    work.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ANTHROPIC_", "CLAUDE_")) and key != "HOME"
    }
    env.update(
        HOME=str(home),
        ANTHROPIC_BASE_URL=base_url,
        ANTHROPIC_API_KEY=api_key,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        DISABLE_TELEMETRY="1",
        DISABLE_AUTOUPDATER="1",
    )
    env.update(extra_env or {})
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        env["IS_SANDBOX"] = "1"  # else --dangerously-skip-permissions refuses root
    command = [claude_binary(), "-p", prompt, "--dangerously-skip-permissions"]
    with trio.fail_after(timeout_s):
        result = await trio.run_process(
            command,
            cwd=work,
            env=env,
            stdin=b"",
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    return ClaudeRun(
        returncode=result.returncode,
        stdout=result.stdout.decode(errors="replace"),
        stderr=result.stderr.decode(errors="replace"),
        workdir=work,
    )
