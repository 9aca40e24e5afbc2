"""From cells to figures: per-cell statistics, the per-row summary and the table.

Overhead compares a target with the direct cell of the same workload, clients and
round, percentile by percentile (p50 through the gateway minus p50 straight to the
fake, and so on); each summary figure is the median across rounds.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from benchlib.load import CellLoad
from benchlib.processes import Usage
from benchlib.trail import WriterLag

SATURATED_SHARE = 0.9
"""A core busier than this caps the figures measured against it."""
NOISY_SHARE = 0.1
"""Other processes using more than this share of a core make a cell's figures suspect."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Probe:
    """Counters read at each edge of a cell's window."""

    server: Usage
    fake: Usage
    machine_busy_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class CellStats:
    round: int
    workload: str
    clients: int
    target: str
    requests: int
    errors: int
    first_error: str | None
    wall_s: float
    requests_per_s: float
    latency_ms: dict[str, float]
    ttfb_ms: dict[str, float]
    server_cpu_us_per_request: float | None
    server_main_thread_cpu_us_per_request: float | None
    server_core_share: float
    other_core_share: float
    server_rss_mb: float
    fake_cpu_us_per_request: float | None
    fake_core_share: float
    loadgen_cpu_us_per_request: float | None
    loadgen_core_share: float
    timed_out: bool
    writer_lag: WriterLag | None = None
    """Switchyard only: its trail writer's backlog and lag once the load stopped."""


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest rank of an ascending sequence; NaN when empty."""
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _spread_ms(samples: Iterable[float]) -> dict[str, float]:
    ordered = sorted(samples)
    points = {"p50": 0.5, "p90": 0.9, "p99": 0.99, "max": 1.0}
    return {name: round(percentile(ordered, q) * 1000, 4) for name, q in points.items()}


def _per_request_us(seconds: float, requests: int) -> float | None:
    return round(seconds / requests * 1e6, 1) if requests else None


def cell_stats(
    load: CellLoad[Probe],
    *,
    round_index: int,
    workload: str,
    clients: int,
    target: str,
    writer_lag: WriterLag | None = None,
) -> CellStats:
    start, end = load.start_probe, load.end_probe
    requests = len(load.latencies_s)
    server_cpu = end.server.cpu_s - start.server.cpu_s
    fake_cpu = end.fake.cpu_s - start.fake.cpu_s
    ours = load.loadgen_cpu_s + fake_cpu + (server_cpu if target != "direct" else 0.0)
    others = end.machine_busy_s - start.machine_busy_s - ours
    return CellStats(
        round=round_index,
        workload=workload,
        clients=clients,
        target=target,
        requests=requests,
        errors=load.errors,
        first_error=load.first_error,
        wall_s=round(load.wall_s, 3),
        requests_per_s=round(requests / load.wall_s, 1),
        latency_ms=_spread_ms(load.latencies_s),
        ttfb_ms=_spread_ms(load.ttfbs_s),
        server_cpu_us_per_request=_per_request_us(server_cpu, requests),
        server_main_thread_cpu_us_per_request=_per_request_us(
            end.server.main_thread_cpu_s - start.server.main_thread_cpu_s, requests
        ),
        server_core_share=round(server_cpu / load.wall_s, 3),
        other_core_share=round(max(0.0, others) / load.wall_s, 3),
        server_rss_mb=round(end.server.rss_bytes / 2**20, 1),
        fake_cpu_us_per_request=_per_request_us(fake_cpu, requests),
        fake_core_share=round(fake_cpu / load.wall_s, 3),
        loadgen_cpu_us_per_request=_per_request_us(load.loadgen_cpu_s, requests),
        loadgen_core_share=round(load.loadgen_cpu_s / load.wall_s, 3),
        timed_out=load.timed_out,
        writer_lag=writer_lag,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One target at one workload and concurrency: medians across rounds."""

    workload: str
    clients: int
    target: str
    rounds: int
    overhead_ms: dict[str, float]
    ttfb_overhead_p50_ms: float
    latency_p50_ms: float
    direct_latency_p50_ms: float
    requests_per_s: float
    direct_requests_per_s: float
    cpu_us_per_request: float | None
    main_thread_cpu_us_per_request: float | None
    rss_mb: float
    errors: int
    load_core_share: float
    server_core_share: float
    other_core_share: float
    writer_lag_p99_ms: float | None
    """The worst round's trail writer lag p99 (None: not Switchyard, or not read)."""
    trail_backlog_max: int | None
    """The most trail events left uncommitted when a round's load stopped."""


def _median(values: Iterable[float | None]) -> float:
    present = [value for value in values if value is not None and not math.isnan(value)]
    return round(statistics.median(present), 4) if present else math.nan


def summarise(cells: Sequence[CellStats]) -> list[Row]:
    """A row per (workload, clients, target other than direct), in the order seen."""
    direct = {(c.round, c.workload, c.clients): c for c in cells if c.target == "direct"}
    groups: dict[tuple[str, int, str], list[tuple[CellStats, CellStats]]] = {}
    for cell in cells:
        base = direct.get((cell.round, cell.workload, cell.clients))
        if cell.target != "direct" and base is not None:
            groups.setdefault((cell.workload, cell.clients, cell.target), []).append((cell, base))
    return [_row(key, pairs) for key, pairs in groups.items()]


