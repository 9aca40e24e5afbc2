"""What ``switchyard --help`` tells a user, and argument checks that fail in one line."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

DESCRIPTION = """\
Switchyard: a self-hosted AI gateway for coding agents. Point Codex CLI (or any OpenAI
client) at it; it routes each request to your providers with failover, under budgets,
and records every request's full trail in SQL."""

EPILOG = """\
common tasks:
  switchyard demo                                   try it with a local fake provider
  switchyard serve --config switchyard.yaml         run the gateway
  switchyard doctor --config switchyard.yaml        check config, database, providers, Codex
  switchyard keys create --name alice --team red   issue a virtual key
  switchyard cost --by model --since 7d             what was spent

Run "switchyard COMMAND --help" for a command's options. The README explains the config."""

LOG_LEVELS = ("debug", "info", "warning", "error")


class OneLineParser(argparse.ArgumentParser):
    """An argument mistake is one line (naming ``--help``), not the usage block."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 0 to 65535, not {text!r}")
    return int(text)


def log_level(text: str) -> str:
    if text.lower() not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"one of {', '.join(LOG_LEVELS)}, not {text!r}")
    return text.lower()


__all__ = ["DESCRIPTION", "EPILOG", "LOG_LEVELS", "OneLineParser", "log_level", "port"]
