"""Databases for the storage tests: a fresh SQLite file each, and PostgreSQL when
``SWITCHYARD_TEST_PG_URL`` names one (its trail tables are dropped before each test)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from storage import make_engine, migrate
from storage.tables import metadata

PG_URL = os.environ.get("SWITCHYARD_TEST_PG_URL")


def reset_postgres(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            views = ("replay_runs", "replay_results", "budget_status", "cost_by_day")
            for view in (*views, "cost_by_key", "cost_by_model"):
                connection.exec_driver_sql(f"DROP VIEW IF EXISTS {view}")
            metadata.drop_all(connection)
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    finally:
        engine.dispose()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(PG_URL is None, reason="SWITCHYARD_TEST_PG_URL is not set"),
            ],
        ),
    ]
)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with no trail tables: a new SQLite file, or the test PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'trail.db'}"
    assert PG_URL is not None
    reset_postgres(PG_URL)
    return PG_URL


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    """A database migrated to head."""
    migrate(empty_database_url)
    return empty_database_url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def rows(engine: Engine, table: sa.Table) -> list[sa.Row[tuple[object, ...]]]:
    with engine.connect() as connection:
        return list(connection.execute(sa.select(table).order_by(*table.primary_key)))
