"""A database's refusal told in one line for the user (``cli.errors``, ``doctor``), and
URLs shown without their password — so nothing outside ``storage/`` handles SQLAlchemy."""

from __future__ import annotations

import sqlalchemy as sa


def database_problem(exc: BaseException) -> str | None:
    """One line when ``exc`` is the database (or its URL) refusing, else ``None``."""
    if isinstance(exc, sa.exc.ArgumentError | sa.exc.NoSuchModuleError):
        return f"database URL not understood: {_first_line(exc)}"
    if isinstance(exc, sa.exc.DBAPIError):
        return f"cannot open the database: {_first_line(exc.orig or exc)}"
    return None


def masked_url(url: str) -> str:
    """``url`` as it may be shown: its password, if any, replaced by ``***``."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<a database URL that does not parse>"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


__all__ = ["database_problem", "masked_url"]
