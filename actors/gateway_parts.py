"""Two parts ``actors.system`` builds from the config: the HTTP server in front of the
ingress, and the router with the budgets' provider check."""

from __future__ import annotations

import trio

from actors.admin_routes import AdminRoutes, GatewayView, Handler
from actors.budget_wiring import BudgetWiring
from actors.client_routes import render_error
from actors.inboxes import Inboxes
from actors.ingress import Ingress
from actors.request_faults import log_handler_failure
from actors.router import Router
from config.model import GatewayConfig
from http11.server import HttpServer
from messages.events import TrailEvent
from routing.commands import ProviderJob


def budgeted_router(
    config: GatewayConfig,
    workers: trio.MemorySendChannel[ProviderJob],
    audit: trio.MemorySendChannel[TrailEvent],
    wiring: BudgetWiring,
) -> Router:
    """The router, skipping providers through the budgets' gate."""
    return Router(config, workers=workers, audit=audit, checks=(wiring.board.provider_check,))


def http_server(config: GatewayConfig, handler: Handler, ingress: Ingress) -> HttpServer:
    """The HTTP server, authenticating from each request's head (``check_head``)."""
    settings = config.server
    return HttpServer(
        handler,
        render_error=render_error,
        head_check=ingress.check_head,
        on_handler_error=log_handler_failure,  # logs what escapes a request's own boundary
        max_body_bytes=settings.max_body_bytes,
        max_buffered_body_bytes=settings.max_buffered_body_bytes,
        header_timeout_s=settings.header_timeout_s,
        body_timeout_s=settings.body_timeout_s,
        write_timeout_s=settings.write_timeout_s,
        reuse_port=settings.reuse_port,
    )


def admin_and_server(
    handle: GatewayView, inboxes: Inboxes, ingress: Ingress
) -> tuple[AdminRoutes, HttpServer]:
    """The admin routes (``/metrics``, the dashboard) in front of the ingress, and the
    HTTP server that serves them both."""
    admin = AdminRoutes.of(handle, inboxes.depths, lambda: ingress.inflight)
    return admin, http_server(handle.config, admin.in_front_of(ingress.handle), ingress)


__all__ = ["admin_and_server", "budgeted_router", "http_server"]
