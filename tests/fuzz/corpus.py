"""Seed inputs for the fuzz targets, written into a corpus directory when it is empty."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_CHAT_SEEDS = (
    {
        "model": "gpt-5.5",
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "hi"}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "ok"},
        ],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
        "tool_choice": "auto",
        "max_tokens": 100,
        "temperature": 0.5,
        "stop": ["\n"],
    },
)


_ANTHROPIC_SEED = {
    "model": "claude-opus-5-5",
    "max_tokens": 128000,
    "stream": True,
    "system": [{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}],
    "messages": [
        {"role": "user", "content": [{"type": "text", "text": "hi"}]},
        {"role": "system", "content": "mid-conversation"},
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "hm", "signature": "sig"},
                {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "ls"}},
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}],
        },
    ],
    "tools": [{"name": "Bash", "input_schema": {"type": "object"}, "defer_loading": False}],
    "thinking": {"type": "adaptive", "display": "omitted"},
    "output_config": {"effort": "medium"},
    "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
    "metadata": {"user_id": "u"},
}


def request_seeds() -> Iterable[bytes]:
    """Control byte (bit 0: Chat, bit 1: Anthropic Messages) + a client body: the bases,
    real Codex bodies, a full Chat conversation, a Claude Code-like Messages body."""
    from tests.scenarios.hostile_bodies import ANTHROPIC_BASE, BASES, CHAT, RESPONSES

    yield b"\x00" + json.dumps(BASES[RESPONSES]).encode()
    yield b"\x01" + json.dumps(BASES[CHAT]).encode()
    for body in _CHAT_SEEDS:
        yield b"\x01" + json.dumps(body).encode()
    yield b"\x02" + json.dumps(ANTHROPIC_BASE).encode()
    yield b"\x02" + json.dumps(_ANTHROPIC_SEED).encode()
    for path in sorted((ROOT / "tests/providers/fixtures/codex").glob("*.body.json")):
        yield b"\x00" + path.read_bytes()


def seed(directory: Path, seeds: Iterable[bytes]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    if not any(directory.iterdir()):
        for index, data in enumerate(seeds):
            (directory / f"seed-{index:03d}").write_bytes(data)
    return directory


def corpus_from_argv(argv: list[str], seeds: Iterable[bytes]) -> None:
    """Seed the first corpus directory named on the command line, if any."""
    for arg in argv[1:]:
        if not arg.startswith("-"):
            if not Path(arg).is_file():  # a file is an input to re-run, not a corpus
                seed(Path(arg), seeds)
            return
