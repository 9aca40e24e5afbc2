"""Benchmark Switchyard against the fast fake upstream, and optionally against its peers.

Starts the canned fake (``python -m fakes``) and the gateway (SQLite trail on, in a
temporary directory) on loopback, each pinned to its own core with ``taskset`` when it
exists: the gateway (and any peer) on the first core, the fake on the second, where
this process, the load generator, runs too. Then, round after round, for each workload
and concurrency it runs one closed-loop cell straight to the fake and one through each
target, back to back, and reports medians across rounds of the overhead (target minus
direct, same round, per percentile), req/s, server CPU per request and RSS.

    scripts/bench [--rounds 3] [--duration 4] [--clients 1,16,64]
                  [--workloads chat,chat-stream,responses-stream]
                  [--peer litellm|portkey] [--metrics-variant] [--json bench/results/latest.json]
    scripts/bench --memory 100000      # RSS after 10k, 20k, ... N requests instead
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from functools import partial
from pathlib import Path

import orjson
import trio
from benchlib import peers
from benchlib.load import WORKLOADS, Target, run_cell
from benchlib.memory import run_memory
from benchlib.processes import (
    REPO,
    Server,
    StartFailed,
    machine_busy_s,
    pinning_cores,
    start_fake,
    stop,
    tail,
    usage,
)
from benchlib.report import (
    NOISY_SHARE,
    SATURATED_SHARE,
    CellStats,
    Probe,
    cell_stats,
    core1_table,
    summarise,
    table,
)
from benchlib.targets import direct_target, start_switchyard
from benchlib.trail import TrailCheck, check_trail, describe, read_writer_lag

DEFAULT_JSON = REPO / "bench" / "results" / "latest.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per cell")
    parser.add_argument("--max-requests", type=int, default=200_000, help="per cell")
    parser.add_argument("--clients", default="1,16,64", help="comma-separated concurrencies")
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated")
    parser.add_argument("--events", type=int, default=10, help="text deltas per fake stream")
    parser.add_argument("--request-timeout", type=float, default=30.0, help="seconds")
    parser.add_argument("--peer", action="append", choices=peers.PEERS, default=[])
    parser.add_argument("--memory", type=int, metavar="N", help="memory check: N requests")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write JSON")
    parser.add_argument("--no-pin", action="store_true", help="do not use taskset")
    parser.add_argument("--db", default=None, help="the gateway's database (default: SQLite)")
    parser.add_argument("--workers", type=int, default=1, help="serve --workers (needs --db)")
    parser.add_argument(
        "--metrics-variant",
        action="store_true",
        help="also run switchyard-nometrics (SWITCHYARD_METRICS=off; SQLite, one worker)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    args.clients = [int(part) for part in args.clients.split(",")]
    args.workloads = args.workloads.split(",")
    unknown = set(args.workloads) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workloads {sorted(unknown)} (known: {', '.join(WORKLOADS)})")
    return args


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def warn_if_busy(seconds: float = 2.0) -> None:
    """Say so when other processes keep the machine busy before the run starts."""
    before = machine_busy_s()
    time.sleep(seconds)
    share = (machine_busy_s() - before) / seconds
    if share >= NOISY_SHARE:
        say(
            f"WARNING: before starting, other processes used {share:.0%} of a core; the "
            "figures will be disturbed (see the other % column)"
        )


def pin_self(args: argparse.Namespace) -> tuple[int | None, int | None]:
    """(server core, fake core); this process moves to the fake's core."""
    cores = None if args.no_pin else pinning_cores()
    if cores is None:
        say("pinning: off (no taskset or fewer than 2 CPUs); figures share cores freely")
        return None, None
    os.sched_setaffinity(0, {cores[1]})
    say(
        f"pinning: gateway and peers on core {cores[0]}; the fake upstream AND this load "
        f"generator share core {cores[1]} (watch the core1 % column)"
    )
    return cores


def start_peers(
    args: argparse.Namespace,
    workdir: Path,
    fake: Server,
    core: int | None,
    stack: contextlib.ExitStack,
) -> tuple[list[tuple[Server, Target]], dict[str, str]]:
    started: list[tuple[Server, Target]] = []
    unavailable: dict[str, str] = {}
    for name in dict.fromkeys(args.peer):
        say(f"peer {name}: installing under bench/tmp/ if needed, then starting")
        try:
            home = peers.install(name)
            server, target = peers.start(name, home, workdir, fake, core=core)
        except (peers.PeerUnavailable, StartFailed, OSError) as problem:
            unavailable[name] = str(problem)
            say(f"peer {name}: UNAVAILABLE: {problem}")
            continue
        stack.callback(stop, server.process)
        started.append((server, target))
    return started, unavailable


