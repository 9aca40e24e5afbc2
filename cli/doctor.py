"""``switchyard doctor``: is this gateway ready to serve? One verdict line per check —
the config (read and checked), the database and its migrations, each provider and key
(``--providers``: one small request each), and Codex CLI's config. Exit status 1 when
any check fails, so scripts can gate on it. Nothing is changed: no file is created, no
migration run."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from rich.console import Console

from cli.database import DEFAULT_URL
from cli.doctor_codex import check_codex, codex_home
from cli.verdicts import Verdict, print_verdicts
from config import ConfigError, GatewayConfig, load_config
from storage.problems import masked_url
from storage.schema_status import schema_status


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    doctor = commands.add_parser(
        "doctor", help="check the config, database, providers and Codex's config"
    )
    doctor.add_argument("--config", default="switchyard.yaml", help="YAML config file")
    doctor.add_argument("--db", default=None, help="SQLAlchemy URL (default from --config)")
    doctor.add_argument(
        "--providers",
        action="store_true",
        help="send each provider key one tiny request (may cost a fraction of a cent)",
    )
    doctor.add_argument("--codex-home", default=None, help="default $CODEX_HOME or ~/.codex")


def run(args: argparse.Namespace) -> int:
    verdicts = list(_checks(args))
    print_verdicts(verdicts, Console(highlight=False))
    return 1 if any(v.outcome == "FAIL" for v in verdicts) else 0


def _checks(args: argparse.Namespace) -> Iterator[Verdict]:
    config: GatewayConfig | None = None
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        yield Verdict("config", "FAIL", str(exc))
    else:
        providers = sum(len(account.providers) for account in config.accounts)
        yield Verdict(
            "config",
            "ok",
            f"{args.config}: {len(config.accounts)} account(s), {providers} provider(s), "
            f"{len(config.virtual_keys)} virtual key(s)",
        )
    url = args.db or (config.database_url if config is not None else DEFAULT_URL)
    yield _database(url)
    if config is None:
        yield Verdict("providers", "skip", "the config did not load")
    elif args.providers:
        from actors.provider_probe import probe_providers

        for result in probe_providers(config):
            yield Verdict(f"provider {result.name}", "ok" if result.ok else "FAIL", result.detail)
    else:
        yield Verdict("providers", "skip", "add --providers to send each one a tiny request")
    host, port = (config.server.host, config.server.port) if config else ("127.0.0.1", 8080)
    yield check_codex(codex_home(args.codex_home), host=host, port=port)


def _database(url: str) -> Verdict:
    status = schema_status(url)
    shown = masked_url(url)
    fix = f"run: switchyard migrate --db '{shown}' (serve also migrates on start)"
    head = ", ".join(status.head)
    if status.state == "current":
        return Verdict("database", "ok", f"{shown}: schema at {head}, the latest")
    if status.state == "missing":
        return Verdict("database", "FAIL", f"{shown}: {status.detail}; {fix}")
    if status.state == "empty":
        return Verdict("database", "FAIL", f"{shown}: not migrated (no schema); {fix}")
    if status.state == "behind":
        at = ", ".join(status.current)
        return Verdict("database", "FAIL", f"{shown}: schema at {at}, needs {head}; {fix}")
    if status.state == "unknown":
        at = ", ".join(status.current)
        return Verdict(
            "database", "FAIL", f"{shown}: at revision {at}, unknown to this version (newer?)"
        )
    return Verdict("database", "FAIL", f"{shown}: cannot connect: {status.detail}")


__all__ = ["add_parser", "run"]