def _row(key: tuple[str, int, str], pairs: list[tuple[CellStats, CellStats]]) -> Row:
    workload, clients, target = key

    def overhead(kind: str, point: str) -> float:
        return _median(
            getattr(cell, kind)[point] - getattr(base, kind)[point] for cell, base in pairs
        )

    return Row(
        workload=workload,
        clients=clients,
        target=target,
        rounds=len(pairs),
        overhead_ms={point: overhead("latency_ms", point) for point in ("p50", "p90", "p99")},
        ttfb_overhead_p50_ms=overhead("ttfb_ms", "p50"),
        latency_p50_ms=_median(cell.latency_ms["p50"] for cell, _ in pairs),
        direct_latency_p50_ms=_median(base.latency_ms["p50"] for _, base in pairs),
        requests_per_s=_median(cell.requests_per_s for cell, _ in pairs),
        direct_requests_per_s=_median(base.requests_per_s for _, base in pairs),
        cpu_us_per_request=_median(cell.server_cpu_us_per_request for cell, _ in pairs),
        main_thread_cpu_us_per_request=_median(
            cell.server_main_thread_cpu_us_per_request for cell, _ in pairs
        ),
        rss_mb=pairs[-1][0].server_rss_mb,
        errors=sum(cell.errors + base.errors for cell, base in pairs),
        load_core_share=_median(c.loadgen_core_share + c.fake_core_share for c, _ in pairs),
        server_core_share=_median(cell.server_core_share for cell, _ in pairs),
        other_core_share=_median(
            max(cell.other_core_share, base.other_core_share) for cell, base in pairs
        ),
        writer_lag_p99_ms=_worst(
            cell.writer_lag.lag_p99_ms for cell, _ in pairs if cell.writer_lag is not None
        ),
        trail_backlog_max=max(
            (cell.writer_lag.pending_at_end for cell, _ in pairs if cell.writer_lag is not None),
            default=None,
        ),
    )


def _worst(values: Iterable[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return max(present) if present else None


HEADER = (
    "workload",
    "clients",
    "target",
    "ovh p50",
    "ovh p90",
    "ovh p99",
    "TTFB ovh p50",
    "queueing ovh",
    "req/s",
    "direct req/s",
    "CPU µs/req",
    "main thr µs/req",
    "RSS MB",
    "trail lag p99",
    "errors",
    "core0 %",
    "core1 %",
    "other %",
)


def queueing_overhead_ms(row: Row) -> float:
    """What a saturated server explains: by Little's law a closed loop of ``clients`` at
    X req/s sees a mean latency of clients / X, so the overhead that queueing alone accounts
    for is clients / X(target) - clients / X(direct)."""
    if row.requests_per_s <= 0 or row.direct_requests_per_s <= 0:
        return math.nan
    return 1000 * row.clients * (1 / row.requests_per_s - 1 / row.direct_requests_per_s)


def _ms(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.2f} ms"


def _us(value: float | None) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.0f}"


def table(rows: Sequence[Row], streaming: set[str]) -> str:
    """A Markdown table; ``!`` marks a load core busier than SATURATED_SHARE."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + " --- |" * len(HEADER)]
    for row in rows:
        load = f"{row.load_core_share * 100:.0f}" + (
            "!" if row.load_core_share >= SATURATED_SHARE else ""
        )
        cells = (
            row.workload,
            str(row.clients),
            row.target,
            *(_ms(row.overhead_ms[p]) for p in ("p50", "p90", "p99")),
            _ms(row.ttfb_overhead_p50_ms) if row.workload in streaming else "—",
            _ms(queueing_overhead_ms(row)),
            f"{row.requests_per_s:.0f}",
            f"{row.direct_requests_per_s:.0f}",
            _us(row.cpu_us_per_request),
            _us(row.main_thread_cpu_us_per_request),
            f"{row.rss_mb:.0f}",
            "—" if row.writer_lag_p99_ms is None else f"{row.writer_lag_p99_ms:.0f} ms",
            str(row.errors),
            f"{row.server_core_share * 100:.0f}",
            load,
            f"{row.other_core_share * 100:.0f}"
            + ("!" if row.other_core_share >= NOISY_SHARE else ""),
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def core1_table(cells: Sequence[CellStats]) -> str:
    """What the fake and the load generator cost per request in the direct cells."""
    groups: dict[tuple[str, int], list[CellStats]] = {}
    for cell in cells:
        if cell.target == "direct":
            groups.setdefault((cell.workload, cell.clients), []).append(cell)
    lines = [
        "| workload | clients | direct req/s | fake CPU µs/req | load gen CPU µs/req | core1 % |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for (workload, clients), group in groups.items():
        share = _median(c.loadgen_core_share + c.fake_core_share for c in group)
        lines.append(
            f"| {workload} | {clients} | {_median(c.requests_per_s for c in group):.0f} | "
            f"{_median(c.fake_cpu_us_per_request for c in group):.0f} | "
            f"{_median(c.loadgen_cpu_us_per_request for c in group):.0f} | {share * 100:.0f} |"
        )
    return "\n".join(lines)
