"""``switchyard doctor``'s look at Codex CLI's config (``$CODEX_HOME/config.toml``,
``~/.codex`` by default): does the provider Codex uses point at this gateway, over the
Responses API, with a key from the environment?"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cli.verdicts import Verdict

CHECK = "codex"
_PATHS = ("/v1", "/openai/v1")


def codex_home(given: str | None) -> Path:
    return Path(given or os.environ.get("CODEX_HOME") or Path.home() / ".codex")


def check_codex(home: Path, *, host: str, port: int) -> Verdict:
    path = home / "config.toml"
    if not path.is_file():
        return Verdict(CHECK, "skip", f"no Codex config at {path}")
    try:
        document = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return Verdict(CHECK, "FAIL", f"{path}: not readable TOML: {exc}")
    chosen = document.get("model_provider")
    providers = document.get("model_providers")
    entry = (
        providers.get(chosen) if isinstance(providers, dict) and isinstance(chosen, str) else None
    )
    if not isinstance(entry, dict):
        named = f'"{chosen}"' if isinstance(chosen, str) else "the built-in openai provider"
        return Verdict(
            CHECK,
            "warn",
            f"{path}: Codex uses {named}, not a [model_providers.<name>] entry pointing at "
            f"this gateway (see README: Using it from Codex CLI)",
        )
    return _judge(path, chosen, entry, host=host, port=port)


def _judge(path: Path, name: Any, entry: dict[str, Any], *, host: str, port: int) -> Verdict:
    base_url = entry.get("base_url")
    where = f"{path} [model_providers.{name}]"
    if not isinstance(base_url, str):
        return Verdict(CHECK, "FAIL", f"{where}: no base_url")
    parts = urlsplit(base_url)
    ours = _same_host(parts.hostname or "", host) and (parts.port or 80) == port
    if not ours:
        return Verdict(
            CHECK,
            "FAIL",
            f"{where}: base_url {base_url} is not this gateway (http://{host}:{port}/v1)",
        )
    if parts.path.rstrip("/") not in _PATHS:
        return Verdict(CHECK, "FAIL", f"{where}: base_url should end in /v1, not {parts.path!r}")
    if entry.get("wire_api", "responses") != "responses":
        return Verdict(CHECK, "FAIL", f'{where}: wire_api must be "responses" (Codex 0.169)')
    env_key = entry.get("env_key")
    if not isinstance(env_key, str):
        return Verdict(CHECK, "warn", f"{where}: no env_key, so Codex sends no virtual key")
    if not os.environ.get(env_key):
        return Verdict(CHECK, "warn", f"{where} points here; ${env_key} is not set in this shell")
    return Verdict(CHECK, "ok", f"{where} points at this gateway; key from ${env_key}")


def _same_host(given: str, ours: str) -> bool:
    loopback = {"127.0.0.1", "localhost", "::1"}
    return given == ours or (given in loopback and ours in loopback | {"0.0.0.0", "::"})


__all__ = ["check_codex", "codex_home"]