class TargetDied(RuntimeError):
    """A server under test exited in the middle of the run."""


def prober(server: Server, fake: Server) -> Callable[[], Probe]:
    return lambda: Probe(
        server=usage(server.pid), fake=usage(fake.pid), machine_busy_s=machine_busy_s()
    )


def run_rounds(
    args: argparse.Namespace, fake: Server, targets: list[tuple[Server, Target]]
) -> tuple[list[CellStats], int]:
    """Every cell of every round; and the complete answers Switchyard gave."""
    cells: list[CellStats] = []
    through_gateway = 0
    everyone = [(fake, direct_target(fake)), *targets]
    for round_index in range(1, args.rounds + 1):
        for workload in args.workloads:
            for clients in args.clients:
                for server, target in everyone:
                    if server.process.poll() is not None:
                        raise TargetDied(
                            f"{server.name} exited with {server.process.returncode}; "
                            f"the end of {server.log}:\n{tail(server.log, 3000)}"
                        )
                    load = trio.run(
                        partial(
                            run_cell,
                            target,
                            WORKLOADS[workload],
                            clients=clients,
                            duration_s=args.duration,
                            max_requests=args.max_requests,
                            request_timeout_s=args.request_timeout,
                            probe=prober(server, fake),
                        )
                    )
                    writer_lag = None
                    if target.name.startswith("switchyard"):
                        writer_lag = read_writer_lag(server.port)
                    if target.name == "switchyard":
                        through_gateway += load.answered
                    cell = cell_stats(
                        load,
                        round_index=round_index,
                        workload=workload,
                        clients=clients,
                        target=target.name,
                        writer_lag=writer_lag,
                    )
                    cells.append(cell)
                    say(_progress(cell))
    return cells, through_gateway


def _progress(cell: CellStats) -> str:
    errors = f" ERRORS {cell.errors}: {cell.first_error}" if cell.errors else ""
    core1 = cell.loadgen_core_share + cell.fake_core_share
    if cell.other_core_share >= NOISY_SHARE:
        errors += f"  [other processes: {cell.other_core_share:.0%} of a core]"
    if cell.target != "direct" and core1 >= SATURATED_SHARE:
        errors += (
            f"  [core 1 saturated: load gen {cell.loadgen_core_share:.0%}, "
            f"fake {cell.fake_core_share:.0%}]"
        )
    if cell.writer_lag is not None:
        errors += (
            f"  trail lag p99 {cell.writer_lag.lag_p99_ms} ms, "
            f"backlog {cell.writer_lag.pending_at_end}"
        )
    return (
        f"  round {cell.round} {cell.workload:16} c={cell.clients:<3} {cell.target:10} "
        f"{cell.requests_per_s:8.0f} req/s  p50 {cell.latency_ms['p50']:8.2f} ms  "
        f"p99 {cell.latency_ms['p99']:8.2f} ms  cpu {cell.server_cpu_us_per_request} µs/req  "
        f"rss {cell.server_rss_mb} MB{errors}"
    )


def write_json(path: Path, document: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2, default=str) + b"\n")
    say(f"wrote {path}")


def meta(
    args: argparse.Namespace, cores: tuple[int | None, int | None], started: float
) -> dict[str, object]:
    return {
        "command": " ".join(["scripts/bench", *sys.argv[1:]]),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "elapsed_s": round(time.time() - started, 1),
        "cpus": os.cpu_count(),
        "gateway_core": cores[0],
        "fake_and_loadgen_core": cores[1],
        "rounds": args.rounds,
        "duration_s": args.duration,
        "clients": args.clients,
        "workloads": args.workloads,
        "events_per_stream": args.events,
        "git_commit": _git("rev-parse", "HEAD"),
        "git_modified": (_git("status", "--porcelain", "--untracked-files=no") or "").splitlines(),
    }


