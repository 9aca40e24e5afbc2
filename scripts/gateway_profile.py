"""Profile the gateway under load: where its CPU time goes, by part and by function.

Starts the fake upstream and the gateway as ``scripts/bench`` does (pinned to their own
cores, the SQLite trail on), runs one closed-loop cell of one workload, and samples the
gateway with py-spy meanwhile: on-CPU samples only, every thread. Prints the share of
samples by part of the code (the event loop, socket calls, HTTP, logging, the trail
writer thread, ...) and the top functions by own and by total time, and writes the
collapsed stacks (input for any flame graph tool) to ``bench/tmp/``.

    scripts/profile [--workload chat] [--clients 1] [--duration 10] [--rate 997]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import trio
from benchlib.load import WORKLOADS, CellLoad, Target, run_cell
from benchlib.processes import REPO, Usage, pinning_cores, start_fake, stop, usage
from benchlib.targets import start_switchyard

OUT = REPO / "bench" / "tmp"

# (part, a piece of the frame's file path), first match wins; the frame is the innermost
# frame of ours or of a library, so a call into C (os.write, orjson) counts for its caller.
PARTS: tuple[tuple[str, str], ...] = (
    ("socket reads and writes (os.read / os.write)", "http11/_direct_socket.py"),
    ("socket reads and writes (os.read / os.write)", "trio/_socket.py"),
    ("epoll: trio's I/O wait (the syscall and the wake-up)", "trio/_core/_io_epoll.py"),
    ("trio channels", "trio/_channel.py"),
    ("trio scheduler, cancel scopes, nurseries", "trio/"),
    ("outcome / sniffio (trio's helpers)", "outcome/"),
    ("structlog (the request's summary line)", "structlog/"),
    ("HTTP/1.1 server and client (ours)", "http11/"),
    ("provider translation, SSE", "providers/"),
    ("messages and trail events", "messages/"),
    ("routing", "routing/"),
    ("budgets and metering", "budgets/"),
    ("actors (ingress, router, worker, relay, audit)", "actors/"),
    ("config", "config/"),
)
WRITER = "trail writer thread (SQLAlchemy + sqlite3)"
ENTRY_FILES = ("<frozen runpy>", "cli/main.py", "actors/launch.py", "threading.py")
"""Frames every main-thread (or writer) stack starts with: left out of the total-time
table. (py-spy shows a running task's coroutine frames as a stack of their own, not
under trio's run loop, so run loop frames are not every stack's parent.)"""
OTHER = "other (stdlib, interpreter)"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/profile", description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="chat", choices=sorted(WORKLOADS))
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load")
    parser.add_argument("--rate", type=int, default=997, help="samples per second")
    parser.add_argument("--top", type=int, default=15, help="functions listed")
    parser.add_argument("--events", type=int, default=10, help="text deltas per fake stream")
    return parser.parse_args(argv)


@dataclass(frozen=True, slots=True)
class Stack:
    frames: tuple[str, ...]  # outermost first, "function (path:line)"
    samples: int


def read_collapsed(path: Path) -> list[Stack]:
    """py-spy's ``raw`` format: ``frame;frame;...;frame count`` per line."""
    stacks = []
    for line in path.read_text().splitlines():
        body, _, count = line.rpartition(" ")
        if body and count.isdigit():
            stacks.append(Stack(tuple(body.split(";")), int(count)))
    return stacks


def _path(frame: str) -> str:
    return frame.rpartition("(")[2].rstrip(")")


def _function(frame: str) -> str:
    """``name (path:line)`` without the line: one entry per function."""
    name, _, where = frame.rpartition(" (")
    return f"{name} ({where.rstrip(')').rsplit(':', 1)[0]})"


def _is_entry(function: str) -> bool:
    """py-spy names a file relative to ``sys.path`` where it can, else by its full path."""
    path = function.rpartition(" (")[2].rstrip(")")
    return any(path == entry or path.endswith("/" + entry) for entry in ENTRY_FILES)


def part_of(stack: Stack) -> str:
    if any("_thread_cache.py" in _path(frame) for frame in stack.frames):
        return WRITER
    for frame in reversed(stack.frames):
        path = _path(frame)
        for part, piece in PARTS:
            if piece in path:
                return part
    return OTHER


def shares(counts: Counter[str], total: int, top: int | None = None) -> list[tuple[str, float]]:
    return [(name, count / total) for name, count in counts.most_common(top)]


