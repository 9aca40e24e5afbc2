"""``switchyard keys create|list|revoke``: virtual keys kept in the database.

A key is printed once, when it is created; the database keeps only its SHA-256. A
running gateway picks up new, revoked and expired keys within about two seconds.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from typing import Any

from budgets.keys import StoredKey, new_key_id, new_secret, secret_digest, shown_prefix
from budgets.periods import parse_period
from cli.database import CommandError, add_database_options, loaded_config, open_database
from cli.table import render_json, render_table
from config.model import GatewayConfig
from storage.key_store import KeyConflict, create_key, load_keys, revoke_key

_LIST_COLUMNS = (
    "id",
    "name",
    "account",
    "team",
    "customer",
    "prefix",
    "created",
    "expires",
    "state",
)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = commands.add_parser("keys", help="virtual keys kept in the database")
    actions = keys.add_subparsers(dest="keys_command", required=True)
    create = actions.add_parser("create", help="make a virtual key (its secret is shown once)")
    create.add_argument("--name", required=True, help="what the key is for")
    create.add_argument("--account", default=None, help="whose providers serve it")
    create.add_argument("--team", default=None)
    create.add_argument("--customer", default=None)
    create.add_argument("--expires", default=None, help="a date, a time, or a duration (30d)")
    create.add_argument("--models", default=None, help="allowed models, comma-separated")
    create.add_argument("--json", action="store_true", help="print the key as JSON")
    listing = actions.add_parser("list", help="every stored key (never a secret)")
    listing.add_argument("--json", action="store_true")
    revoke = actions.add_parser("revoke", help="refuse a key from now on")
    revoke.add_argument("key_id")
    for parser in (create, listing, revoke):
        add_database_options(parser)


def run(args: argparse.Namespace) -> int:
    config = loaded_config(args)
    engine = open_database(args, config)
    try:
        if args.keys_command == "create":
            return _create(args, config, engine)
        if args.keys_command == "list":
            return _list(args, engine)
        return _revoke(args, engine)
    finally:
        engine.dispose()


def _create(args: argparse.Namespace, config: GatewayConfig | None, engine: Any) -> int:
    now = time.time()
    secret = new_secret()
    key = StoredKey(
        id=new_key_id(),
        name=args.name,
        digest=secret_digest(secret),
        prefix=shown_prefix(secret),
        account=_account(args.account, config),
        team=args.team,
        customer=args.customer,
        allowed_models=tuple(m.strip() for m in (args.models or "").split(",") if m.strip()),
        created_at=now,
        expires_at=None if args.expires is None else expiry(args.expires, now=now),
    )
    try:
        create_key(engine, key)
    except KeyConflict as exc:
        raise CommandError(str(exc)) from exc
    if args.json:
        print(render_json([{**_row(key, now), "secret": secret}]))
        return 0
    print(f"created virtual key {key.id} ({key.name}) for account '{key.account}'")
    print("its secret is shown only now; Switchyard keeps only its SHA-256:")
    print(secret)
    return 0


def _account(given: str | None, config: GatewayConfig | None) -> str:
    if config is None:
        if given is None:
            raise CommandError("give --account (or --config, to check it and default it)")
        return given
    known = [account.id for account in config.accounts]
    if given is None:
        if len(known) != 1:
            raise CommandError(f"give --account: the config has {', '.join(known)}")
        return known[0]
    if given not in known:
        raise CommandError(f"no account '{given}' in the config (it has {', '.join(known)})")
    return given


def expiry(text: str, *, now: float) -> float:
    """``--expires``: a duration from now (``30d``, ``12h``), or an ISO date/time (UTC)."""
    try:
        period = parse_period(text)
    except ValueError:
        period = None
    if period is not None and period.rolling_s is not None:
        return now + period.rolling_s
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--expires {text!r}: give a duration (30d) or a date") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _list(args: argparse.Namespace, engine: Any) -> int:
    now = time.time()
    rows = [_row(key, now) for key in load_keys(engine)]
    print(render_json(rows) if args.json else render_table(rows, _LIST_COLUMNS))
    return 0


def _row(key: StoredKey, now: float) -> dict[str, Any]:
    if key.revoked_at is not None:
        state = "revoked"
    elif key.expires_at is not None and now >= key.expires_at:
        state = "expired"
    else:
        state = "active"
    return {
        "id": key.id,
        "name": key.name,
        "account": key.account,
        "team": key.team,
        "customer": key.customer,
        "models": ",".join(key.allowed_models) or None,
        "prefix": key.prefix,
        "created": _moment(key.created_at),
        "expires": _moment(key.expires_at),
        "state": state,
    }


def _revoke(args: argparse.Namespace, engine: Any) -> int:
    if not revoke_key(engine, args.key_id, at=time.time()):
        raise CommandError(f"no stored virtual key has id '{args.key_id}'")
    print(f"revoked {args.key_id}: a running gateway refuses it within about 2 seconds")
    return 0


def _moment(at: float | None) -> datetime | None:
    return None if at is None else datetime.fromtimestamp(at, UTC)


__all__ = ["add_parser", "expiry", "run"]
