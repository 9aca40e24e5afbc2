"""What the audit logger reports about itself (``AuditLogger.statistics()``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditStatistics:
    """``events_received``: arrived in the inbox (taken or still queued there);
    ``pending``: received, not written yet.
    ``writer_lag_p99_ms``: from an event's ``at`` to its batch's commit.
    ``open_requests``: requests seen without their terminal event yet (a leak shows here).
    """

    events_received: int
    events_written: int
    batches: int
    pending: int
    last_batch_size: int
    writer_lag_p99_ms: float | None
    write_ms_p50: float | None
    open_requests: int
    spooled: int = 0
    database_ok: bool = True
    outage_s: float = 0.0
    failed_writes: int = 0
    rejected_events: int = 0


def percentile(samples: Iterable[float], fraction: float) -> float | None:
    ordered = sorted(samples)
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]
