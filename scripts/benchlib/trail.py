"""After the run: did the trail keep up? Count what the gateway wrote to its SQLite file."""

from __future__ import annotations

import sqlite3
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import orjson


@dataclass(frozen=True, slots=True, kw_only=True)
class TrailCheck:
    answered: int
    requests_rows: int
    completed_rows: int
    events_rows: int
    events_written_logged: int | None
    missing: int
    problem: str | None = None


def check_trail(database: Path, log: Path, *, answered: int) -> TrailCheck:
    """Compare the complete answers the gateway gave with its ``requests`` rows.

    Read once the gateway has stopped (it drains the trail on SIGINT).
    """
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
            requests_rows, completed_rows = connection.execute(
                "SELECT count(*), coalesce(sum(status = 'completed'), 0) FROM requests"
            ).fetchone()
            (events_rows,) = connection.execute("SELECT count(*) FROM events").fetchone()
    except sqlite3.Error as error:
        return TrailCheck(
            answered=answered,
            requests_rows=0,
            completed_rows=0,
            events_rows=0,
            events_written_logged=_events_written(log),
            missing=answered,
            problem=f"{database}: {error}",
        )
    return TrailCheck(
        answered=answered,
        requests_rows=int(requests_rows),
        completed_rows=int(completed_rows),
        events_rows=int(events_rows),
        events_written_logged=_events_written(log),
        missing=max(0, answered - int(completed_rows)),
    )


def _events_written(log: Path) -> int | None:
    """``events_written`` from the gateway's ``gateway stopped`` log line, if any."""
    for line in reversed(log.read_bytes().splitlines()):
        if b"gateway stopped" in line:
            try:
                value = orjson.loads(line).get("events_written")
            except orjson.JSONDecodeError:
                return None
            return int(value) if isinstance(value, int) else None
    return None


def describe(check: TrailCheck) -> str:
    if check.problem is not None:
        return f"trail: could not be read ({check.problem})"
    verdict = "none missing" if check.missing == 0 else f"{check.missing} MISSING"
    return (
        f"trail: {check.answered} complete answers through the gateway, "
        f"{check.completed_rows} completed request rows ({check.requests_rows} in all), "
        f"{check.events_rows} events (the gateway logged {check.events_written_logged} written): "
        f"{verdict}"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class WriterLag:
    """The audit logger's own figures, read from ``/healthz`` once a cell's load stops."""

    pending_at_end: int
    """Events received but not yet committed when the load stopped: the backlog."""
    drained_s: float | None
    """How long that backlog took to commit (None: not within ``DRAIN_LIMIT_S``)."""
    lag_p99_ms: float | None
    """From an event's time to its batch's commit, p99 over the last 8,192 events written."""


DRAIN_LIMIT_S = 10.0
ADMIN_KEY = "sy-bench-admin-0123456789abcdef0123"
"""The bench gateway's ``server.admin_key``: ``/healthz`` gives its details only with it."""


def read_writer_lag(port: int) -> WriterLag | None:
    """The audit statistics after a cell: the backlog left, then the lag once it has drained."""
    first = _audit_statistics(port)
    if first is None:
        return None
    started = time.perf_counter()
    latest, drained_s = first, None
    while time.perf_counter() - started < DRAIN_LIMIT_S:
        if int(latest.get("pending", 1)) == 0:
            drained_s = round(time.perf_counter() - started, 3)
            break
        time.sleep(0.01)
        latest = _audit_statistics(port) or latest
    lag = latest.get("writer_lag_p99_ms")
    return WriterLag(
        pending_at_end=int(first.get("pending", 0)),
        drained_s=drained_s,
        lag_p99_ms=round(float(lag), 2) if isinstance(lag, int | float) else None,
    )


def _audit_statistics(port: int) -> dict[str, object] | None:
    try:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/healthz", headers={"authorization": f"Bearer {ADMIN_KEY}"}
        )
        with urllib.request.urlopen(request, timeout=5) as answer:
            audit = orjson.loads(answer.read()).get("audit")
    except (OSError, orjson.JSONDecodeError):
        return None
    return audit if isinstance(audit, dict) else None
