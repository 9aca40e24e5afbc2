"""The trail in SQL through SQLAlchemy Core's sync engine: blocking by design.

The audit logger is the only writer and calls ``append`` from one worker thread;
readers (CLI, health, export) may call ``read`` / ``read_since`` from anywhere.
The schema comes from Alembic (``storage.database.migrate``), never ``create_all``.

The write path is the hot one (every event of every request). Its statements are
built with Core and compiled once for the engine's dialect, then run with rows
that are already in the driver's terms: SQLAlchemy's per-row parameter processing
took about half the CPU of a batch, more than SQLite's own work. The only value
needing a dialect's treatment is a UTC timestamp (see ``_timestamp_for``); reads go
through Core's types as usual.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import chain
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect, Engine

from storage._projection import LARGEST, LATEST_KNOWN, OUTCOME, Params, Stamp, project
from storage.blob_store import BlobWriter, rebuild_payload
from storage.codec import Splitter, encode_payload
from storage.recorder import SequencedEvent, StoredEvent, TrailIntegrityError
from storage.tables import attempts, events, requests

_TOKENS = (
    "input_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
)
_KEY_REQUEST = sa.bindparam("key_request_id", type_=sa.Text())
_KEY_ATTEMPT = sa.bindparam("key_attempt", type_=sa.Integer())
_ATTEMPT_KEY = sa.and_(attempts.c.request_id == _KEY_REQUEST, attempts.c.attempt == _KEY_ATTEMPT)
# A failure without a response (connection refused) keeps the status from first byte.
_KEEP_FIRST_BYTE_STATUS = sa.func.coalesce(
    sa.bindparam("new_http_status", type_=sa.Integer()), attempts.c.http_status
)


def _all_columns(table: sa.Table) -> list[str]:
    return [column.name for column in table.columns if column.autoincrement is not True]


MULTI_ROW_MAX = 64
"""Rows per multi-row ``INSERT`` on SQLite, fewer where the rows' parameters would pass
the connection's limit (``SQLITE_LIMIT_VARIABLE_NUMBER``: 32766 since SQLite 3.32, 999
before)."""
_OLD_SQLITE_VARIABLES = 999


class _Prepared:
    """A write statement compiled once for a dialect; run with driver-ready rows.

    On SQLite an ``INSERT`` of many rows is run as a few multi-row ``INSERT … VALUES
    (…), (…)`` (of ``MULTI_ROW_MAX``, 32, … 1 rows: a handful of distinct statements,
    each prepared once by the driver's cache), not an ``executemany``: one statement
    step per up to 64 rows instead of one per row, each of which the ``sqlite3`` driver
    runs with the GIL released and taken back, a thread switch away from the event loop.
    """

    def __init__(self, statement: sa.UpdateBase, dialect: Dialect, keys: Sequence[str]) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys), for_executemany=True)
        self._sql = compiled.string
        positions = compiled.positiontup  # bind names in order; None for named paramstyles
        assert positions is None or len(positions) > 1, "itemgetter of one name is no tuple"
        self._as_tuple = None if positions is None else itemgetter(*positions)
        self._multi_row: dict[int, str] = {}
        self._rows_max = 0  # per multi-row statement: set at the first run (the limit)
        self._columns = 0 if positions is None else len(positions)
        head, values, group = self._sql.partition(" VALUES ")
        if (
            isinstance(statement, sa.Insert)
            and dialect.name == "sqlite"
            and positions is not None
            and values
            and group == "(" + ", ".join(["?"] * len(positions)) + ")"
        ):
            self._multi_row = {
                size: f"{head}{values}{', '.join([group] * size)}"
                for size in (1 << n for n in range(MULTI_ROW_MAX.bit_length()))
            }

    def run(self, connection: Connection, rows: list[Params]) -> None:
        if not rows:
            return
        as_tuple = self._as_tuple
        if as_tuple is None:
            connection.exec_driver_sql(self._sql, rows)
        elif self._multi_row and len(rows) > 1:
            self._run_multi_row(connection, [as_tuple(row) for row in rows])
        else:
            connection.exec_driver_sql(self._sql, [as_tuple(row) for row in rows])

    def _run_multi_row(self, connection: Connection, rows: list[tuple[Any, ...]]) -> None:
        if not self._rows_max:
            rows_max = min(MULTI_ROW_MAX, _variable_limit(connection) // self._columns)
            self._rows_max = 1 << (max(rows_max, 1).bit_length() - 1)
        start = 0
        while start < len(rows):
            size = 1 << (min(len(rows) - start, self._rows_max).bit_length() - 1)
            values = tuple(chain.from_iterable(rows[start : start + size]))
            connection.exec_driver_sql(self._multi_row[size], values)
            start += size


def _variable_limit(connection: Connection) -> int:
    """How many parameters one statement may have on this SQLite connection."""
    driver = connection.connection.driver_connection
    getlimit = getattr(driver, "getlimit", None)
    if getlimit is None:  # an older Python: assume the oldest SQLite's limit
        return _OLD_SQLITE_VARIABLES
    return int(getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))


class _WriteStatements:
    def __init__(self, dialect: Dialect) -> None:
        self.insert_events = _Prepared(
            sa.insert(events), dialect, ["request_id", "seq", "kind", "recorded_at", "payload"]
        )
        self.insert_requests = _Prepared(sa.insert(requests), dialect, _all_columns(requests))
        self.insert_attempts = _Prepared(sa.insert(attempts), dialect, _all_columns(attempts))
        self.first_byte = _Prepared(
            sa.update(attempts).where(_ATTEMPT_KEY), dialect, ["first_byte_ms", "http_status"]
        )
        self.finish_attempts = _Prepared(
            sa.update(attempts).where(_ATTEMPT_KEY).values(http_status=_KEEP_FIRST_BYTE_STATUS),
            dialect,
            [
                "finished_at",
                "latency_ms",
                "outcome",
                "error_message",
                *_TOKENS,
                "cost_usd",
                "price_source",
            ],
        )
        self.finish_requests = _Prepared(
            sa.update(requests)
            .where(requests.c.request_id == _KEY_REQUEST)
            .values(_finish_request_values()),
            dialect,
            [],
        )


def _finish_request_values() -> dict[str, Any]:
    """A terminal event's ``SET``: which one decides the outcome is ``OUTCOME``'s rule;
    every one adds what was spent (see ``storage._projection``)."""
    columns = requests.c
    # as ``replaces_outcome``
    replaces = sa.or_(
        columns.status == sa.literal_column("'in_progress'"),
        sa.and_(
            columns.status == sa.literal_column("'completed'"),
            sa.bindparam("new_status", type_=sa.Text()) == sa.literal_column("'failed'"),
        ),
    )
    values: dict[str, Any] = {}
    for name in OUTCOME:
        new = sa.bindparam(f"new_{name}", type_=columns[name].type)
        values[name] = sa.case((replaces, new), else_=columns[name])
    for name in LATEST_KNOWN:
        new = sa.bindparam(f"new_{name}", type_=columns[name].type)
        values[name] = sa.func.coalesce(new, columns[name])
    for name in LARGEST:
        new = sa.bindparam(f"new_{name}", type_=columns[name].type)
        values[name] = sa.case((new > columns[name], new), else_=columns[name])
    return values


def _timestamp_for(dialect: Dialect) -> Stamp:
    """Unix seconds → what the driver should be given for a ``UtcDateTime`` column.

    SQLite has no timestamp type: SQLAlchemy stores ``YYYY-MM-DD HH:MM:SS.ffffff``
    text (UTC here), and this writes the same text. Other drivers take datetimes.
    """
    if dialect.name == "sqlite":
        return _SqliteStamp()
    return lambda at: datetime.fromtimestamp(at, UTC)


class _SqliteStamp:
    """``YYYY-MM-DD HH:MM:SS.ffffff`` (UTC) for unix seconds, the same text as
    ``datetime.fromtimestamp(at, UTC).isoformat(" ")`` but with the date and time of the
    current second formatted once: a batch's events mostly fall in the same second."""

    __slots__ = ("_prefix", "_second")

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(self, at: float) -> str:
        second = int(at)
        micro = round((at - second) * 1_000_000)
        if second < 0 or micro >= 1_000_000:  # rare edges: let datetime round them
            moment = datetime.fromtimestamp(at, UTC).replace(tzinfo=None)
            return moment.isoformat(" ", "microseconds")
        if second != self._second:
            self._prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%d %H:%M:%S")
            self._second = second
        return f"{self._prefix}.{micro:06d}"


_KEYS_PER_QUERY = 500

_STORED_COLUMNS = (
    events.c.id,
    events.c.request_id,
    events.c.seq,
    events.c.kind,
    events.c.recorded_at,
    sa.cast(events.c.payload, sa.Text()).label("payload"),
)


class SqlRecorder:
    """``Recorder`` over any SQLAlchemy engine (see ``storage.database.make_engine``)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._write = _WriteStatements(engine.dialect)
        self._stamp = _timestamp_for(engine.dialect)
        self._blobs = BlobWriter()

    def append(self, batch: Sequence[SequencedEvent]) -> None:
        """Write the batch and its projections in one transaction; the large parts of
        its bodies go to ``blobs`` (``storage.blob_store``), each distinct one once."""
        if not batch:
            return
        stamp, write, blobs = self._stamp, self._write, self._blobs
        blobs.begin()
        rows = [_event_row(item, stamp, blobs.split) for item in batch]
        # the projection stamps the same moments again (an event's ``at`` is its row's
        # ``recorded_at`` and its request's or attempt's start or end): look them up
        stamped = {item.event.at: row["recorded_at"] for item, row in zip(batch, rows, strict=True)}
        projection = project(batch, stamped.__getitem__)
        try:
            with self._engine.begin() as connection:
                # The first statement writes, so SQLite takes its write lock at once.
                blobs.write(connection)
                write.insert_events.run(connection, rows)
                write.insert_requests.run(connection, projection.requests_started)
                write.insert_attempts.run(connection, projection.attempts_started)
                write.first_byte.run(connection, projection.attempts_first_byte)
                write.finish_attempts.run(connection, projection.attempts_finished)
                write.finish_requests.run(connection, projection.requests_finished)
        except sa.exc.IntegrityError as exc:
            raise TrailIntegrityError(
                f"batch of {len(batch)} events conflicts with the stored trail"
            ) from exc
        blobs.committed()

    def stored_keys(self, keys: Sequence[tuple[str, int]]) -> set[tuple[str, int]]:
        """Of ``keys``, those in ``events``: one indexed query per ``_KEYS_PER_QUERY``
        request ids (the unique ``(request_id, seq)`` index serves it)."""
        wanted = set(keys)
        request_ids = sorted({request_id for request_id, _ in wanted})
        found: set[tuple[str, int]] = set()
        with self._engine.connect() as connection:
            for start in range(0, len(request_ids), _KEYS_PER_QUERY):
                chunk = request_ids[start : start + _KEYS_PER_QUERY]
                query = sa.select(events.c.request_id, events.c.seq).where(
                    events.c.request_id.in_(chunk)
                )
                found.update((row.request_id, row.seq) for row in connection.execute(query))
        return found & wanted

    def read(self, request_id: str) -> list[StoredEvent]:
        query = (
            sa.select(*_STORED_COLUMNS)
            .where(events.c.request_id == request_id)
            .order_by(events.c.seq)
        )
        return self._fetch(query)

    def read_since(self, cursor: int, limit: int = 1000) -> list[StoredEvent]:
        query = (
            sa.select(*_STORED_COLUMNS)
            .where(events.c.id > cursor)
            .order_by(events.c.id)
            .limit(limit)
        )
        return self._fetch(query)

    def _fetch(self, query: sa.Select[Any]) -> list[StoredEvent]:
        """The events, each payload whole (``rebuild_payload``)."""
        with self._engine.connect() as connection:
            return [
                StoredEvent(
                    id=row.id,
                    request_id=row.request_id,
                    seq=row.seq,
                    kind=row.kind,
                    recorded_at=row.recorded_at,
                    payload=rebuild_payload(connection, row.payload.encode("utf-8")),
                )
                for row in connection.execute(query)
            ]


def _event_row(item: SequencedEvent, stamp: Stamp, split: Splitter) -> Params:
    event = item.event
    return {
        "request_id": event.request_id,
        "seq": item.seq,
        "kind": event.kind,
        "recorded_at": stamp(event.at),
        "payload": encode_payload(event, split).decode("utf-8"),
    }


__all__ = ["SqlRecorder"]
