"""Alembic's entry point for Switchyard; there is no alembic.ini.

``storage.database.migrate(url)`` hands over an open connection in
``config.attributes["connection"]``. Run by the ``alembic`` command instead, the URL
comes from ``-x url=…``, then the ``sqlalchemy.url`` option, then the
``SWITCHYARD_DATABASE_URL`` environment variable.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy.engine import Connection

from storage.database import make_engine
from storage.tables import metadata


def _url() -> str:
    url = (
        context.get_x_argument(as_dictionary=True).get("url")
        or context.config.get_main_option("sqlalchemy.url")
        or os.environ.get("SWITCHYARD_DATABASE_URL")
    )
    if not url:
        raise RuntimeError("no database URL: pass -x url=… or set SWITCHYARD_DATABASE_URL")
    return url


def _run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.begin() as owned:
            _run_on(owned)
    finally:
        engine.dispose()


def _run_offline() -> None:
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
else:
    _run_online()
