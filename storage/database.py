"""Engines and schema: ``make_engine`` for any SQLAlchemy URL, Alembic without an ini file.

SQLite (the default) runs in WAL mode with ``synchronous=NORMAL``: readers never
block the writer and a commit costs no fsync (a power cut may lose the last
transactions, never corrupt the file). A new file is made with
``auto_vacuum=INCREMENTAL``, so retention can hand pruned pages back to the file system
(``PRAGMA incremental_vacuum``); SQLite fixes that mode at a file's first table, so an
older file keeps its mode until a ``VACUUM``. SQLAlchemy, not the ``sqlite3`` driver,
emits ``BEGIN``, so DDL is transactional and a failed migration leaves nothing behind.
PostgreSQL URLs (``postgresql://…``) use psycopg 3.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

import migrations
from storage.tables import metadata

SQLITE_BUSY_TIMEOUT_MS = 5000


class DatabaseSchemaError(Exception):
    """The database's schema is not one this version of Switchyard can upgrade."""


def make_engine(url: str | sa.URL, **engine_options: Any) -> Engine:
    """An engine for ``url``, tuned for the trail (see the module docstring)."""
    parsed = sa.make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed, pool_pre_ping=True, **engine_options)
    if parsed.database in (None, "", ":memory:"):
        # One connection shared by every thread: a private :memory: database is
        # per connection. Fine for tests; the audit logger serialises its writes.
        engine_options.setdefault("poolclass", StaticPool)
        engine_options.setdefault("connect_args", {"check_same_thread": False})
    engine = sa.create_engine(parsed, **engine_options)
    sa.event.listen(engine, "connect", _configure_sqlite_connection)
    sa.event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot take a write *now* — locked past the
    busy timeout, full, read-only, unreachable, restarting — so the same write may
    succeed later. Anything else (a constraint, a bug) would fail again."""
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(
        exc,
        sa.exc.OperationalError
        | sa.exc.InterfaceError
        | sa.exc.DisconnectionError
        | sa.exc.TimeoutError
        | OSError,
    )


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN (see below)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA auto_vacuum=INCREMENTAL")  # no-op once the file has tables
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _begin_sqlite_transaction(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


def alembic_config() -> Config:
    """Alembic's configuration with no ini file: the scripts are the ``migrations`` package."""
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    return config


def migrate(url: str | sa.URL, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision`` (``alembic upgrade head``)."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            _upgrade(connection, revision)
    finally:
        engine.dispose()


def downgrade(url: str | sa.URL, revision: str = "base") -> None:
    """Downgrade the database at ``url`` to ``revision`` (``base`` drops the trail)."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
    finally:
        engine.dispose()


def ensure_migrated(url: str | sa.URL) -> None:
    """Bring an empty or older database up to date; refuse anything else.

    Raises ``DatabaseSchemaError`` when the database is at a revision this version
    does not know (written by a newer Switchyard), or holds trail tables that no
    migration recorded.
    """
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            if _needs_upgrade(connection):
                _upgrade(connection, "head")
    finally:
        engine.dispose()


def _needs_upgrade(connection: Connection) -> bool:
    script = ScriptDirectory.from_config(alembic_config())
    current = set(MigrationContext.configure(connection).get_current_heads())
    if current == set(script.get_heads()):
        return False
    known = {revision.revision for revision in script.walk_revisions()}
    if unknown := sorted(current - known):
        raise DatabaseSchemaError(
            f"database is at revision {', '.join(unknown)}, unknown to this Switchyard "
            "(was it migrated by a newer version?)"
        )
    if not current:
        present = set(sa.inspect(connection).get_table_names()) & set(metadata.tables)
        if present:
            raise DatabaseSchemaError(
                f"tables {', '.join(sorted(present))} exist but no migration is recorded; "
                "refusing to guess their schema"
            )
    return True


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def insert_new_only(connection: Connection, table: sa.Table) -> sa.Insert:
    """``INSERT`` that skips rows whose key is already there (another replica wrote it
    first): ``ON CONFLICT DO NOTHING`` in each dialect's words."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def upsert(
    connection: Connection,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    keys: list[str],
    *,
    update: list[str] | None = None,
) -> None:
    """Insert ``rows``, replacing any row with the same ``keys`` (``ON CONFLICT DO
    UPDATE``; only the ``update`` columns, if given): several processes writing the
    same rows at once never collide."""
    if not rows:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table)
    columns = update if update is not None else [name for name in rows[0] if name not in keys]
    updates = {name: statement.excluded[name] for name in columns}
    connection.execute(statement.on_conflict_do_update(index_elements=keys, set_=updates), rows)


__all__ = [
    "DatabaseSchemaError",
    "alembic_config",
    "downgrade",
    "ensure_migrated",
    "insert_new_only",
    "is_unavailable",
    "make_engine",
    "migrate",
    "upsert",
]
