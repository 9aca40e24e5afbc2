"""``switchyard serve --workers N``: N gateway processes on one port, one database.

The parent runs no gateway itself: it starts N ``switchyard serve --worker`` processes
that each listen on the same port (``SO_REUSEPORT``: the kernel spreads connections
among them) and share the trail, budgets (leases: ``budgets.leases``) and keys through
the one PostgreSQL database, and ``/metrics`` counts through a directory of snapshots
(``actors.metrics_peers``) that lives as long as the parent. SIGTERM / SIGINT stop them
all gracefully (each drains its requests); SIGHUP is passed on (each reloads its config,
as it would alone). A worker that dies is started again after ``RESTART_DELAY_S``; one
that keeps dying (``MAX_RESTARTS`` within ``RESTART_WINDOW_S``) stops them all.

SQLite is refused for N > 1: its one write lock would make the workers queue on each
other's trail batches, the thing the gateway's one-writer design exists to avoid.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from actors.metrics_peers import ENV as METRICS_DIR_ENV

RESTART_DELAY_S = 1.0
MAX_RESTARTS, RESTART_WINDOW_S = 5, 60.0
STOP_TIMEOUT_S = 60.0


class WorkersError(Exception):
    """A ``--workers`` setting that cannot run (one line for the user)."""


def check_workers(count: int, database_url: str) -> None:
    if count < 1 or count > 64:
        raise WorkersError(f"--workers must be between 1 and 64, not {count}")
    if count > 1 and not database_url.startswith("postgresql"):
        raise WorkersError(
            f"--workers {count} needs PostgreSQL (database.url or --db): SQLite lets one "
            "process write at a time, so the workers would queue on each other's writes"
        )


class Workers:
    def __init__(self, count: int, worker_argv: Sequence[str]) -> None:
        self._count = count
        self._argv = list(worker_argv)
        self._processes: list[subprocess.Popen[bytes]] = []
        self._stopping = False
        self._restarts: deque[float] = deque()
        self._metrics_dir = Path()

    def run(self) -> int:
        """Run the workers until they stop; their shared metrics directory with them."""
        with tempfile.TemporaryDirectory(prefix="switchyard-metrics-") as directory:
            self._metrics_dir = Path(directory)
            return self._run()

    def _run(self) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self._on_signal)
        self._processes = [self._start() for _ in range(self._count)]
        print(f"switchyard: {self._count} workers started", file=sys.stderr, flush=True)
        while True:
            if self._stopping:
                return self._wait_all()
            for index, process in enumerate(self._processes):
                if process.poll() is not None and not self._stopping:
                    if not self._may_restart():
                        print("switchyard: a worker keeps dying: stopping", file=sys.stderr)
                        self._stop_all(signal.SIGTERM)
                        self._wait_all()
                        return 1
                    self._forget_metrics(process.pid)  # its pid may be reused
                    time.sleep(RESTART_DELAY_S)
                    self._processes[index] = self._start()
            time.sleep(0.2)

    def _start(self) -> subprocess.Popen[bytes]:
        environment = {**os.environ, METRICS_DIR_ENV: str(self._metrics_dir)}
        return subprocess.Popen([sys.executable, "-m", "cli.main", *self._argv], env=environment)

    def _forget_metrics(self, pid: int) -> None:
        (self._metrics_dir / f"worker-{pid}.json").unlink(missing_ok=True)

    def _may_restart(self) -> bool:
        now = time.monotonic()
        while self._restarts and now - self._restarts[0] > RESTART_WINDOW_S:
            self._restarts.popleft()
        self._restarts.append(now)
        return len(self._restarts) <= MAX_RESTARTS

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            self._stop_all(signal.SIGHUP)
            return
        self._stopping = True
        self._stop_all(signal.SIGTERM)

    def _stop_all(self, signum: int) -> None:
        for process in self._processes:
            if process.poll() is None:
                process.send_signal(signum)

    def _wait_all(self) -> int:
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for process in self._processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return 0


__all__ = ["Workers", "WorkersError", "check_workers"]
