"""``serve --workers N``: whichever worker answers ``/metrics`` answers for all of them.

A scrape of the shared port reaches one worker (the kernel picks), so each worker writes
a snapshot of its counts to a directory its parent made (``SWITCHYARD_WORKER_METRICS_DIR``)
every ``SHARE_S``, and the worker that answers a scrape adds the other workers' latest
snapshots to its own counts: Prometheus sees the sums, at most ``SHARE_S`` old for the
others, instead of N interleaved counters. A snapshot whose worker is gone (its pid no
longer runs) is left out; a restarted worker starts from zero, which Prometheus reads
as a counter reset, as it would for a single process. A snapshot that does not read as
one (a torn or foreign file) is skipped.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import structlog
import trio

from actors.metrics import Histogram, RequestMetrics

ENV = "SWITCHYARD_WORKER_METRICS_DIR"
SHARE_S = 1.0
COUNTERS = ("requests", "attempts", "retries", "failovers", "tokens", "cost_usd", "cache_lookups")
HISTOGRAMS = ("duration", "first_byte", "overhead")
GAUGES = ("in_flight", "trail_backlog", "events_written")

log = structlog.get_logger("switchyard.metrics")

Labels = tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerCounts:
    """Another worker's counts, as its last snapshot had them."""

    counters: Mapping[str, Mapping[Labels, float]]
    histograms: Mapping[str, Mapping[Labels, list[float]]]
    gauges: Mapping[str, float]


class MetricsPeers:
    def __init__(
        self, directory: Path, metrics: RequestMetrics, gauges: Callable[[], dict[str, float]]
    ) -> None:
        self._directory = directory
        self._metrics = metrics
        self._gauges = gauges
        self._path = directory / f"worker-{os.getpid()}.json"

    @classmethod
    def from_environment(
        cls, metrics: RequestMetrics, gauges: Callable[[], dict[str, float]]
    ) -> MetricsPeers | None:
        directory = os.environ.get(ENV)
        return None if not directory else cls(Path(directory), metrics, gauges)

    async def share_forever(self) -> None:
        while True:
            try:
                await trio.to_thread.run_sync(self._write, self._snapshot())
            except OSError as error:
                log.warning("metrics snapshot not written", error=str(error))
            await trio.sleep(SHARE_S)

    def read(self) -> list[PeerCounts]:
        """The other live workers' latest counts (blocking: run it in a thread)."""
        peers = []
        for path in sorted(self._directory.glob("worker-*.json")):
            if path == self._path or not _running(path):
                continue
            try:
                peers.append(_parse(orjson.loads(path.read_bytes())))
            except (OSError, ValueError, TypeError, KeyError):
                continue  # torn, foreign or gone meanwhile
        return peers

    def _snapshot(self) -> bytes:
        m = self._metrics
        return orjson.dumps(
            {
                "at": time.time(),
                "counters": {
                    name: [[list(k), v] for k, v in getattr(m, name).items()] for name in COUNTERS
                },
                "histograms": {
                    name: [[list(k), s] for k, s in getattr(m, name).series.items()]
                    for name in HISTOGRAMS
                },
                "gauges": self._gauges(),
            }
        )

    def _write(self, snapshot: bytes) -> None:
        partial = self._path.with_suffix(".partial")
        partial.write_bytes(snapshot)
        partial.replace(self._path)  # readers see the last whole snapshot, never a torn one


def merged(own: RequestMetrics, peers: Sequence[PeerCounts]) -> RequestMetrics:
    """A copy of ``own`` with every peer's counts added."""
    total = RequestMetrics()
    for name in COUNTERS:
        counter = getattr(total, name)
        for source in (getattr(own, name), *(peer.counters.get(name, {}) for peer in peers)):
            for labels, value in source.items():
                counter[labels] += value
    for name in HISTOGRAMS:
        histogram: Histogram = getattr(total, name)
        for series in (getattr(own, name).series, *(p.histograms.get(name, {}) for p in peers)):
            for labels, slots in series.items():
                _add_slots(histogram, labels, slots)
    return total


def peer_gauge(peers: Sequence[PeerCounts], name: str) -> float:
    return sum(peer.gauges.get(name, 0.0) for peer in peers)


def _add_slots(histogram: Histogram, labels: Labels, slots: list[float]) -> None:
    size = len(histogram.bounds) + 2
    if len(slots) != size:
        return  # another version's buckets: not addable
    current = histogram.series.setdefault(labels, [0.0] * size)
    for index, value in enumerate(slots):
        current[index] += value


def _parse(data: Any) -> PeerCounts:
    def series(rows: Any) -> dict[Labels, Any]:
        return {tuple(str(label) for label in labels): value for labels, value in rows}

    counters = {
        name: {k: float(v) for k, v in series(data["counters"][name]).items()} for name in COUNTERS
    }
    histograms = {
        name: {k: [float(x) for x in s] for k, s in series(data["histograms"][name]).items()}
        for name in HISTOGRAMS
    }
    gauges = {name: float(data["gauges"].get(name, 0.0)) for name in GAUGES}
    return PeerCounts(counters=counters, histograms=histograms, gauges=gauges)


def _running(path: Path) -> bool:
    try:
        pid = int(path.stem.removeprefix("worker-"))
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True  # it runs, as another user
    return True


__all__ = ["ENV", "SHARE_S", "MetricsPeers", "PeerCounts", "merged", "peer_gauge"]
