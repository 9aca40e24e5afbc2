"""The Alembic migrations build exactly ``storage/tables.py``, both ways."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from storage import DatabaseSchemaError, downgrade, ensure_migrated, make_engine, migrate
from storage.tables import metadata

TRAIL_TABLES = {"events", "requests", "attempts"}
BUDGET_TABLES = {"model_prices", "virtual_keys", "budgets", "budget_counters"}
LEASE_TABLES = {"budget_pools", "budget_leases"}
BLOB_TABLES = {"blobs", "trail_retention"}
REPLAY_TABLES = {"replay_jobs", "replay_items"}
CACHE_TABLES = {"cache_entries"}
HEAD = "0009_lighter_trail_indexes"
ALL_TABLES = (
    TRAIL_TABLES | BUDGET_TABLES | BLOB_TABLES | LEASE_TABLES | REPLAY_TABLES | CACHE_TABLES
)


def _differences(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return list(compare_metadata(MigrationContext.configure(connection), metadata))
    finally:
        engine.dispose()


def _inspect(url: str) -> tuple[set[str], dict[str, set[str | None]], str | None]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            tables = set(inspector.get_table_names())
            names = {
                table: {ix["name"] for ix in inspector.get_indexes(table)}
                | {uq["name"] for uq in inspector.get_unique_constraints(table)}
                for table in tables & ALL_TABLES
            }
            revision = MigrationContext.configure(connection).get_current_revision()
            return tables, names, revision
    finally:
        engine.dispose()


def test_upgrade_head_on_an_empty_database_builds_exactly_the_tables(
    empty_database_url: str,
) -> None:
    migrate(empty_database_url)
    assert _differences(empty_database_url) == []
    tables, names, revision = _inspect(empty_database_url)
    assert tables == ALL_TABLES | {"alembic_version"}
    assert revision == HEAD
    assert names == {
        "events": {"uq_events_request_id_seq"},
        "requests": {
            "ix_requests_started_at",
            "ix_requests_session_id",
            "ix_requests_provider_model",
            "ix_requests_finished_at",
            "ix_requests_replay_run_id_original_request_id",
        },
        "attempts": {"ix_attempts_started_at"},
        "model_prices": set(),
        "virtual_keys": {"uq_virtual_keys_secret_sha256"},
        "budgets": set(),
        "budget_counters": set(),
        "blobs": {"ix_blobs_used_at"},
        "trail_retention": set(),
        "budget_pools": set(),
        "budget_leases": {"ix_budget_leases_expires_at"},
        "replay_jobs": set(),
        "replay_items": {"uq_replay_items_run_id_original_request_id"},
        "cache_entries": {"ix_cache_entries_expires_at"},
    }


def test_compare_metadata_notices_a_difference(empty_database_url: str) -> None:
    """The check above can fail: a column the migration lacks is reported."""
    migrate(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE requests ADD COLUMN extra INTEGER")
        with engine.connect() as connection:
            diffs = compare_metadata(MigrationContext.configure(connection), metadata)
    finally:
        engine.dispose()
    assert [diff[0] for diff in diffs] == ["remove_column"]


def test_downgrade_to_base_then_upgrade_again(empty_database_url: str) -> None:
    migrate(empty_database_url)
    downgrade(empty_database_url, "base")
    tables, _, revision = _inspect(empty_database_url)
    assert tables & ALL_TABLES == set()
    assert revision is None
    migrate(empty_database_url)
    assert _differences(empty_database_url) == []


def test_ensure_migrated_upgrades_an_empty_database_and_then_does_nothing(
    empty_database_url: str,
) -> None:
    ensure_migrated(empty_database_url)
    assert _inspect(empty_database_url)[2] == HEAD
    ensure_migrated(empty_database_url)
    assert _differences(empty_database_url) == []


def test_ensure_migrated_refuses_a_revision_it_does_not_know(empty_database_url: str) -> None:
    migrate(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    finally:
        engine.dispose()
    with pytest.raises(DatabaseSchemaError, match="9999"):
        ensure_migrated(empty_database_url)


def test_ensure_migrated_refuses_trail_tables_without_a_recorded_migration(
    empty_database_url: str,
) -> None:
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE events (id INTEGER PRIMARY KEY)")
    finally:
        engine.dispose()
    with pytest.raises(DatabaseSchemaError, match="events"):
        ensure_migrated(empty_database_url)


def test_the_replay_index_holds_replayed_requests_only(empty_database_url: str) -> None:
    """Partial (a live request adds no entry to it), on either database."""
    migrate(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            indexes = sa.inspect(connection).get_indexes("requests")
    finally:
        engine.dispose()
    (replay,) = [
        ix for ix in indexes if ix["name"] == "ix_requests_replay_run_id_original_request_id"
    ]
    where = replay["dialect_options"][f"{engine.dialect.name}_where"]
    assert "replay_run_id IS NOT NULL" in str(where)


def test_the_replay_views_still_find_a_run_through_the_partial_index(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'trail.db'}"
    migrate(url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            plan = [
                row[3]
                for row in connection.exec_driver_sql(
                    "EXPLAIN QUERY PLAN SELECT * FROM replay_runs"
                )
            ]
    finally:
        engine.dispose()
    assert any("USING INDEX ix_requests_replay_run_id_original_request_id" in step for step in plan)
