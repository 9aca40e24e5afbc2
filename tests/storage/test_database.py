"""``make_engine``: SQLite tuned for one writer and many readers, transactional DDL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from storage import SqlRecorder, make_engine, migrate
from storage.database import SQLITE_BUSY_TIMEOUT_MS
from tests.storage.samples import completed_request, sequenced


def test_sqlite_connections_are_configured(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'trail.db'}")
    try:
        with engine.connect() as connection:

            def pragma(name: str) -> object:
                return connection.exec_driver_sql(f"PRAGMA {name}").scalar()

            assert pragma("journal_mode") == "wal"
            assert pragma("synchronous") == 1  # NORMAL
            assert pragma("busy_timeout") == SQLITE_BUSY_TIMEOUT_MS
            assert pragma("foreign_keys") == 1
    finally:
        engine.dispose()


def test_sqlite_ddl_is_transactional(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'trail.db'}")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("CREATE TABLE scratch (id INTEGER)")
            connection.rollback()
        assert "scratch" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_an_in_memory_sqlite_url_is_one_database_for_every_thread() -> None:
    url = "sqlite://"
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE scratch (id INTEGER)")
        with engine.connect() as connection:
            assert "scratch" in sa.inspect(connection).get_table_names()
    finally:
        engine.dispose()


def test_postgresql_urls_use_psycopg() -> None:
    pytest.importorskip("psycopg")
    engine = make_engine("postgresql://user@127.0.0.1:1/none")
    try:
        assert engine.dialect.driver == "psycopg"
    finally:
        engine.dispose()


def test_a_reader_sees_committed_batches_while_holding_its_own_connection(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'trail.db'}"
    migrate(url)
    writer_engine, reader_engine = make_engine(url), make_engine(url)
    try:
        with reader_engine.connect() as reader:
            SqlRecorder(writer_engine).append(sequenced(completed_request("req-a")))
            count = reader.exec_driver_sql("SELECT count(*) FROM events").scalar()
        assert count == 6
    finally:
        writer_engine.dispose()
        reader_engine.dispose()
