"""Where a database's schema stands, looked at without changing anything (``switchyard
doctor``): reachable or not, its Alembic revision against this version's head.

A SQLite file is opened read-only and never created; a server database gets a short
connect timeout."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from storage.database import alembic_config

CONNECT_TIMEOUT_S = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class SchemaStatus:
    """``state``: ``current``, ``behind``, ``empty``, ``missing`` (no SQLite file),
    ``unknown`` (a revision this version does not know) or ``unreachable``."""

    state: str
    current: tuple[str, ...] = ()
    head: tuple[str, ...] = ()
    detail: str = ""


def schema_status(url: str) -> SchemaStatus:
    head = tuple(sorted(ScriptDirectory.from_config(alembic_config()).get_heads()))
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if path in ("", ":memory:"):
            return SchemaStatus(state="missing", head=head, detail="an in-memory database")
        if not Path(path).is_file():
            return SchemaStatus(state="missing", head=head, detail=f"no file {path}")
        engine = sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    else:
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        engine = sa.create_engine(parsed, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    try:
        with engine.connect() as connection:
            current = tuple(sorted(MigrationContext.configure(connection).get_current_heads()))
    except sa.exc.DBAPIError as exc:
        reason = str(exc.orig or exc).strip().splitlines()
        return SchemaStatus(state="unreachable", head=head, detail=reason[0] if reason else "")
    finally:
        engine.dispose()
    known = {r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if current == head:
        state = "current"
    elif not current:
        state = "empty"
    elif set(current) - known:
        state = "unknown"
    else:
        state = "behind"
    return SchemaStatus(state=state, current=current, head=head)


__all__ = ["SchemaStatus", "schema_status"]
