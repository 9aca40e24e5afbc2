"""The processes under test: start them pinned, wait until they listen, sample /proc.

Every server writes its output to a file (a pipe nobody drains would stall it), and
readiness is read from that file: ``READY <port>`` from the fake, the JSON line
``gateway listening`` from the gateway, or a TCP connect for the peers. CPU and RSS
cover a process and all its descendants (a peer may fork workers).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parent.parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
READY_PORT = re.compile(rb"READY (\d+)")


class StartFailed(RuntimeError):
    """A server did not come up; the message ends with the tail of its log."""


def pinning_cores() -> tuple[int, int] | None:
    """(server core, fake/load core) when taskset exists and two CPUs are ours."""
    if shutil.which("taskset") is None or len(os.sched_getaffinity(0)) < 2:
        return None
    first, second = sorted(os.sched_getaffinity(0))[:2]
    return first, second


def pinned(command: Sequence[str], core: int | None) -> list[str]:
    return [*command] if core is None else ["taskset", "-c", str(core), *command]


@dataclass(frozen=True, slots=True, kw_only=True)
class Server:
    """A started server: its process, port and log file."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid


def spawn(
    command: Sequence[str], log: Path, *, cwd: Path = REPO, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``command`` in a session of its own (so ``stop`` reaches its children too)."""
    with log.open("wb") as sink:
        return subprocess.Popen(
            list(command),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=sink,
            env=env,
            start_new_session=True,
        )


def wait_for(
    process: subprocess.Popen[bytes],
    log: Path,
    ready: Callable[[bytes], int | None],
    *,
    timeout_s: float,
) -> int:
    """Poll ``log`` until ``ready`` finds the port in it; fail if the process exits."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        port = ready(log.read_bytes())
        if port is not None:
            return port
        if process.poll() is not None:
            raise StartFailed(f"exited with {process.returncode}; log: {tail(log)}")
        time.sleep(0.05)
    raise StartFailed(f"not ready after {timeout_s:.0f} s; log: {tail(log)}")


def tail(log: Path, size: int = 1500) -> str:
    return log.read_bytes()[-size:].decode(errors="replace")


def fake_ready(text: bytes) -> int | None:
    found = READY_PORT.search(text)
    return int(found.group(1)) if found else None


def gateway_ready(text: bytes) -> int | None:
    for line in text.splitlines():
        if b"gateway listening" in line:
            url = str(orjson.loads(line)["url"])
            return int(url.rsplit(":", 1)[1].split("/")[0])
    return None


def port_ready(port: int) -> Callable[[bytes], int | None]:
    """Ready once something accepts TCP connections on ``port``."""

    def check(_: bytes) -> int | None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return port
        except OSError:
            return None

    return check


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_fake(workdir: Path, *, events: int, core: int | None) -> Server:
    log = workdir / "fake.log"
    command = [sys.executable, "-m", "fakes", "--port", "0", "--events", str(events)]
    process = spawn(pinned(command, core), log)
    return Server(name="fake", process=process, port=_wait(process, log, fake_ready, 30), log=log)


def start_gateway(
    workdir: Path,
    config: Path,
    *,
    core: int | None,
    database_url: str | None = None,
    workers: int = 1,
    name: str = "switchyard",
    env: dict[str, str] | None = None,
) -> Server:
    log = workdir / "gateway.log"
    db = database_url or f"sqlite:///{workdir / 'trail.db'}"
    command = [
        sys.executable,
        "-m",
        "cli.main",
        "--log-json",
        "serve",
        "--config",
        str(config),
        "--port",
        "0",
        "--db",
        db,
        *(["--workers", str(workers)] if workers > 1 else []),
    ]
    process = spawn(pinned(command, core), log, env=env)
    port = _wait(process, log, gateway_ready, 60)
    return Server(name=name, process=process, port=port, log=log)


def _wait(
    process: subprocess.Popen[bytes],
    log: Path,
    ready: Callable[[bytes], int | None],
    timeout_s: float,
) -> int:
    try:
        return wait_for(process, log, ready, timeout_s=timeout_s)
    except BaseException:
        stop(process)
        raise


def stop(process: subprocess.Popen[bytes], *, grace_s: float = 10.0) -> int | None:
    """SIGINT, then SIGKILL after ``grace_s``; only this process and its own session."""
    if process.poll() is None:
        _signal_group(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
    return process.returncode


def _signal_group(pid: int, signum: signal.Signals) -> None:
    """Signal the session ``spawn`` started (its id is the child's pid)."""
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:
        return


@dataclass(frozen=True, slots=True, kw_only=True)
class Usage:
    """CPU seconds (user + system) and resident bytes of a process tree; and the CPU
    seconds of the top process's main thread alone (the rest is helper threads, such
    as the gateway's trail writer, and child processes)."""

    cpu_s: float
    main_thread_cpu_s: float
    rss_bytes: int


def usage(pid: int) -> Usage:
    """utime + stime from /proc/<pid>/stat and VmRSS from /proc/<pid>/status, summed."""
    cpu_ticks = 0
    rss_bytes = 0
    for member in _tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            status = Path(f"/proc/{member}/status").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        cpu_ticks += _cpu_ticks(fields)
        rss_bytes += _vm_rss_bytes(status)
    try:
        main = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        main = []
    return Usage(
        cpu_s=cpu_ticks / CLOCK_TICKS,
        main_thread_cpu_s=_cpu_ticks(main) / CLOCK_TICKS if main else 0.0,
        rss_bytes=rss_bytes,
    )


def machine_busy_s() -> float:
    """CPU seconds all processes used (all cores), plus time stolen by the hypervisor,
    from /proc/stat; interrupt time is left out (loopback traffic lands there)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, _irq, _softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + steal) / CLOCK_TICKS


def _cpu_ticks(stat_fields: list[str]) -> int:
    """utime + stime, from the fields after the command name in a stat line."""
    return int(stat_fields[11]) + int(stat_fields[12])


def _vm_rss_bytes(status: str) -> int:
    start = status.find("VmRSS:")
    if start < 0:  # a zombie has no memory lines
        return 0
    return int(status[start + 6 :].split(maxsplit=1)[0]) * 1024


def _tree(pid: int) -> list[int]:
    found = [pid]
    index = 0
    while index < len(found):
        member = found[index]
        index += 1
        try:
            tasks = os.listdir(f"/proc/{member}/task")
        except FileNotFoundError:
            continue
        for task in tasks:
            try:
                children = Path(f"/proc/{member}/task/{task}/children").read_text().split()
            except FileNotFoundError:
                continue
            found.extend(int(child) for child in children)
    return found
