"""``switchyard codex-config``: the Codex CLI config for this gateway, printed or written.

Two forms. ``custom`` (the default) defines a ``[model_providers.switchyard]`` provider
whose ``env_key`` names the variable holding the virtual key. ``builtin`` points Codex's
own ``openai`` provider at the gateway (``openai_base_url``); the key is then stored with
``codex login --with-api-key``, and Codex speaks the Responses WebSocket transport.
Without ``--form`` both are printed. The gateway's address and models come from
``--config`` (``${VAR}`` references that are not set are filled with a placeholder:
nothing secret is read or printed). ``--write`` puts one form into
``$CODEX_HOME/config.toml``, keeping the rest of the file; it refuses to replace
different settings of its own keys unless ``--force``.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path

from config import ConfigError, GatewayConfig, load_config

PROVIDER_ID = "switchyard"
FORMS = ("custom", "builtin")
_PLACEHOLDER = "switchyard-codex-config-placeholder"
_MISSING_VARIABLE = re.compile(r"environment variable (\w+) is not set")
_TABLE_HEADER = re.compile(r"^\s*\[")
_WILDCARD_HOSTS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


class CodexConfigError(Exception):
    """One clear line for the user."""


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("codex-config", help="the Codex CLI config for this gateway")
    parser.add_argument("--config", required=True, help="the gateway's YAML config file")
    parser.add_argument("--form", choices=FORMS, default=None, help="default: print both")
    parser.add_argument("--key-env", default="SWITCHYARD_API_KEY", help="holds the virtual key")
    parser.add_argument("--model", default=None, help="default: the config's first model")
    parser.add_argument("--base-url", default=None, help="default: http://host:port/v1")
    parser.add_argument("--write", action="store_true", help="into $CODEX_HOME/config.toml")
    parser.add_argument("--codex-home", default=None, help="default: $CODEX_HOME or ~/.codex")
    parser.add_argument("--force", action="store_true", help="replace different settings")


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except CodexConfigError as exc:
        print(f"switchyard codex-config: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", args.key_env):
        raise CodexConfigError(f"--key-env must be an environment variable name: {args.key_env!r}")
    config = _load(args.config)
    base_url = args.base_url or gateway_url(config) + "/v1"
    model = args.model or first_model(config)
    forms = [args.form] if args.form else list(FORMS)
    if not args.write:
        texts = [
            render(form, base_url=base_url, model=model, key_env=args.key_env) for form in forms
        ]
        print("\n".join(texts), end="")
        return 0
    form = args.form or "custom"
    home = Path(args.codex_home or os.environ.get("CODEX_HOME") or Path.home() / ".codex")
    target = home / "config.toml"
    wanted = render(form, base_url=base_url, model=model, key_env=args.key_env)
    write_config(target, wanted, force=args.force)
    print(f"wrote the {form} form to {target}", file=sys.stderr)
    print(_next_step(form, args.key_env), file=sys.stderr)
    return 0


def _load(path: str) -> GatewayConfig:
    """The gateway config, with any unset ``${VAR}`` filled by a placeholder."""
    filled: dict[str, str] = {}
    for _ in range(64):
        environ: Mapping[str, str] = {**os.environ, **filled}
        try:
            return load_config(path, environ=environ)
        except ConfigError as exc:
            missing = _MISSING_VARIABLE.search(str(exc))
            if missing is None or missing.group(1) in filled:
                raise CodexConfigError(f"invalid config: {exc}") from None
            filled[missing.group(1)] = _PLACEHOLDER
    raise CodexConfigError("invalid config: too many unset environment variables")


def gateway_url(config: GatewayConfig) -> str:
    host = _WILDCARD_HOSTS.get(config.server.host, config.server.host)
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{config.server.port}"


def first_model(config: GatewayConfig) -> str:
    for account in config.accounts:
        for provider in account.providers:
            return provider.model
    raise CodexConfigError("the config has no provider: give --model")


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def render(form: str, *, base_url: str, model: str, key_env: str) -> str:
    """One form of the config, as TOML: top-level keys, then the provider table (custom)."""
    if form == "builtin":
        return (
            "# Codex's own openai provider, pointed at Switchyard. Store the virtual key once:\n"
            f"#   printenv {key_env} | codex login --with-api-key\n"
            f"model = {_toml_string(model)}\n"
            'model_provider = "openai"\n'
            f"openai_base_url = {_toml_string(base_url)}\n"
        )
    return (
        "# A Switchyard provider for Codex. Run Codex with the virtual key in the environment:\n"
        f"#   {key_env}=<your virtual key> codex\n"
        f"model = {_toml_string(model)}\n"
        f"model_provider = {_toml_string(PROVIDER_ID)}\n"
        "\n"
        f"[model_providers.{PROVIDER_ID}]\n"
        'name = "Switchyard"\n'
        f"base_url = {_toml_string(base_url)}\n"
        f"env_key = {_toml_string(key_env)}\n"
        'wire_api = "responses"\n'
    )


def _next_step(form: str, key_env: str) -> str:
    if form == "builtin":
        return f"next: printenv {key_env} | codex login --with-api-key"
    return f"next: export {key_env}=<your virtual key>, then run codex"


def write_config(target: Path, wanted: str, *, force: bool) -> None:
    """Merge ``wanted`` (one form) into the TOML file ``target``, keeping everything else."""
    try:
        existing = target.read_text() if target.exists() else ""
        current = tomllib.loads(existing)
    except (OSError, UnicodeDecodeError) as exc:
        raise CodexConfigError(f"cannot read {target}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CodexConfigError(f"{target} is not valid TOML ({exc}): fix it first") from None
    ours = tomllib.loads(wanted)
    clashes = _clashes(current, ours)
    if clashes and not force:
        named = ", ".join(clashes)
        raise CodexConfigError(f"{target} already sets {named} differently: add --force to replace")
    comments = {
        line
        for form in FORMS
        for line in render(form, base_url="", model="", key_env="").splitlines()
        if line.startswith("#")
    }
    merged = _merge(existing, wanted, ours, comments)
    tomllib.loads(merged)  # never write a file Codex cannot read
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(target.name + ".switchyard-tmp")
    scratch.write_text(merged)
    scratch.replace(target)


def _clashes(current: dict[str, object], ours: dict[str, object]) -> list[str]:
    found = [
        key
        for key, value in ours.items()
        if key != "model_providers" and key in current and current[key] != value
    ]
    theirs = current.get("model_providers")
    mine = ours.get("model_providers")
    if isinstance(theirs, dict) and isinstance(mine, dict):
        found += [
            f"[model_providers.{name}]"
            for name, table in mine.items()
            if name in theirs and theirs[name] != table
        ]
    return found


def _merge(existing: str, wanted: str, ours: dict[str, object], comments: set[str]) -> str:
    """``existing`` without our keys and provider table, ours put back in their places:
    top-level keys before the first table, the provider table at the end."""
    top_keys = {key for key in ours if key != "model_providers"}
    wanted_lines = wanted.splitlines()
    split = next((i for i, line in enumerate(wanted_lines) if _TABLE_HEADER.match(line)), None)
    wanted_top = wanted_lines if split is None else wanted_lines[:split]
    while wanted_top and not wanted_top[-1].strip():
        wanted_top = wanted_top[:-1]
    wanted_table = [] if split is None else wanted_lines[split:]
    kept: list[str] = []
    in_top, in_ours = True, False
    for line in existing.splitlines():
        if _TABLE_HEADER.match(line):
            in_top = False
            in_ours = bool(wanted_table) and line.strip() == f"[model_providers.{PROVIDER_ID}]"
        if in_ours or (in_top and (_assigned_key(line) in top_keys or _ours(line, comments))):
            continue
        kept.append(line)
    first_table = next((i for i, line in enumerate(kept) if _TABLE_HEADER.match(line)), len(kept))
    head, tail = kept[:first_table], kept[first_table:]
    while head and not head[-1].strip():
        head.pop()
    lines = [*head, *([""] if head else []), *wanted_top, *([""] if tail else []), *tail]
    if wanted_table:
        while lines and not lines[-1].strip():
            lines.pop()
        lines += ["", *wanted_table]
    return "\n".join(lines).rstrip("\n") + "\n"


def _ours(line: str, comments: set[str]) -> bool:
    """One of the comment lines this command writes (with any key-env name)."""
    return (
        line in comments
        or re.fullmatch(r"#   (printenv )?\w+(=<your virtual key>)? .*", line) is not None
    )


def _assigned_key(line: str) -> str | None:
    match = re.match(r'\s*"?([A-Za-z0-9_.-]+)"?\s*=', line)
    return match.group(1) if match else None


__all__ = ["CodexConfigError", "add_parser", "render", "run", "write_config"]
