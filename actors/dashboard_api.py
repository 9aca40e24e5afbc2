"""The dashboard's JSON, under ``/admin/api/`` (the page and the tests read the same).

Live figures (totals, latency, cache, budgets, the trail writer) come from memory:
``RequestMetrics`` and the actors' ``statistics()``. History (spend over time, the
last minutes' traffic, recent requests, a request's trail, replay runs) is read from
SQL through ``storage.dashboard_reads`` on a separate read-only engine, in worker
threads of their own (at most ``READERS`` at once): never on the event loop, never on
the trail writer's thread or connection.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

import orjson
import trio
from sqlalchemy.engine import Engine

from actors.metrics import Histogram
from actors.metrics_exposition import MetricSources
from actors.metrics_peers import MetricsPeers, PeerCounts, merged, peer_gauge
from storage import dashboard_reads as reads
from storage.dashboard_reads import Unreadable

READERS = 2


class BadQuery(Exception):
    """A query parameter out of range; the message is for the caller (400)."""


class DashboardApi:
    def __init__(
        self, database_url: str, sources: MetricSources, peers: MetricsPeers | None = None
    ) -> None:
        self._url = database_url
        self._sources = sources
        self._peers = peers  # the other workers of ``serve --workers``, if any
        self._engine: Engine | None = None
        self._limiter = trio.CapacityLimiter(READERS)

    async def aclose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    async def answer(self, path: str, query: str) -> tuple[int, object]:
        """(status, JSON-able body) for ``GET /admin/api/<path>``."""
        try:
            params = parse_qs(query, max_num_fields=8)
        except ValueError as exc:
            raise BadQuery("at most 8 query parameters") from exc
        if path == "overview":
            peers = await trio.to_thread.run_sync(self._peers.read) if self._peers else []
            return 200, self.overview(peers)
        if path == "traffic":
            minutes = _int(params, "minutes", 30, 1, 1440)
            now = datetime.now(UTC)
            return 200, await self._read(reads.traffic, minutes=minutes, now=now)
        if path == "spend":
            by = _one(params, "by", "model")
            if by not in reads.SPEND_DIMENSIONS:
                raise BadQuery(f"by: one of {', '.join(reads.SPEND_DIMENSIONS)}, not {by!r}")
            days = _int(params, "days", 14, 1, 366)
            today = datetime.now(UTC).date()
            return 200, await self._read(reads.spend_over_time, by, days=days, today=today)
        if path == "requests":
            return 200, await self._read(
                reads.recent_requests, limit=_int(params, "limit", 50, 1, 500)
            )
        if path.startswith("requests/") and path.endswith("/trail"):
            request_id = unquote(path[len("requests/") : -len("/trail")])
            trail = await self._read(reads.request_trail, request_id)
            if trail is None:
                return 404, {"error": {"message": f"no request {request_id[:100]!r} in the trail"}}
            return 200, {"request_id": request_id, "events": trail}
        if path == "replays":
            return 200, await self._read(reads.replay_runs, limit=_int(params, "limit", 50, 1, 500))
        return 404, {"error": {"message": f"no admin endpoint {path[:100]!r}"}}

    def overview(self, peers: Sequence[PeerCounts] = ()) -> dict[str, Any]:
        """The live tiles: this process's counts, plus other workers' (``peers``)."""
        sources = self._sources
        m = merged(sources.requests, peers) if peers else sources.requests
        total = sum(m.requests.values())
        errors = sum(n for key, n in m.requests.items() if int(key[3]) >= 400)
        lookups = {key[0]: n for key, n in m.cache_lookups.items()}
        hits, looked = lookups.get("hit", 0), sum(lookups.values())
        audit = sources.audit() if sources.audit else None
        return {
            "requests_total": total,
            "errors_total": errors,
            "in_flight": (sources.in_flight() if sources.in_flight else 0)
            + peer_gauge(peers, "in_flight"),
            "latency_ms": _quantiles(m.duration),
            "cost_usd_total": sum(m.cost_usd.values()),
            "cache": {"lookups": lookups, "hit_rate": hits / looked if looked else None},
            "budgets": self._budgets(),
            "trail": None
            if audit is None
            else {
                "backlog": audit.pending + peer_gauge(peers, "trail_backlog"),
                "writer_lag_p99_ms": audit.writer_lag_p99_ms,
                "database_ok": audit.database_ok,
            },
        }

    def _budgets(self) -> list[dict[str, Any]]:
        if self._sources.accountant is None:
            return []
        rows = []
        for view in self._sources.accountant().budgets:
            rule, limit = view.rule, view.rule.limit_usd
            rows.append(
                {
                    "level": rule.level,
                    "scope": rule.scope_id,
                    "period": rule.period,
                    "limit_usd": limit,
                    "spent_usd": view.spent_usd,
                    "reserved_usd": view.reserved_usd,
                    "left_usd": None if limit is None else max(0.0, limit - view.spent_usd),
                    "resets_at": view.resets_at,
                }
            )
        return rows

    async def _read(self, read: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await trio.to_thread.run_sync(
            functools.partial(self._call, read, *args, **kwargs), limiter=self._limiter
        )

    def _call(self, read: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self._engine is None:
            self._engine = reads.reader_engine(self._url)
        return reads.guarded(read, self._engine, *args, **kwargs)  # Unreadable: a 503


def render(body: object) -> bytes:
    return orjson.dumps(body, default=str)


def _one(params: dict[str, list[str]], name: str, default: str) -> str:
    values = params.get(name)
    return values[0] if values else default


def _int(params: dict[str, list[str]], name: str, default: int, low: int, high: int) -> int:
    text = _one(params, name, str(default))
    if not text.isdigit() or not low <= int(text) <= high:
        raise BadQuery(f"{name}: a whole number from {low} to {high}, not {text[:40]!r}")
    return int(text)


def _quantiles(histogram: Histogram) -> dict[str, float | None]:
    """p50/p95/p99 over every endpoint, as the upper bound of the bucket they fall in."""
    width = len(histogram.bounds) + 1
    counts = [0.0] * width
    for slots in histogram.series.values():
        for i in range(width):
            counts[i] += slots[i]
    total = sum(counts)
    out: dict[str, float | None] = {}
    for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        out[name] = None
        running = 0.0
        for bound, count in zip((*histogram.bounds, float("inf")), counts, strict=True):
            running += count
            if total and running >= q * total:
                out[name] = bound * 1000.0 if bound != float("inf") else None
                break
    return out


__all__ = ["BadQuery", "DashboardApi", "Unreadable", "render"]
