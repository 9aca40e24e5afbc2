"""The storage suite's databases (a fresh SQLite file; PostgreSQL with
``SWITCHYARD_TEST_PG_URL``), for the budget tables and views."""

from tests.storage.conftest import database_url, empty_database_url, engine

__all__ = ["database_url", "empty_database_url", "engine"]
