"""``switchyard body``: a stored request body (or response) as it arrived, byte for byte.

Large parts of bodies are stored once in ``blobs`` (see README "The event trail in
SQL"), so SQL alone shows a body's small fields; this command rebuilds the whole of it
with the storage layer's ``rebuild_body`` and writes it to stdout.
"""

from __future__ import annotations

import argparse
import sys

from cli.database import CommandError, add_database_options, loaded_config, open_database
from storage.blob_store import rebuild_body, stored_payload
from storage.blobs import BrokenTrail


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    body = commands.add_parser("body", help="print a stored request body or response")
    body.add_argument("request_id")
    body.add_argument(
        "--response", action="store_true", help="the response (response.completed) instead"
    )
    add_database_options(body)


def run(args: argparse.Namespace) -> int:
    kind = "response.completed" if args.response else "request.received"
    engine = open_database(args, loaded_config(args))
    try:
        with engine.connect() as connection:
            payload = stored_payload(connection, args.request_id, kind)
            if payload is None:
                raise CommandError(f"no {kind} event for request {args.request_id!r}")
            try:
                body = rebuild_body(connection, payload.encode("utf-8"))
            except BrokenTrail as exc:
                raise CommandError(f"request {args.request_id!r}: {exc}") from exc
    finally:
        engine.dispose()
    sys.stdout.buffer.write(body or b"")
    sys.stdout.buffer.flush()
    return 0


__all__ = ["add_parser", "run"]
