"""The mistakes a user can make, each told in one line instead of a traceback: a port
already taken, an address that is not this machine's, a database that cannot be
opened, a schema this version cannot upgrade, a config that does not load. Anything
else is a bug of ours and keeps its traceback.
"""

from __future__ import annotations

import errno

from cli.database import CommandError
from config import ConfigError
from storage.database import DatabaseSchemaError
from storage.problems import database_problem

_SOCKET_PROBLEMS = {
    errno.EADDRINUSE: "the address is already in use (another process listens there: "
    "stop it or choose another --port)",
    errno.EACCES: "permission denied (ports below 1024 need privileges: choose --port 8080)",
    errno.EADDRNOTAVAIL: "that address is not one of this machine's (try --host 127.0.0.1)",
}


def explain(exc: BaseException) -> str | None:
    """One line for a mistake the user can fix, or ``None`` for a bug (re-raise it)."""
    for leaf in _leaves(exc):
        message = _explain_one(leaf)
        if message is not None:
            return message
    return None


def _explain_one(exc: BaseException) -> str | None:
    if isinstance(exc, CommandError):
        return str(exc)
    if isinstance(exc, ConfigError):
        return f"invalid config: {exc}"
    if isinstance(exc, DatabaseSchemaError):
        return f"database: {exc}"
    if (problem := database_problem(exc)) is not None:
        return problem
    if isinstance(exc, OSError) and exc.errno is not None and exc.errno < 0:
        # getaddrinfo's errors (socket.gaierror) are the negative ones
        return f"cannot listen: the host name does not resolve ({exc.strerror})"
    if isinstance(exc, OSError) and exc.errno in _SOCKET_PROBLEMS:
        return f"cannot listen: {_SOCKET_PROBLEMS[exc.errno]}"
    return None


def _leaves(exc: BaseException) -> list[BaseException]:
    """The exception itself, or every exception inside a (nested) exception group, with
    the causes of each: trio reports a failed bind as a group inside a group."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    chain = [exc]
    while exc.__cause__ is not None and len(chain) < 8:
        exc = exc.__cause__
        chain.append(exc)
    return chain


__all__ = ["explain"]
