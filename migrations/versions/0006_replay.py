"""Replay runs: replayed requests tagged in the trail, kept out of live cost and budgets.

Revision: 0006_replay
Follows: 0005_leases
Written: by hand, to match storage/tables.py and storage/replay_tables.py

Adds ``requests.replay_run_id`` and ``requests.original_request_id`` (set only on a
request ``switchyard replay`` sent again), the tables ``replay_jobs`` (one row per run:
its config, cap and status, so ``--resume`` can finish it) and ``replay_items`` (the
logged requests a run selected, in order), and the views ``replay_results`` (each
selected request beside its counted replay) and ``replay_runs`` (one row per run with
its progress and costs). The live views ``cost_by_model``, ``cost_by_key``,
``cost_by_day`` and ``budget_status`` are re-created without replayed requests.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_replay"
down_revision: str | Sequence[str] | None = "0005_leases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LIVE_VIEWS = ("budget_status", "cost_by_day", "cost_by_key", "cost_by_model")
_REPLAY_VIEWS = ("replay_runs", "replay_results")
_LIVE_REQUEST = "replay_run_id IS NULL"
_LIVE_ATTEMPT = (
    "NOT EXISTS (SELECT 1 FROM requests rr WHERE rr.request_id = {t}.request_id"
    " AND rr.replay_run_id IS NOT NULL)"
)
COUNTED = (
    "{t}.status <> 'in_progress' AND NOT ({t}.attempts = 0"
    " AND {t}.error_kind IN ('budget_exceeded', 'shed', 'client_closed'))"
)
"""A replay that counts: it ended, and it was not refused before any provider saw it
(the run's cap, or the run stopped) — such a request is sent again on ``--resume``."""


def _v0002() -> object:
    return importlib.import_module("migrations.versions.0002_budgets")


def upgrade() -> None:
    op.add_column("requests", sa.Column("replay_run_id", sa.Text(), nullable=True))
    op.add_column("requests", sa.Column("original_request_id", sa.Text(), nullable=True))
    op.create_index(
        "ix_requests_replay_run_id_original_request_id",
        "requests",
        ["replay_run_id", "original_request_id"],
    )
    op.create_table(
        "replay_jobs",
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("config_source", sa.Text(), nullable=False),
        sa.Column("route", sa.Text(), nullable=True),
        sa.Column("max_cost_usd", sa.Float(), nullable=True),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("selection", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name="pk_replay_jobs"),
    )
    op.create_table(
        "replay_items",
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("original_request_id", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "position", name="pk_replay_items"),
        sa.UniqueConstraint(
            "run_id", "original_request_id", name="uq_replay_items_run_id_original_request_id"
        ),
    )
    for view in _LIVE_VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
    for statement in live_views():
        op.execute(statement)
    for statement in replay_views():
        op.execute(statement)


def live_views() -> list[str]:
    """0002's views, each restricted to live (not replayed) requests."""
    made: list[str] = _v0002()._views()  # type: ignore[attr-defined]
    out = []
    for statement in made:
        statement = statement.replace(
            "FROM attempts\nWHERE ", f"FROM attempts\nWHERE {_LIVE_ATTEMPT.format(t='attempts')} AND "
        )
        statement = statement.replace(
            "FROM requests\nWHERE ", f"FROM requests\nWHERE {_LIVE_REQUEST} AND "
        )
        statement = statement.replace(
            "WHERE a.provider = c.scope_id AND",
            f"WHERE a.provider = c.scope_id AND {_LIVE_ATTEMPT.format(t='a')} AND",
        )
        statement = statement.replace(
            "= c.scope_id\n              AND", f"= c.scope_id\n              AND r.{_LIVE_REQUEST} AND"
        )
        if "replay_run_id" not in statement:  # 0002's text changed: filter it by hand
            raise RuntimeError(f"0006_replay: no live filter in {statement[:40]!r}")
        out.append(statement)
    return out


def _ttfb(t: str) -> str:
    return (
        f"(SELECT a.first_byte_ms FROM attempts a WHERE a.request_id = {t}.request_id"
        " ORDER BY a.attempt DESC LIMIT 1)"
    )


def _side(t: str, prefix: str) -> str:
    names = (
        "provider",
        "model",
        "status",
        "http_status",
        "error_kind",
        "attempts",
        "input_tokens",
        "cached_input_tokens",
        "output_tokens",
        "reasoning_tokens",
        "cost_usd",
        "latency_ms",
    )
    columns = [f"{t}.{name} AS {prefix}_{name}" for name in names]
    return ",\n       ".join([*columns, f"{_ttfb(t)} AS {prefix}_ttfb_ms"])


def replay_views() -> list[str]:
    counted = COUNTED.format(t="x")
    results = f"""CREATE VIEW replay_results AS
SELECT i.run_id, i.position, i.original_request_id, o.session_id, o.thread_id,
       o.started_at AS original_started_at, o.model_requested,
       {_side("o", "original")},
       r.request_id AS replay_request_id, r.started_at AS replay_started_at,
       {_side("r", "replay")}
FROM replay_items i
JOIN requests o ON o.request_id = i.original_request_id
LEFT JOIN requests r ON r.request_id = (
    SELECT x.request_id FROM requests x
    WHERE x.replay_run_id = i.run_id AND x.original_request_id = i.original_request_id
      AND {counted}
    ORDER BY x.started_at DESC, x.request_id DESC LIMIT 1)"""
    runs = """CREATE VIEW replay_runs AS
SELECT j.run_id, j.status, j.created_at, j.updated_at, j.config_source, j.route,
       j.max_cost_usd, j.concurrency, j.selection,
       (SELECT COUNT(*) FROM replay_items i WHERE i.run_id = j.run_id) AS requests,
       (SELECT COUNT(*) FROM replay_results s
        WHERE s.run_id = j.run_id AND s.replay_request_id IS NOT NULL) AS replayed,
       (SELECT SUM(s.original_cost_usd) FROM replay_results s
        WHERE s.run_id = j.run_id AND s.replay_request_id IS NOT NULL) AS original_cost_usd,
       (SELECT SUM(s.replay_cost_usd) FROM replay_results s
        WHERE s.run_id = j.run_id) AS replay_cost_usd,
       (SELECT COALESCE(SUM(x.cost_usd), 0) FROM requests x
        WHERE x.replay_run_id = j.run_id) AS spent_usd
FROM replay_jobs j"""
    return [results, runs]


def downgrade() -> None:
    for view in (*_REPLAY_VIEWS, *_LIVE_VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {view}")
    for statement in _v0002()._views():  # type: ignore[attr-defined]
        op.execute(statement)
    op.drop_table("replay_items")
    op.drop_table("replay_jobs")
    op.drop_index("ix_requests_replay_run_id_original_request_id", table_name="requests")
    # plain ALTER TABLE (SQLite >= 3.35, PostgreSQL): a batch copy would break the views
    for column in ("original_request_id", "replay_run_id"):
        op.execute(f"ALTER TABLE requests DROP COLUMN {column}")
