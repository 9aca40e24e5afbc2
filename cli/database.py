"""Which database a CLI command works on: ``--db``, else the config's, else the default."""

from __future__ import annotations

import argparse

from sqlalchemy.engine import Engine

from config import ConfigError, GatewayConfig, load_config
from storage.database import ensure_migrated, make_engine

DEFAULT_URL = "sqlite:///switchyard.db"


class CommandError(Exception):
    """A CLI command cannot run; the message is for the user (exit status 2)."""


def add_database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default=None, help="YAML config (its database, accounts)")
    parser.add_argument("--db", default=None, help="SQLAlchemy URL (default from --config)")


def loaded_config(args: argparse.Namespace) -> GatewayConfig | None:
    if args.config is None:
        return None
    try:
        return load_config(args.config)
    except ConfigError as exc:
        raise CommandError(f"invalid config: {exc}") from exc


def open_database(args: argparse.Namespace, config: GatewayConfig | None) -> Engine:
    """An engine on the chosen database, migrated to the latest schema first."""
    url = args.db or (config.database_url if config is not None else DEFAULT_URL)
    ensure_migrated(url)
    return make_engine(url)


__all__ = ["DEFAULT_URL", "CommandError", "add_database_options", "loaded_config", "open_database"]
