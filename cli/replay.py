"""``switchyard replay``: send logged requests again through another routing config, and
compare. See README "Replay". Exit status: 0 when every selected request was replayed,
3 when ``--max-cost`` stopped the run, 130 when it was interrupted (``--resume`` it)."""

from __future__ import annotations

import argparse
import math
import secrets
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from cli.database import CommandError, add_database_options, loaded_config, open_database
from cli.replay_output import RunProgress, show
from cli.report_output import write_report
from cli.sessions import moment, text, whole
from config import ConfigError, GatewayConfig, load_config
from replay.comparison import RunFacts, build_report
from replay.pinning import RouteNotFound, parse_route, replay_config
from replay.report_model import ComparisonReport
from replay.selection import MAX_SELECTED, ItemRef, Selection
from storage.replay_store import (
    RunRecord,
    create_run,
    load_run,
    pending_refs,
    provider_types,
    responses,
    run_results,
    select_requests,
    set_status,
)

if TYPE_CHECKING:  # the actors (and trio) load only when a run starts
    from actors.replay_runner import RunEnd
    from actors.replay_system import ReplayOutcome

MAX_CONCURRENCY = 256
MAX_COST_USD = 1_000_000.0
EXIT_CAPPED, EXIT_INTERRUPTED = 3, 130


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    replay = commands.add_parser("replay", help="re-send logged requests through another mix")
    replay.add_argument("--session", action="append", default=[], help="a session (repeatable)")
    replay.add_argument("--since", default=None, help="a time (2026-11-01) or a span (7d)")
    replay.add_argument("--until", default=None, help="a time or a span back from now")
    replay.add_argument("--key", default=None, help="only this virtual key's requests")
    replay.add_argument("--model", default=None, help="only requests for or served by a model")
    replay.add_argument("--limit", default=None, help="at most this many requests")
    replay.add_argument("--sample", default=None, help="this many, drawn at random")
    replay.add_argument(
        "--route", default=None, help="pin one provider: provider or provider/model"
    )
    replay.add_argument("--concurrency", default=None, help="requests at once (default 4)")
    replay.add_argument("--max-cost", default=None, help="stop before the run spends more USD")
    replay.add_argument("--resume", default=None, metavar="RUN_ID", help="finish an earlier run")
    replay.add_argument("--out", default=None, help="write report.json/.csv/.html there")
    replay.add_argument("--json", action="store_true", help="print the report as JSON")
    add_database_options(replay)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Plan:
    run: RunRecord
    config: GatewayConfig


def run(args: argparse.Namespace) -> int:
    concurrency = whole("--concurrency", args.concurrency, low=1, high=MAX_CONCURRENCY)
    max_cost = _cost(args.max_cost)
    if args.resume is None and args.config is None:
        raise CommandError("--config FILE is needed: the routing config to replay through")
    config = loaded_config(args)
    engine = open_database(args, config)
    try:
        plan = (
            _resumed(engine, args, config, concurrency, max_cost)
            if args.resume is not None
            else _created(engine, args, config, concurrency or 4, max_cost)
        )
        status = _execute(engine, plan, args)
        report = _report(engine, plan)
    finally:
        engine.dispose()
    show(report, as_json=args.json)
    if args.out is not None:
        for path in write_report(report, Path(args.out)):
            print(f"wrote {path}", file=sys.stderr)
    return {"completed": 0, "capped": EXIT_CAPPED}.get(status, EXIT_INTERRUPTED)


