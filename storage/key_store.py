"""Virtual keys in SQL: create, list, revoke, and load them for the ingress.

Blocking (SQLAlchemy's sync engine): the CLI calls it directly, the gateway from a
worker thread. Only the secret's SHA-256 and a short prefix are ever stored.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from budgets.keys import StoredKey
from storage.budget_tables import virtual_keys


class KeyConflict(Exception):
    """A key with this id or secret exists already."""


def create_key(engine: Engine, key: StoredKey) -> None:
    row = {
        "id": key.id,
        "name": key.name,
        "secret_sha256": key.digest,
        "secret_prefix": key.prefix,
        "account": key.account,
        "team": key.team,
        "customer": key.customer,
        "allowed_models": ",".join(key.allowed_models) or None,
        "created_at": _moment(key.created_at),
        "expires_at": _moment(key.expires_at),
        "revoked_at": _moment(key.revoked_at),
    }
    try:
        with engine.begin() as connection:
            connection.execute(sa.insert(virtual_keys), [row])
    except sa.exc.IntegrityError as exc:
        raise KeyConflict(f"a virtual key with id {key.id!r} exists already") from exc


def load_keys(engine: Engine) -> list[StoredKey]:
    """Every stored key, revoked and expired ones included, oldest first."""
    query = sa.select(virtual_keys).order_by(virtual_keys.c.created_at, virtual_keys.c.id)
    with engine.connect() as connection:
        return [_stored_key(row) for row in connection.execute(query)]


def revoke_key(engine: Engine, key_id: str, *, at: float) -> bool:
    """Mark the key revoked (once); False when no key has that id."""
    statement = (
        sa.update(virtual_keys)
        .where(virtual_keys.c.id == key_id)
        .values(revoked_at=sa.func.coalesce(virtual_keys.c.revoked_at, _moment(at)))
    )
    with engine.begin() as connection:
        return connection.execute(statement).rowcount == 1


def _stored_key(row: sa.Row[tuple[object, ...]]) -> StoredKey:
    m = row._mapping
    models = m["allowed_models"]
    return StoredKey(
        id=m["id"],
        name=m["name"],
        digest=m["secret_sha256"],
        prefix=m["secret_prefix"],
        account=m["account"],
        team=m["team"],
        customer=m["customer"],
        allowed_models=tuple(models.split(",")) if models else (),
        created_at=m["created_at"].timestamp(),
        expires_at=_seconds(m["expires_at"]),
        revoked_at=_seconds(m["revoked_at"]),
    )


def _moment(at: float | None) -> datetime | None:
    return None if at is None else datetime.fromtimestamp(at, UTC)


def _seconds(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


__all__ = ["KeyConflict", "create_key", "load_keys", "revoke_key"]
