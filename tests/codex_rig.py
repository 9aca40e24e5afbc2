"""Driving the real Codex CLI (``codex exec``) against a gateway, in a clean CODEX_HOME."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import orjson
import trio

CODEX_VERSION = "0.169.0"


def codex_binary() -> str:
    """The pinned Codex CLI; ``scripts/test`` installs it and sets CODEX_BIN."""
    binary = os.environ.get("CODEX_BIN") or shutil.which("codex")
    if not binary:
        raise RuntimeError(
            "the Codex CLI is needed for this test: run scripts/test (it installs "
            f"@openai/codex@{CODEX_VERSION}) or set CODEX_BIN"
        )
    return binary


@dataclass
class CodexRun:
    returncode: int
    events: list[dict[str, object]]
    stderr: str
    workdir: Path

    @property
    def turn_completed(self) -> bool:
        return any(event.get("type") == "turn.completed" for event in self.events)

    @property
    def commands(self) -> list[dict[str, object]]:
        return [
            event["item"]  # type: ignore[misc]
            for event in self.events
            if event.get("type") == "item.completed"
            and isinstance(event.get("item"), dict)
            and event["item"].get("type") == "command_execution"  # type: ignore[union-attr]
        ]


async def run_codex(
    base_url: str,
    prompt: str,
    *,
    api_key: str,
    tmp: Path,
    model: str = "gpt-5.5",
    timeout_s: float = 150,
    stream_max_retries: int = 2,
) -> CodexRun:
    home = tmp / "codex_home"
    work = tmp / "work"
    home.mkdir(exist_ok=True)  # a second run in the same tmp: the same home and workdir
    work.mkdir(exist_ok=True)
    (home / "config.toml").write_text(
        f'model = "{model}"\n'
        'model_provider = "switchyard"\n'
        'approval_policy = "never"\n'
        'sandbox_mode = "workspace-write"\n'
        "check_for_update_on_startup = false\n"
        "[analytics]\nenabled = false\n"
        "[model_providers.switchyard]\n"
        'name = "Switchyard"\n'
        f'base_url = "{base_url}"\n'
        'env_key = "SWITCHYARD_API_KEY"\n'
        'wire_api = "responses"\n'
        "request_max_retries = 2\n"
        f"stream_max_retries = {stream_max_retries}\n"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"OPENAI_API_KEY", "CODEX_API_KEY", "OPENAI_BASE_URL"}
    }
    env.update(CODEX_HOME=str(home), SWITCHYARD_API_KEY=api_key, RUST_LOG="warn")
    command = [
        codex_binary(),
        "exec",
        "--skip-git-repo-check",
        "--ephemeral",
        "--json",
        "--color",
        "never",
        "-s",
        "workspace-write",
        "-m",
        model,
        prompt,
    ]
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
    events = []
    for line in result.stdout.splitlines():
        try:
            events.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            continue
    return CodexRun(
        returncode=result.returncode,
        events=events,
        stderr=result.stderr.decode(errors="replace"),
        workdir=work,
    )
