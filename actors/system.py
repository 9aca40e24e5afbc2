"""The whole gateway, wired in one place.

Every channel is opened here, every actor is started here, in dependency order::

    HTTP ──► ingress ──RouteRequest──► router ──ProviderJob──► provider worker ──► upstream
                ▲                                                   │
                └────────────── per-request reply channel ◄─────────┘
    ingress, router, provider worker ──TrailEvent──► audit logger ──► SQL (one thread)

Inbox sizes (bounded; a full inbox sheds the request with a 503):
  audit 65 536 events (≈ 10 000 requests of trail; the ingress stops admitting at 80 %),
  router 4 096 requests, provider worker 4 096 jobs, per-request replies 32 chunks.

The provider worker also holds a clone of the router's inbox, for its attempt reports
(sent without waiting; the router feeds its circuit breakers with them).

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
from dataclasses import dataclass, field
from pathlib import Path

import structlog
import trio

from actors.audit import AuditLogger
from actors.config_watcher import POLL_S, ConfigWatcher
from actors.http_client import UpstreamPool
from actors.http_server import HttpServer
from actors.ingress import Ingress, render_error
from actors.provider_worker import ProviderWorker
from actors.router import Router
from actors.supervisor import supervised
from config.model import GatewayConfig
from messages.commands import ProviderJob, ReloadConfig, RouterInbox
from messages.events import TrailEvent
from storage.database import ensure_migrated, make_engine
from storage.sql import SqlRecorder

log = structlog.get_logger("switchyard.system")

AUDIT_INBOX = 65_536
ROUTER_INBOX = 4_096
WORKER_INBOX = 4_096
DRAIN_TIMEOUT_S = 30.0


@dataclass(slots=True, kw_only=True)
class GatewayHandle:
    """What a caller gets once the gateway listens."""

    host: str
    port: int
    database_url: str
    config: GatewayConfig  # the config in force (a reload replaces it)
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
    task_status: trio.TaskStatus[GatewayHandle] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Runs until ``GatewayHandle.stop`` (or a signal, with ``handle_signals``).

    ``ssl_context`` replaces the default certificate verification (tests use a test CA).
    ``config_path`` is reloaded when it changes (polled every ``reload_poll_s``) and, with
    ``handle_signals``, on SIGHUP; with ``handle_signals`` it defaults to the file the
    config was loaded from."""
    if config_path is None and handle_signals:
        config_path = _loaded_from(config)
    url = database_url or config.database_url
    await trio.to_thread.run_sync(ensure_migrated, url)
    engine = make_engine(url)
    pool = UpstreamPool(ssl_context=ssl_context)
    audit_send, audit_receive = trio.open_memory_channel[TrailEvent](AUDIT_INBOX)
    router_send, router_receive = trio.open_memory_channel[RouterInbox](ROUTER_INBOX)
    worker_send, worker_receive = trio.open_memory_channel[ProviderJob](WORKER_INBOX)
    audit = AuditLogger(SqlRecorder(engine))
    try:
        async with trio.open_nursery() as root:
            await root.start(audit.run, audit_receive)
            async with audit_send, router_send, worker_send:
                handle = GatewayHandle(
                    host=host or config.server.host,
                    port=port if port is not None else config.server.port,
                    database_url=url,
                    config=config,
                )
                watch = None if config_path is None else _Watch(config_path, reload_poll_s)
                await _run_actors(
                    handle,
                    pool=pool,
                    audit=audit_send,
                    router=(router_send, router_receive),
                    workers=(worker_send, worker_receive),
                    watch=watch,
                    handle_signals=handle_signals,
                    task_status=task_status,
                )
            # every sender is closed now: the audit logger drains, flushes and returns
    finally:
        with trio.CancelScope(shield=True):
            await pool.aclose()
        engine.dispose()
    log.info("gateway stopped", events_written=audit.statistics().events_written)


@dataclass(frozen=True, slots=True)
class _Watch:
    path: str | Path
    poll_s: float


def _loaded_from(config: GatewayConfig) -> str | None:
    """The file ``config`` was loaded from, if it still is one."""
    return config.source if Path(config.source).is_file() else None


def _total_timeout(config: GatewayConfig) -> float:
    return max((p.timeouts.total_s for a in config.accounts for p in a.providers), default=600.0)


async def _run_actors(
    handle: GatewayHandle,
    *,
    pool: UpstreamPool,
    audit: trio.MemorySendChannel[TrailEvent],
    router: tuple[trio.MemorySendChannel[RouterInbox], trio.MemoryReceiveChannel[RouterInbox]],
    workers: tuple[trio.MemorySendChannel[ProviderJob], trio.MemoryReceiveChannel[ProviderJob]],
    watch: _Watch | None,
    handle_signals: bool,
    task_status: trio.TaskStatus[GatewayHandle],
) -> None:
    config = handle.config
    async with (
        audit.clone() as worker_audit,
        audit.clone() as router_audit,
        audit.clone() as ingress_audit,
        workers[0].clone() as router_workers,
        router[0].clone() as ingress_router,
        router[0].clone() as worker_router,
        router[0].clone() as reload_router,
        workers[1],
        router[1],
    ):
        worker = ProviderWorker(pool=pool, audit=worker_audit, router=worker_router)
        router_actor = Router(config, workers=router_workers, audit=router_audit)
        ingress = Ingress(
            config,
            router=ingress_router,
            audit=ingress_audit,
            total_timeout_s=_total_timeout(config),
        )
        server = HttpServer(
            ingress.handle, render_error=render_error, max_body_bytes=config.server.max_body_bytes
        )
        async with trio.open_nursery() as actors:
            await actors.start(supervised, "provider_worker", worker.run, workers[1])
            await actors.start(supervised, "router", router_actor.run, router[1])
            handle.port = await actors.start(server.serve, handle.host, handle.port)
            if watch is not None:
                apply = _applier(handle, ingress, reload_router)
                watcher = ConfigWatcher(
                    watch.path, config, apply=apply, poll_s=watch.poll_s, on_sighup=handle_signals
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


def _applier(
    handle: GatewayHandle, ingress: Ingress, router: trio.MemorySendChannel[RouterInbox]
) -> Callable[[GatewayConfig], Awaitable[None]]:
    """How a reloaded config takes effect: the ingress first, then the router, with no
    checkpoint in between when the router's inbox has room — so every request the
    ingress parsed under the old config is queued at the router ahead of the switch."""

    async def apply(config: GatewayConfig) -> None:
        ingress.reload(config, total_timeout_s=_total_timeout(config))
        handle.config = config
        message = ReloadConfig(config=config)
        try:
            router.send_nowait(message)
        except trio.WouldBlock:
            await router.send(message)

    return apply


async def _stop_on_signal(handle: GatewayHandle) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for received in signals:
            log.info("signal received", signal=signal.Signals(received).name)
            handle.stop()
            return


__all__ = ["AUDIT_INBOX", "GatewayHandle", "run_gateway"]
