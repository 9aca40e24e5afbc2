"""The whole gateway, wired in one place.

Every channel is opened here, every actor is started here, in dependency order::

    HTTP ──► ingress ──RouteRequest──► router ──ProviderJob──► provider worker ──► upstream
                ▲                                                   │
                └────────────── per-request reply channel ◄─────────┘
    ingress, router, provider worker ──TrailEvent──► audit logger ──► SQL (one thread)
    accountant's counters, price syncs ──submit──► the same writer (``TrailWriter``)
    ingress ──Reserve──► budget accountant ◄──Settle── audit logger (prices the trail)
    ingress ──CacheLookup──► cache actor ◄──CacheStore── provider worker (``actors.cache``)
    store watcher ──UseBudgets──► budget accountant;  accountant ──BudgetBoard──► router

Inbox sizes (bounded; a full inbox sheds the request with a 503):
  audit 65 536 events (≈ 10 000 requests of trail; the ingress stops admitting at 80 %),
  router 4 096 requests, provider worker 4 096 jobs, per-request replies 32 chunks,
  budget accountant 16 384 messages (it never awaits while handling one),
  cache actor 1 024 lookups and stores (full: a lookup is a miss, a store is dropped).

The provider worker also holds a clone of the router's inbox, for its attempt reports
(sent without waiting; the router feeds its circuit breakers with them).

Budgets (``actors.budget_wiring``): the accountant starts before the router and the
ingress, its counters rebuilt from SQL; the router skips providers through the
``BudgetBoard``'s gate (its ``checks``); the store watcher hands the CLI's keys and
budgets to the ingress and the accountant every two seconds.

Reload (SIGHUP, or the config file changing; see ``actors.config_watcher``): the new
config goes to the ingress, then — as a ``ReloadConfig`` message, behind every request
already queued — to the router. Requests in flight keep the config they started with.

Shutdown (SIGINT/SIGTERM, or ``GatewayHandle.stop``): stop accepting, let in-flight
requests finish (bounded), stop the router and workers, then close the audit inbox so
the logger writes every remaining event before the process exits.
"""

from __future__ import annotations

import signal
import ssl
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import structlog
import trio

from actors.audit import AuditLogger
from actors.budget import Accountant
from actors.budget_wiring import BudgetWiring
from actors.cache import CacheActor
from actors.cache_gate import CacheGate
from actors.config_watcher import POLL_S, ConfigWatcher
from actors.gateway_parts import admin_and_server, budgeted_router
from actors.health_wiring import HealthParts, register_health
from actors.inboxes import Inbox, Inboxes
from actors.ingress import Ingress
from actors.metrics import RequestMetrics, counting
from actors.provider_worker import ProviderWorker
from actors.reservation import Reservations
from actors.store_watcher import POLL_S as STORE_POLL_S
from actors.supervisor import supervised
from actors.trail_writer import TrailWriter
from config.model import GatewayConfig
from http11.client import UpstreamPool
from http11.server import HttpServer
from messages.budget import AccountantInbox
from messages.cache import CacheInbox
from messages.events import TrailEvent
from routing.commands import ProviderJob, ReloadConfig, RouterInbox
from storage.database import ensure_migrated, make_engine
from storage.retention import Pruner, RetentionPolicy
from storage.sql import SqlRecorder

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = structlog.get_logger("switchyard.system")

AUDIT_INBOX = 65_536
ROUTER_INBOX = 4_096
WORKER_INBOX = 4_096
ACCOUNTANT_INBOX = 16_384
CACHE_INBOX = 1_024
DRAIN_TIMEOUT_S = 30.0


@dataclass(slots=True, kw_only=True)
class GatewayHandle:
    """What a caller gets once the gateway listens."""

    host: str
    port: int
    database_url: str
    config: GatewayConfig  # the config in force (a reload replaces it)
    accountant: Accountant | None = None  # for its statistics
    audit: AuditLogger | None = None  # likewise
    metrics: RequestMetrics = field(default_factory=RequestMetrics)  # what /metrics counts
    _stop: trio.Event = field(default_factory=trio.Event)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        """Begin a graceful shutdown; ``run_gateway`` returns when it is done."""
        self._stop.set()


