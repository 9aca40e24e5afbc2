"""Which actors report to ``/healthz``: registered once, as ``actors/system.py`` wires them."""

from __future__ import annotations

from dataclasses import dataclass

from actors.audit import AuditLogger
from actors.budget import Accountant
from actors.cache import CacheActor
from actors.cache_gate import CacheGate
from actors.health import HealthReport
from actors.provider_worker import ProviderWorker
from actors.router import Router
from http11.client import UpstreamPool
from http11.server import HttpServer


@dataclass(frozen=True, slots=True)
class HealthParts:
    server: HttpServer
    router: Router
    worker: ProviderWorker
    pool: UpstreamPool
    cache: CacheActor
    lookups: CacheGate  # the ingress's side of the cache
    audit: AuditLogger | None


def register_health(
    health: HealthReport, parts: HealthParts, accountant: Accountant | None
) -> None:
    health.register("server", parts.server.statistics)
    health.register("router", parts.router.statistics)
    health.register("provider_worker", parts.worker.statistics)
    health.register("upstream_pool", parts.pool.statistics)
    if parts.audit is not None:
        health.register("audit", parts.audit.statistics)
    if accountant is not None:
        health.register("budget_accountant", accountant.statistics)
    health.register("cache", parts.cache.statistics)
    health.register("cache_lookups", parts.lookups.statistics)


__all__ = ["HealthParts", "register_health"]
