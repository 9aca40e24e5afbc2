"""Driving the real Codex CLI (``codex exec``) against a gateway, in a clean CODEX_HOME."""

from __future__ import annotations

import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

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
    stdout: str = ""
    seconds: float = 0.0
    """Wall time of ``codex exec``, start to exit."""
    config_toml: str = ""

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


async def codex_config_output(base_url: str, model: str, form: str, tmp: Path) -> str:
    """What ``switchyard codex-config --form FORM`` prints for a gateway at ``base_url``
    (a gateway config naming its host, port and model is written for it to read)."""
    parts = urlsplit(base_url)
    gateway_yaml = tmp / "gateway-for-codex-config.yaml"
    gateway_yaml.write_text(
        f'server:\n  host: "{parts.hostname}"\n  port: {parts.port}\n'
        'accounts:\n  - id: "codex"\n    providers:\n'
        f'      - {{id: "upstream", type: "openai", api_key: "${{RIG_UNSET_PROVIDER_KEY}}", '
        f'model: "{model}"}}\n'
        'virtual_keys:\n  - {id: "codex", key: "${RIG_UNSET_VIRTUAL_KEY}", account: "codex"}\n'
    )
    command = [sys.executable, "-m", "cli.main", "codex-config", "--config", str(gateway_yaml)]
    command += ["--form", form, "--key-env", "SWITCHYARD_API_KEY"]
    if parts.path.rstrip("/") != "/v1":
        command += ["--base-url", base_url]
    result = await trio.run_process(command, capture_stdout=True, capture_stderr=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"codex-config failed: {result.stderr.decode(errors='replace')}")
    return result.stdout.decode()


async def codex_config_toml(
    base_url: str, *, model: str, form: str, stream_max_retries: int, tmp: Path
) -> str:
    """The test's ``config.toml``: its own settings around ``codex-config``'s output, which
    is used verbatim (the provider's retry settings go at the end of its table)."""
    generated = await codex_config_output(base_url, model, form, tmp)
    retries = (
        f"request_max_retries = 2\nstream_max_retries = {stream_max_retries}\n"
        if form == "custom"
        else ""
    )
    return (
        'approval_policy = "never"\n'
        'sandbox_mode = "workspace-write"\n'
        "check_for_update_on_startup = false\n"
        + generated
        + retries
        + "\n[analytics]\nenabled = false\n"
    )


async def run_codex(
    base_url: str,
    prompt: str,
    *,
    api_key: str,
    tmp: Path,
    model: str = "gpt-5.5",
    timeout_s: float = 150,
    stream_max_retries: int = 2,
    form: str = "custom",
) -> CodexRun:
    """``codex exec`` in a clean CODEX_HOME configured by ``switchyard codex-config``:
    ``custom`` (a Switchyard provider, key from the environment) or ``builtin`` (Codex's
    own openai provider, key stored with ``codex login --with-api-key``)."""
    home = tmp / "codex_home"
    work = tmp / "work"
    home.mkdir(exist_ok=True)  # a second run in the same tmp: the same home and workdir
    work.mkdir(exist_ok=True)
    config_toml = await codex_config_toml(
        base_url, model=model, form=form, stream_max_retries=stream_max_retries, tmp=tmp
    )
    (home / "config.toml").write_text(config_toml)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"OPENAI_API_KEY", "CODEX_API_KEY", "OPENAI_BASE_URL"}
    }
    env.update(CODEX_HOME=str(home), SWITCHYARD_API_KEY=api_key, RUST_LOG="warn")
    if form == "builtin":
        login = [codex_binary(), "login", "--with-api-key"]
        await trio.run_process(login, env=env, stdin=api_key.encode(), capture_stdout=True)
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
    started = time.monotonic()
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
    seconds = time.monotonic() - started
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
        stdout=result.stdout.decode(errors="replace"),
        seconds=seconds,
        config_toml=config_toml,
    )
