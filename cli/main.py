"""``switchyard``: the command line. It parses arguments and loads the config; the actors
(and trio) take over from ``actors.launch``. A mistake the user can fix ends in one line
on stderr and exit status 2 (``cli.errors``); only our own bugs show a traceback."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import replace

from cli import body, budgets, codex_config, cost, doctor, keys, models, sessions, whatif
from cli import replay as replay_command
from cli.errors import explain
from cli.help import DESCRIPTION, EPILOG, OneLineParser, log_level, port
from cli.log_config import configure_logging
from config import load_config
from config.model import GatewayConfig


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="switchyard",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--log-level",
        type=log_level,
        default=os.environ.get("SWITCHYARD_LOG_LEVEL", "info"),
        help="debug, info, warning or error (default info, or $SWITCHYARD_LOG_LEVEL)",
    )
    parser.add_argument("--log-json", action="store_true", default=None, help="JSON log lines")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the gateway")
    serve.add_argument("--config", required=True, help="YAML config file")
    serve.add_argument("--host", default=None, help="listen address (default from config)")
    serve.add_argument("--port", type=port, default=None, help="listen port (default 8080)")
    serve.add_argument("--db", default=None, help="SQLAlchemy URL (default from config)")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="gateway processes sharing the port, trail and budgets (PostgreSQL for more than 1)",
    )
    serve.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)

    demo = commands.add_parser("demo", help="run the gateway with a local fake provider")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=port, default=8080)
    demo.add_argument("--db", default="sqlite:///switchyard-demo.db")

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate.add_argument("--config", default=None, help="YAML config (its database)")
    migrate.add_argument("--db", default=None, help="SQLAlchemy URL (default from --config)")
    for module in (
        doctor,
        keys,
        budgets,
        cost,
        body,
        sessions,
        replay_command,
        whatif,
        models,
        codex_config,
    ):
        module.add_parser(commands)
    return parser


_REPORTING = {
    "keys": keys.run,
    "budgets": budgets.run,
    "cost": cost.run,
    "body": body.run,
    "doctor": doctor.run,
    "sessions": sessions.run,
    "replay": replay_command.run,
    "whatif": whatif.run,
    "models": models.run,
    "codex-config": codex_config.run,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging(json=args.log_json, level=args.log_level)
    try:
        return _run(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a user's mistake in one line; a bug keeps its traceback
        message = explain(exc)
        if message is None:
            raise
        print(f"switchyard {args.command}: {message}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.command == "serve":
        return _serve(args)
    if args.command == "demo":
        from actors.launch import demo

        return demo(host=args.host, port=args.port, database_url=args.db)
    if args.command == "migrate":
        return _migrate(args)
    return _REPORTING[args.command](args)


def _serve(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if args.workers != 1:
        return _serve_workers(args, config)
    if args.worker:  # one of ``--workers N``: share the port and the budgets
        shared = replace(config.server, reuse_port=True, shared_budgets=True)
        config = replace(config, server=shared)
    from actors.launch import serve

    return serve(config, host=args.host, port=args.port, database_url=args.db)


def _serve_workers(args: argparse.Namespace, config: GatewayConfig) -> int:
    from actors.launch import workers_port
    from cli.workers import Workers, WorkersError, check_workers

    try:
        check_workers(args.workers, args.db or config.database_url)
    except WorkersError as exc:
        print(f"switchyard: {exc}", file=sys.stderr)
        return 2
    host = args.host or config.server.host
    port = config.server.port if args.port is None else args.port
    argv = ["--log-level", args.log_level, *(["--log-json"] if args.log_json else [])]
    argv += ["serve", "--config", args.config, "--host", host, "--worker"]
    argv += ["--port", str(workers_port(host, port)), *(["--db", args.db] if args.db else [])]
    return Workers(args.workers, argv).run()


def _migrate(args: argparse.Namespace) -> int:
    import time

    from budgets.pricing import PriceTable
    from storage.database import make_engine, migrate
    from storage.price_store import sync_prices

    url = args.db
    config = None
    if args.config:
        config = load_config(args.config)
        url = url or config.database_url
    url = url or "sqlite:///switchyard.db"
    migrate(url)
    prices = PriceTable.shipped().with_overrides(config.pricing if config else ())
    engine = make_engine(url)
    try:
        added = sync_prices(engine, prices, now=time.time())
    finally:
        engine.dispose()
    print(f"database is at the latest schema; {added} new model prices recorded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
