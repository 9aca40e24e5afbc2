"""``switchyard``: the command line. It parses arguments and loads the config; the actors
(and trio) take over from ``actors.launch``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from cli.log_config import configure_logging
from config import ConfigError, load_config


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="switchyard", description=__doc__)
    parser.add_argument("--log-level", default=os.environ.get("SWITCHYARD_LOG_LEVEL", "info"))
    parser.add_argument("--log-json", action="store_true", default=None, help="JSON log lines")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the gateway")
    serve.add_argument("--config", required=True, help="YAML config file")
    serve.add_argument("--host", default=None, help="listen address (default from config)")
    serve.add_argument("--port", type=int, default=None, help="listen port (default 8080)")
    serve.add_argument("--db", default=None, help="SQLAlchemy URL (default from config)")

    demo = commands.add_parser("demo", help="run the gateway with a local fake provider")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8080)
    demo.add_argument("--db", default="sqlite:///switchyard-demo.db")

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate.add_argument("--config", default=None)
    migrate.add_argument("--db", default=None)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging(json=args.log_json, level=args.log_level)
    if args.command == "serve":
        return _serve(args)
    if args.command == "demo":
        from actors.launch import demo

        return demo(host=args.host, port=args.port, database_url=args.db)
    if args.command == "migrate":
        return _migrate(args)
    raise AssertionError(args.command)


def _serve(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"switchyard: invalid config: {exc}", file=sys.stderr)
        return 2
    from actors.launch import serve

    return serve(config, host=args.host, port=args.port, database_url=args.db)


def _migrate(args: argparse.Namespace) -> int:
    from storage.database import migrate

    url = args.db
    if url is None and args.config:
        try:
            url = load_config(args.config).database_url
        except ConfigError as exc:
            print(f"switchyard: invalid config: {exc}", file=sys.stderr)
            return 2
    migrate(url or "sqlite:///switchyard.db")
    print("database is at the latest schema")
    return 0


if __name__ == "__main__":
    sys.exit(main())
