"""Replay scenarios: an original mix (OpenAI's format, one fake) and a replay mix
(Anthropic's format, another fake), both with fixed prices, and the ``switchyard`` CLI
run as a subprocess against the same SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import trio

from fakes import FakeProviderServer, FakeUsage, Fault, Reply, Text, Turn
from tests.gateway_rig import ENVIRON, config_yaml
from tests.scenarios.translation_rig import MODELS, provider_for

ORIGINAL_MODEL = "gpt-5.5"
REPLAY_MODEL = MODELS["anthropic"]
# USD per million tokens: made-up round prices, so a test can compute costs by hand
ORIGINAL_PRICE = {"input": 2.0, "output": 10.0}
REPLAY_PRICE = {"input": 3.0, "output": 15.0}
REPLAY_MAX_OUTPUT = 200  # bounds what a replayed request holds under --max-cost


def cost(price: dict[str, float], usage: FakeUsage) -> float:
    return (usage.input_tokens * price["input"] + usage.output_tokens * price["output"]) / 1e6


def _pricing(provider: str, model: str, price: dict[str, float], max_output: int) -> str:
    return (
        f'  - {{provider: "{provider}", model: "{model}", input: {price["input"]}, '
        f"output: {price['output']}, max_output_tokens: {max_output}}}\n"
    )


PRICING = (
    "pricing:\n"
    + _pricing("openai", ORIGINAL_MODEL, ORIGINAL_PRICE, 4096)
    + _pricing("anthropic", REPLAY_MODEL, REPLAY_PRICE, REPLAY_MAX_OUTPUT)
)


def original_yaml(fake: FakeProviderServer, db: Path, *, budgets: str = "") -> str:
    from tests.gateway_rig import openai_provider

    text = config_yaml([openai_provider(fake.base_url, id="fake-openai")], db_path=db)
    return text + PRICING + budgets


def replay_yaml(fake: FakeProviderServer, db: Path) -> str:
    provider = provider_for("anthropic", fake, retry={"max_retries": 0})
    return config_yaml([provider], db_path=db) + PRICING


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return orjson.loads(self.stdout)


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
    env.update(ENVIRON)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    return env


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "cli.main", "--log-level", "warning", *args]


async def switchyard(*args: str, timeout_s: float = 120) -> CliResult:
    """``switchyard ARGS`` in a subprocess; the fakes keep answering in this process."""
    with trio.fail_after(timeout_s):
        done = await trio.run_process(
            cli_command(*args),
            env=cli_env(),
            capture_stdout=True,
            capture_stderr=True,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    return CliResult(done.returncode, done.stdout.decode(), done.stderr.decode())


def fixed(fake: FakeProviderServer, usage: FakeUsage, *, delay_s: float = 0.0) -> None:
    """Every unscripted answer is a short text billed ``usage`` (after ``delay_s``)."""
    fault = Fault(hang_before_headers_s=delay_s) if delay_s else None
    fake.fallback = Turn(reply=Reply(items=(Text(text="ok"),), usage=usage), fault=fault)


def responses_body(text: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": ORIGINAL_MODEL,
        "input": [{"role": "user", "content": text}],
        "tools": [
            {
                "type": "function",
                "name": "exec_command",
                "description": "run a shell command",
                "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}},
            }
        ],
        **extra,
    }


__all__ = [
    "ORIGINAL_MODEL",
    "ORIGINAL_PRICE",
    "REPLAY_MAX_OUTPUT",
    "REPLAY_MODEL",
    "REPLAY_PRICE",
    "CliResult",
    "cli_command",
    "cli_env",
    "cost",
    "fixed",
    "original_yaml",
    "replay_yaml",
    "responses_body",
    "switchyard",
]