def _git(*arguments: str) -> str | None:
    """Read-only git output (the commit and which tracked files differ from it)."""
    try:
        done = subprocess.run(
            ["git", *arguments], cwd=REPO, capture_output=True, text=True, check=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.rstrip()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.time()
    warn_if_busy()
    cores = pin_self(args)
    workdir = Path(tempfile.mkdtemp(prefix="switchyard-bench-"))
    say(f"work directory: {workdir}")
    with contextlib.ExitStack() as stack:
        fake = start_fake(workdir, events=args.events, core=cores[1])
        stack.callback(stop, fake.process)
        gateway, gateway_target = start_switchyard(
            workdir,
            fake,
            core=None if args.workers > 1 else cores[0],
            database_url=args.db,
            workers=args.workers,
        )
        stop_gateway = partial(stop, gateway.process)  # twice is harmless
        stack.callback(stop_gateway)
        if args.memory:
            memory = run_memory(
                gateway,
                gateway_target,
                requests=args.memory,
                workloads=args.workloads,
                timeout_s=args.request_timeout,
            )
            stop_gateway()
            trail = check_trail(workdir / "trail.db", gateway.log, answered=memory.requests)
            print(describe(trail))
            results: dict[str, object] = {"memory": asdict(memory)}
            failed = memory.errors > 0
        else:
            others, unavailable = start_peers(args, workdir, fake, cores[0], stack)
            if args.metrics_variant:
                nometrics = workdir / "nometrics"
                variant = start_switchyard(nometrics, fake, core=cores[0], metrics=False)
                stack.callback(stop, variant[0].process)
                others.insert(0, variant)
            cells, answered = run_rounds(args, fake, [(gateway, gateway_target), *others])
            stop_gateway()
            trail = check_trail(workdir / "trail.db", gateway.log, answered=answered)
            print_report(cells, trail, unavailable)
            results = {
                "rows": [asdict(row) for row in summarise(cells)],
                "unavailable_peers": unavailable,
                "cells": [asdict(cell) for cell in cells],
            }
            failed = any(cell.errors for cell in cells)
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    write_json(args.json, {"meta": meta(args, cores, started), "trail": asdict(trail), **results})
    return 1 if failed or trail.missing else 0


def print_report(cells: list[CellStats], trail: TrailCheck, unavailable: dict[str, str]) -> None:
    streaming = {name for name, workload in WORKLOADS.items() if workload.streaming}
    print(
        "\nOverhead = target minus direct to the fake, same workload, clients and round, "
        "per percentile; medians across rounds. TTFB = first body byte. Queueing ovh = "
        "clients/req/s minus clients/direct req/s: the mean overhead a saturated core "
        "explains (Little's law); an overhead near it is queueing, not lost time. "
        "CPU = the target's "
        "process tree; main thr = its main thread alone (for Switchyard the rest is the trail "
        "writer thread). core0 % = the target's CPU; core1 % = fake + load generator "
        "(! = saturated); other % = everything else running on the machine meanwhile. "
        "Trail lag p99 = Switchyard's audit logger, event time to commit, over the last "
        "8,192 events once the cell's backlog was written (the worst round).\n"
    )
    rows = summarise(cells)
    print(table(rows, streaming))
    print(
        "\nCore 1 in the direct cells: what the fake and the load generator cost per request "
        "(a closed loop with no think time keeps their shared core ~100 % busy here, so the "
        "direct req/s is a floor for what the fake can do):\n"
    )
    print(core1_table(cells))
    saturated = [row for row in rows if row.load_core_share >= SATURATED_SHARE]
    if saturated:
        print(
            f"\nWARNING: core 1 (fake + load generator) was >= {SATURATED_SHARE:.0%} busy in "
            f"{len(saturated)} row(s); their req/s and overheads may be capped by the client "
            "side, not by the target."
        )
    noisy = [row for row in rows if row.other_core_share >= NOISY_SHARE]
    if noisy:
        print(
            f"\nWARNING: other processes on this machine used >= {NOISY_SHARE:.0%} of a core "
            f"during {len(noisy)} row(s) (column other %): those figures are disturbed; "
            "rerun on a quiet machine."
        )
    print("\n" + describe(trail))
    for name, reason in unavailable.items():
        print(f"peer {name} could not run: {reason}")
    sys.stdout.flush()


def run() -> int:
    try:
        return main()
    except (TargetDied, StartFailed) as problem:
        print(f"scripts/bench: {problem}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(run())