def by_part(stacks: Iterable[Stack]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for stack in stacks:
        counts[part_of(stack)] += stack.samples
    return counts


def by_function(stacks: Iterable[Stack], *, own: bool) -> Counter[str]:
    """Samples per function: where it was the innermost frame (own), or anywhere (total)."""
    counts: Counter[str] = Counter()
    for stack in stacks:
        frames = [_function(f) for f in stack.frames if not f.startswith(("thread ", "process "))]
        if not own:
            frames = [name for name in frames if not _is_entry(name)]
        for name in frames[-1:] if own else set(frames):
            counts[name] += stack.samples
    return counts


def markdown(title: str, rows: list[tuple[str, float]], per_request_us: float) -> str:
    lines = [f"| {title} | share | µs/request |", "| --- | --- | --- |"]
    lines += [f"| {name} | {share:.1%} | {share * per_request_us:.0f} |" for name, share in rows]
    return "\n".join(lines)


def _load(target: Target, args: argparse.Namespace, pid: int, duration_s: float) -> CellLoad[Usage]:
    return trio.run(
        partial(
            run_cell,
            target,
            WORKLOADS[args.workload],
            clients=args.clients,
            duration_s=duration_s,
            max_requests=10**7,
            request_timeout_s=30.0,
            probe=partial(usage, pid),
        )
    )


def _sampler(args: argparse.Namespace, pid: int, output: Path) -> subprocess.Popen[bytes]:
    py_spy = Path(sys.executable).parent / "py-spy"
    if not py_spy.exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "py-spy"], check=True)
    command = [str(py_spy), "record", "--pid", str(pid), "--rate", str(args.rate)]
    command += ["--format", "raw", "--threads", "--nonblocking", "--output", str(output)]
    command += ["--duration", str(int(args.duration) + 1)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def profile(args: argparse.Namespace, workdir: Path) -> int:
    cores = pinning_cores() or (None, None)
    if cores[1] is not None:
        os.sched_setaffinity(0, {cores[1]})
    OUT.mkdir(parents=True, exist_ok=True)
    collapsed = OUT / f"profile-{args.workload}-c{args.clients}.txt"
    collapsed.unlink(missing_ok=True)
    with contextlib.ExitStack() as stack:
        fake = start_fake(workdir, events=args.events, core=cores[1])
        stack.callback(stop, fake.process)
        gateway, target = start_switchyard(workdir, fake, core=cores[0])
        stack.callback(stop, gateway.process)
        _load(target, args, gateway.pid, 1.0)  # warm up: connections, caches
        sampler = _sampler(args, gateway.pid, collapsed)
        stack.callback(stop, sampler)
        load = _load(target, args, gateway.pid, args.duration)
        _, problem = sampler.communicate(timeout=args.duration + 30)
    if sampler.returncode != 0 or not collapsed.exists():
        print(f"py-spy failed: {problem.decode(errors='replace')[-2000:]}", file=sys.stderr)
        return 2
    requests = len(load.latencies_s)
    cpu_s = load.end_probe.cpu_s - load.start_probe.cpu_s
    per_request_us = cpu_s / requests * 1e6 if requests else 0.0
    report(read_collapsed(collapsed), args, requests / load.wall_s, per_request_us, collapsed)
    return 1 if load.errors else 0


def report(
    stacks: list[Stack],
    args: argparse.Namespace,
    requests_per_s: float,
    per_request_us: float,
    collapsed: Path,
) -> None:
    total = sum(stack.samples for stack in stacks) or 1
    print(
        f"\n{args.workload}, {args.clients} client(s): {requests_per_s:.0f} req/s, gateway CPU "
        f"{per_request_us:.0f} µs/request (all threads); {total} on-CPU samples. "
        "µs/request = share of samples times CPU per request.\n"
    )
    parts = shares(by_part(stacks), total)
    print(markdown("part of the code (innermost frame)", parts, per_request_us))
    print()
    own = shares(by_function(stacks, own=True), total, args.top)
    print(markdown("function, own time", own, per_request_us))
    print()
    inclusive = shares(by_function(stacks, own=False), total, args.top)
    print(markdown("function, total time (with callees)", inclusive, per_request_us))
    print(f"\ncollapsed stacks: {collapsed}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="switchyard-profile-"))
    try:
        return profile(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
