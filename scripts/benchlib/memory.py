"""``--memory N``: N requests through the gateway in blocks of 10k, RSS after each block.

The blocks cycle through the chosen workloads at 16 clients; a block that gets no
answer at all ends the check early (the gateway is gone or wedged).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import partial

import trio

from benchlib.load import WORKLOADS, Target, run_cell
from benchlib.processes import Server, usage

BLOCK = 10_000
CLIENTS = 16
BLOCK_LIMIT_S = 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class MemoryCheck:
    requests: int
    errors: int
    rss_start_mb: float
    rss_at_10k_mb: float | None
    rss_final_mb: float | None
    clients: int
    samples: tuple[MemorySample, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class MemorySample:
    requests: int
    rss_mb: float
    workload: str
    requests_per_s: float


def run_memory(
    gateway: Server,
    target: Target,
    *,
    requests: int,
    workloads: list[str],
    timeout_s: float,
) -> MemoryCheck:
    """RSS of the gateway at the start and after every block; printed and returned."""
    start_mb = usage(gateway.pid).rss_bytes / 2**20
    samples: list[MemorySample] = []
    answered = errors = 0
    block = 0
    while answered < requests:
        workload = WORKLOADS[workloads[block % len(workloads)]]
        load = trio.run(
            partial(
                run_cell,
                target,
                workload,
                clients=CLIENTS,
                duration_s=BLOCK_LIMIT_S,
                max_requests=min(BLOCK, requests - answered),
                request_timeout_s=timeout_s,
                probe=partial(usage, gateway.pid),
            )
        )
        block += 1
        answered += load.answered
        errors += load.errors
        sample = MemorySample(
            requests=answered,
            rss_mb=round(load.end_probe.rss_bytes / 2**20, 1),
            workload=workload.name,
            requests_per_s=round(len(load.latencies_s) / load.wall_s, 1),
        )
        samples.append(sample)
        print(
            f"  {answered:>8} requests  RSS {sample.rss_mb:7.1f} MB  ({workload.name}, "
            f"{sample.requests_per_s} req/s, {errors} errors)",
            file=sys.stderr,
            flush=True,
        )
        if load.answered == 0:
            break
    at_10k = next((s.rss_mb for s in samples if s.requests >= BLOCK), None)
    final = samples[-1].rss_mb if samples else None
    print(
        f"\nRSS: {start_mb:.1f} MB at start, {at_10k} MB after ~{BLOCK} requests, "
        f"{final} MB after {answered} requests ({errors} errors)"
    )
    return MemoryCheck(
        requests=answered,
        errors=errors,
        rss_start_mb=round(start_mb, 1),
        rss_at_10k_mb=at_10k,
        rss_final_mb=final,
        clients=CLIENTS,
        samples=tuple(samples),
    )