def _cost(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        cost = float(value.strip())
    except ValueError:
        cost = math.nan
    if not math.isfinite(cost) or not 0 < cost <= MAX_COST_USD:
        raise CommandError(
            f"--max-cost {value[:40]!r}: give USD above 0, at most {MAX_COST_USD:,.0f}"
        )
    return cost


def _selection(args: argparse.Namespace) -> Selection:
    now = datetime.now(UTC)
    for session in args.session:
        text("--session", session)
    return Selection(
        sessions=tuple(args.session),
        since=moment("--since", args.since, now=now),
        until=moment("--until", args.until, now=now),
        key=text("--key", args.key),
        model=text("--model", args.model),
        limit=whole("--limit", args.limit, low=1, high=MAX_SELECTED),
        sample=whole("--sample", args.sample, low=1, high=MAX_SELECTED),
    )


def _created(
    engine: Engine,
    args: argparse.Namespace,
    config: GatewayConfig | None,
    concurrency: int,
    max_cost: float | None,
) -> _Plan:
    assert config is not None
    selection = _selection(args)
    route = text("--route", args.route)
    if route is not None:
        _check_route(config, route)
    run_id = "rr_" + secrets.token_hex(6)
    ids = select_requests(engine, selection, seed=run_id)
    if not ids:
        raise CommandError(f"no logged request matches ({selection.describe()})")
    create_run(
        engine,
        run_id=run_id,
        config_source=config.source,
        route=route,
        max_cost_usd=max_cost,
        concurrency=concurrency,
        selection=selection.describe(),
        request_ids=ids,
    )
    print(f"replay run {run_id}: {len(ids)} requests through {config.source}", file=sys.stderr)
    record = load_run(engine, run_id)
    assert record is not None
    return _Plan(run=record, config=config)


def _resumed(
    engine: Engine,
    args: argparse.Namespace,
    config: GatewayConfig | None,
    concurrency: int | None,
    max_cost: float | None,
) -> _Plan:
    chosen = [
        flag
        for flag in ("session", "since", "until", "key", "model", "limit", "sample", "route")
        if getattr(args, flag)
    ]
    if chosen:
        raise CommandError(f"--resume replays the run's own selection: drop --{chosen[0]}")
    record = load_run(engine, text("--resume", args.resume) or "")
    if record is None:
        raise CommandError(f"--resume {args.resume[:40]!r}: no such replay run")
    if config is None:
        try:
            config = load_config(record.config_source)
        except (ConfigError, OSError) as exc:
            raise CommandError(
                f"the run's config {record.config_source}: {exc}; give --config"
            ) from None
    if concurrency is not None or max_cost is not None:
        record = _with(record, concurrency=concurrency, max_cost=max_cost)
    print(
        f"resuming replay run {record.run_id}: {record.replayed} of {record.requests} replayed",
        file=sys.stderr,
    )
    return _Plan(run=record, config=config)


def _with(record: RunRecord, *, concurrency: int | None, max_cost: float | None) -> RunRecord:
    from dataclasses import replace

    return replace(
        record,
        concurrency=concurrency or record.concurrency,
        max_cost_usd=max_cost if max_cost is not None else record.max_cost_usd,
    )


def _check_route(config: GatewayConfig, route: str) -> None:
    try:
        parse_route(route)
        replay_config(config, run_id="check", route=route, secret="x" * 32)
    except RouteNotFound as exc:
        raise CommandError(str(exc)) from None


def _execute(engine: Engine, plan: _Plan, args: argparse.Namespace) -> str:
    from actors.replay_launch import run_replay

    record = plan.run
    try:
        config = replay_config(
            plan.config, run_id=record.run_id, route=record.route, secret=secrets.token_hex(24)
        )
    except RouteNotFound as exc:
        raise CommandError(str(exc)) from None
    refs = pending_refs(engine, record.run_id)
    cap = None if record.max_cost_usd is None else record.max_cost_usd - record.spent_usd
    gone: set[str] = set()
    status = "completed" if not refs else "running"
    if refs and cap is not None and cap <= 0:
        status = "capped"
    elif refs:
        set_status(
            engine,
            record.run_id,
            "running",
            concurrency=record.concurrency,
            max_cost_usd=record.max_cost_usd,
        )
        done = record.requests - len(refs)
        with RunProgress(record.requests, already=done, spent_before=record.spent_usd) as bar:

            def progress(ref: ItemRef, outcome: ReplayOutcome, spent: float) -> None:
                if outcome.gone:
                    gone.add(ref.original_request_id)
                bar.advance(spent)

            end = run_replay(
                config,
                database_url=str(engine.url.render_as_string(hide_password=False)),
                run_id=record.run_id,
                items=refs,
                concurrency=record.concurrency,
                cap_usd=cap,
                progress=progress,
            )
        status = _ended(engine, record, end, gone)
    set_status(engine, record.run_id, status, concurrency=record.concurrency)
    return status


def _ended(engine: Engine, record: RunRecord, end: RunEnd, gone: set[str]) -> str:
    """The run's status once its loop ended, said in a line when it is not complete."""
    if gone:
        print(
            f"{len(gone)} requests have no stored body any more (retention): not replayed",
            file=sys.stderr,
        )
    left = [
        ref for ref in pending_refs(engine, record.run_id) if ref.original_request_id not in gone
    ]
    if not left:
        return "completed"
    # left with nothing refused or stopped: the gateway shed some (503): resumable
    status = end.status.replace("completed", "interrupted")
    if status == "capped":
        print(
            f"stopped at --max-cost ${record.max_cost_usd:g} ({end.refusal}); "
            f"{len(left)} requests left: --resume {record.run_id} --max-cost USD",
            file=sys.stderr,
        )
    else:
        print(f"interrupted: {len(left)} requests left: --resume {record.run_id}", file=sys.stderr)
    return status


def _report(engine: Engine, plan: _Plan) -> ComparisonReport:
    record = plan.run
    rows = run_results(engine, record.run_id)
    ids = [row["original_request_id"] for row in rows]
    ids += [row["replay_request_id"] for row in rows if row["replay_request_id"]]
    facts = RunFacts(
        run_id=record.run_id,
        selection=record.selection,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        replay_config=plan.config.source + (f" (route {record.route})" if record.route else ""),
    )
    return build_report(
        rows,
        facts=facts,
        responses=responses(engine, ids),
        provider_types=provider_types(engine, ids),
    )


__all__ = ["add_parser", "run"]
