"""The database a report reads, opened with one clear error for what a user can get wrong:
a URL that is not one, a file or server that cannot be opened, a schema from elsewhere."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from storage.database import DatabaseSchemaError, ensure_migrated, make_engine


class ReportDatabaseError(Exception):
    """The report's database cannot be used; the message is one line for the user."""


def open_report_database(url: str) -> Engine:
    """An engine on ``url``, migrated to the latest schema first."""
    try:
        ensure_migrated(url)
        return make_engine(url)
    except sa.exc.ArgumentError:
        raise ReportDatabaseError(f"--db {url!r} is not a database URL") from None
    except sa.exc.DBAPIError as exc:
        reason = str(exc.orig).splitlines()[0] if exc.orig is not None else "cannot open it"
        raise ReportDatabaseError(f"--db {_shown(url)}: {reason}") from None
    except DatabaseSchemaError as exc:
        raise ReportDatabaseError(f"--db {_shown(url)}: {exc}") from None


def _shown(url: str) -> str:
    """The URL without its password."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return repr(url)


__all__ = ["ReportDatabaseError", "open_report_database"]