async def run_gateway(
    config: GatewayConfig,
    *,
    host: str | None = None,
    port: int | None = None,
    database_url: str | None = None,
    handle_signals: bool = False,
    ssl_context: ssl.SSLContext | None = None,
    config_path: str | Path | None = None,
    reload_poll_s: float = POLL_S,
    store_poll_s: float = STORE_POLL_S,
    task_status: trio.TaskStatus[GatewayHandle] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Runs until ``GatewayHandle.stop`` (or a signal, with ``handle_signals``).
    ``ssl_context`` replaces the default certificate verification (tests use a test CA).
    ``config_path`` is reloaded when it changes (polled every ``reload_poll_s``) and, with
    ``handle_signals``, on SIGHUP (by default the file the config came from, then).
    Keys and budgets the CLI stores are read every ``store_poll_s``."""
    url = database_url or config.database_url
    await trio.to_thread.run_sync(ensure_migrated, url)
    engine = make_engine(url)
    pool = UpstreamPool(ssl_context=ssl_context)
    writer = TrailWriter(recorder := SqlRecorder(engine))  # the one SQL writer, for all
    budgets = await BudgetWiring.prepare(
        engine, config, writes=writer.submit, run_sql=writer.run, store_poll_s=store_poll_s
    )
    inboxes = open_inboxes()
    settle = inboxes.accountant.send.clone()
    audit, metrics = _counted_audit(recorder, budgets, settle, writer)
    cache = _cache_actor(config, engine, writer, budgets)
    try:
        async with trio.open_nursery() as root:
            await _start_audit(root, audit, inboxes.audit.receive, _pruner(engine, config))
            async with inboxes.closing_senders():
                handle = GatewayHandle(
                    host=host or config.server.host,
                    port=port if port is not None else config.server.port,
                    database_url=url,
                    config=config,
                    accountant=budgets.accountant,
                    audit=audit,
                    metrics=metrics,
                )
                watch = _watch(config, config_path, handle_signals, reload_poll_s)
                await _run_actors(
                    handle,
                    pool=pool,
                    inboxes=inboxes,
                    wiring=budgets,
                    cache=cache,
                    watch=watch,
                    handle_signals=handle_signals,
                    task_status=task_status,
                )
    finally:
        with trio.CancelScope(shield=True):
            await pool.aclose()
        engine.dispose()
    log.info("gateway stopped", events_written=audit.statistics().events_written)


def _cache_actor(
    config: GatewayConfig, engine: Engine, writer: TrailWriter, budgets: BudgetWiring
) -> CacheActor:
    """Entries through the one SQL writer, hits priced like the trail; replicas (shared
    budgets) also take in each other's entries."""
    pricer, follow = budgets.meter.pricer, config.server.shared_budgets
    return CacheActor.wired(config.cache, engine, writer.submit, pricer, follow=follow)


def _counted_audit(
    recorder: SqlRecorder,
    budgets: BudgetWiring,
    settle: trio.MemorySendChannel[AccountantInbox],
    writer: TrailWriter,
) -> tuple[AuditLogger, RequestMetrics]:
    """The audit logger, pricing with the budgets' meter and counting for ``/metrics``."""
    metrics = RequestMetrics()
    observe = counting(metrics)
    audit = AuditLogger(
        recorder, meter=budgets.meter, settle=settle, writer=writer, observe=observe
    )
    return audit, metrics


async def _start_audit(
    root: trio.Nursery,
    audit: AuditLogger,
    inbox: trio.MemoryReceiveChannel[TrailEvent],
    pruner: Pruner,
) -> None:
    """The audit logger, and retention in its writer thread (it stops with the logger)."""
    await root.start(audit.run, inbox)
    root.start_soon(audit.housekeep, pruner)


def _pruner(engine: Engine, config: GatewayConfig) -> Pruner:
    """Retention as configured (``retention:``), run by the audit logger."""
    retention = config.retention
    policy = RetentionPolicy(bodies_s=retention.bodies_s, events_s=retention.events_s)
    return Pruner(engine, policy)


@dataclass(frozen=True, slots=True)
class _Watch:
    path: str | Path
    poll_s: float


def _watch(
    config: GatewayConfig, path: str | Path | None, handle_signals: bool, poll_s: float
) -> _Watch | None:
    """What to watch: ``path``, else with signals handled the file the config came from."""
    if path is None and handle_signals:
        path = _loaded_from(config)
    return None if path is None else _Watch(path, poll_s)


def _loaded_from(config: GatewayConfig) -> str | None:
    """The file ``config`` was loaded from, if it still is one."""
    return config.source if Path(config.source).is_file() else None


def total_timeout(config: GatewayConfig) -> float:
    return max((p.timeouts.total_s for a in config.accounts for p in a.providers), default=600.0)


def open_inboxes() -> Inboxes:
    """Every actor's inbox (the replay system opens its own set here too)."""
    audit_send, audit_receive = trio.open_memory_channel[TrailEvent](AUDIT_INBOX)
    router_send, router_receive = trio.open_memory_channel[RouterInbox](ROUTER_INBOX)
    worker_send, worker_receive = trio.open_memory_channel[ProviderJob](WORKER_INBOX)
    budget_send, budget_receive = trio.open_memory_channel[AccountantInbox](ACCOUNTANT_INBOX)
    cache_send, cache_receive = trio.open_memory_channel[CacheInbox](CACHE_INBOX)
    return Inboxes(
        audit=Inbox(audit_send, audit_receive),
        router=Inbox(router_send, router_receive),
        workers=Inbox(worker_send, worker_receive),
        accountant=Inbox(budget_send, budget_receive),
        cache=Inbox(cache_send, cache_receive),
    )


async def _run_actors(
    handle: GatewayHandle,
    *,
    pool: UpstreamPool,
    inboxes: Inboxes,
    wiring: BudgetWiring,
    cache: CacheActor,
    watch: _Watch | None,
    handle_signals: bool,
    task_status: trio.TaskStatus[GatewayHandle],
) -> None:
    config, audit, router = handle.config, inboxes.audit.send, inboxes.router
    workers, accountant = inboxes.workers, inboxes.accountant
    async with (
        audit.clone() as worker_audit,
        audit.clone() as router_audit,
        audit.clone() as ingress_audit,
        workers.send.clone() as router_workers,
        router.send.clone() as ingress_router,
        router.send.clone() as worker_router,
        router.send.clone() as reload_router,
        accountant.send.clone() as ingress_accountant,
        accountant.send.clone() as watcher_accountant,
        accountant.send.clone() as reload_accountant,
        inboxes.cache.send.clone() as ingress_cache,
        inboxes.cache.send.clone() as worker_cache,
        inboxes.cache.receive,
        workers.receive,
        router.receive,
        accountant.receive,
    ):
        worker = ProviderWorker(
            pool=pool, audit=worker_audit, router=worker_router, cache=worker_cache
        )
        router_actor = budgeted_router(config, router_workers, router_audit, wiring)
        ingress = Ingress(
            config,
            router=ingress_router,
            audit=ingress_audit,
            total_timeout_s=total_timeout(config),
            reservations=Reservations(ingress_accountant, wiring.board),
            stored_keys=wiring.stored_keys,
            cache=(gate := CacheGate(config, ingress_cache, ingress_audit)),
        )
        admin, server = admin_and_server(handle, inboxes, ingress)
        parts = HealthParts(server, router_actor, worker, pool, cache, gate, handle.audit)
        register_health(ingress.health, parts, handle.accountant)
        async with aclosing(admin), trio.open_nursery() as actors:
            await wiring.start(
                actors, accountant.receive, watcher_accountant, ingress.use_stored_keys
            )
            await actors.start(supervised, "cache", cache.run, inboxes.cache.receive)
            await actors.start(supervised, "provider_worker", worker.run, workers.receive)
            await actors.start(supervised, "router", router_actor.run, router.receive)
            handle.port = await actors.start(server.serve, handle.host, handle.port)
            if admin.peers is not None:  # one of ``serve --workers N``
                actors.start_soon(admin.peers.share_forever)
            reload = _Reload(handle, ingress, reload_router, wiring, reload_accountant, cache)
            await _serve(actors, server, handle, reload, watch, handle_signals, task_status)


@dataclass(frozen=True, slots=True)
class _Reload:
    handle: GatewayHandle
    ingress: Ingress
    router: trio.MemorySendChannel[RouterInbox]
    budgets: BudgetWiring
    accountant: trio.MemorySendChannel[AccountantInbox]
    cache: CacheActor


async def _serve(
    actors: trio.Nursery,
    server: HttpServer,
    handle: GatewayHandle,
    reload: _Reload,
    watch: _Watch | None,
    handle_signals: bool,
    task_status: trio.TaskStatus[GatewayHandle],
) -> None:
    """Watch the config, answer until told to stop, then drain and stop the actors."""
    config = handle.config
    if watch is not None:
        watcher = ConfigWatcher(
            watch.path,
            config,
            apply=_applier(reload),
            poll_s=watch.poll_s,
            on_sighup=handle_signals,
        )
        await actors.start(supervised, "config_watcher", watcher.run)
    if handle_signals:
        actors.start_soon(_stop_on_signal, handle)
    log.info("gateway listening", url=handle.base_url, config=config.source)
    task_status.started(handle)
    await handle._stop.wait()
    log.info("shutting down: draining in-flight requests")
    server.stop_accepting()
    with trio.move_on_after(DRAIN_TIMEOUT_S):
        await server.wait_idle()
    actors.cancel_scope.cancel()


def _applier(reload: _Reload) -> Callable[[GatewayConfig], Awaitable[None]]:
    """How a reloaded config takes effect: the ingress first, then the router, with no
    checkpoint in between when the router's inbox has room — so every request the
    ingress parsed under the old config is queued at the router ahead of the switch.
    Then the budgets and prices."""

    async def apply(config: GatewayConfig) -> None:
        reload.ingress.reload(config, total_timeout_s=total_timeout(config))
        reload.cache.reload(config.cache)
        reload.handle.config = config
        message = ReloadConfig(config=config)
        try:
            reload.router.send_nowait(message)
        except trio.WouldBlock:
            await reload.router.send(message)
        await reload.budgets.reload(config, reload.accountant)

    return apply


async def _stop_on_signal(handle: GatewayHandle) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for received in signals:
            log.info("signal received", signal=signal.Signals(received).name)
            handle.stop()
            return


__all__ = [
    "ACCOUNTANT_INBOX",
    "AUDIT_INBOX",
    "STORE_POLL_S",
    "GatewayHandle",
    "open_inboxes",
    "run_gateway",
    "total_timeout",
]
