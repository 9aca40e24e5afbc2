"""The operator's endpoints, behind the admin key (``actors.admin_sessions.access``):

- ``GET /metrics``: Prometheus text (``actors.metrics_exposition``);
- ``GET /dashboard``: one static page (HTML, JS and CSS shipped in ``actors/dashboard/``,
  no build step, nothing fetched from elsewhere) — served to anyone, it holds no data;
  it signs in with ``POST /admin/api/login`` (``{"key": ...}`` → a session cookie) and
  reads ``GET /admin/api/...`` (``actors.dashboard_api``).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from importlib import resources
from typing import Protocol

import orjson
import trio

from actors.admin_sessions import AdminSessions, access, session_cookie, set_cookie
from actors.audit import AuditLogger
from actors.budget import Accountant
from actors.dashboard_api import BadQuery, DashboardApi, Unreadable, render
from actors.metrics import RequestMetrics
from actors.metrics_exposition import CONTENT_TYPE, MetricSources, own_gauges, render_metrics
from actors.metrics_peers import MetricsPeers
from actors.relay import JSON_HEADER, send_error
from config.model import GatewayConfig
from http11.server import HttpRequest, ResponseWriter
from messages.errors import ErrorInfo, ErrorKind

_PAGE_HEADERS = (
    ("cache-control", "no-store"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    (
        "content-security-policy",
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    ),
)
_ASSETS = {
    "/dashboard": ("index.html", "text/html; charset=utf-8"),
    "/dashboard/": ("index.html", "text/html; charset=utf-8"),
    "/dashboard/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/dashboard/app.css": ("app.css", "text/css; charset=utf-8"),
}
_API = "/admin/api/"
_PREFIXES = ("/metrics", "/dashboard", _API)
Handler = Callable[[HttpRequest, ResponseWriter], Awaitable[None]]
_KEY_MAX = 4096


class GatewayView(Protocol):
    """What the routes read of the running gateway (``actors.system.GatewayHandle``)."""

    host: str
    database_url: str
    config: GatewayConfig
    metrics: RequestMetrics
    audit: AuditLogger | None
    accountant: Accountant | None


class AdminRoutes:
    def __init__(
        self,
        *,
        config: Callable[[], GatewayConfig],
        bound_host: str,
        sources: MetricSources,
        database_url: str,
    ) -> None:
        self._config = config
        self._bound_host = bound_host
        self._sources = sources
        self._sessions = AdminSessions()
        self.peers = MetricsPeers.from_environment(sources.requests, lambda: own_gauges(sources))
        self.api = DashboardApi(database_url, sources, self.peers)
        self._assets = _assets()

    @classmethod
    def of(
        cls,
        gateway: GatewayView,
        depths: Callable[[], Mapping[str, tuple[int, int]]],
        in_flight: Callable[[], int],
    ) -> AdminRoutes:
        audit, accountant = gateway.audit, gateway.accountant
        sources = MetricSources(
            requests=gateway.metrics,
            audit=audit.statistics if audit is not None else None,
            accountant=accountant.statistics if accountant is not None else None,
            inboxes=depths,
            in_flight=in_flight,
        )
        return cls(
            config=lambda: gateway.config,
            bound_host=gateway.host,
            sources=sources,
            database_url=gateway.database_url,
        )

    async def aclose(self) -> None:
        await self.api.aclose()

    def in_front_of(self, handler: Handler) -> Handler:
        """``handler`` (the ingress's), with these routes answered first: one prefix
        test per request (the model and inference paths never match it)."""

        async def route(request: HttpRequest, writer: ResponseWriter) -> None:
            target = request.target
            if target.startswith(_PREFIXES):
                path = target.partition("?")[0]
                if self.serves(path):
                    await self.handle(request, writer, path)
                    return
            await handler(request, writer)

        return route

    @staticmethod
    def serves(path: str) -> bool:
        return path == "/metrics" or path in _ASSETS or path.startswith(_API)

    async def handle(self, request: HttpRequest, writer: ResponseWriter, path: str) -> None:
        if path in self._assets:
            body, kind = self._assets[path]
            await writer.send_response(200, [("content-type", kind), *_PAGE_HEADERS], body)
            return
        if path == _API + "login" and request.method == "POST":
            await self._login(request, writer)
            return
        problem = self._refusal(request)
        if problem is not None:
            await send_error(writer, problem)
            return
        if path == "/metrics":
            peers = await trio.to_thread.run_sync(self.peers.read) if self.peers else []
            body = render_metrics(self._sources, peers)
            await writer.send_response(200, [("content-type", CONTENT_TYPE)], body)
        elif path == _API + "logout" and request.method == "POST":
            self._sessions.revoke(session_cookie(request.header("cookie")))
            await writer.send_response(200, [JSON_HEADER, set_cookie("", max_age=0)], b"{}")
        elif request.method != "GET":
            await send_error(writer, _bad(405, "use GET"))
        else:
            await self._api(request, writer, path)

    def _refusal(self, request: HttpRequest) -> ErrorInfo | None:
        return access(
            authorization=request.header("authorization"),
            cookie=request.header("cookie"),
            admin_key=self._config().server.admin_key,
            bound_host=self._bound_host,
            sessions=self._sessions,
        )

    async def _api(self, request: HttpRequest, writer: ResponseWriter, path: str) -> None:
        route, _, query = request.target.partition("?")
        try:
            status, body = await self.api.answer(route[len(_API) :], query)
        except BadQuery as exc:
            await send_error(writer, _bad(400, str(exc)))
            return
        except Unreadable as exc:
            error = ErrorInfo(kind=ErrorKind.SHED, status=503, message=str(exc), retry_after=5.0)
            await send_error(writer, error)
            return
        headers = [JSON_HEADER, ("cache-control", "no-store")]
        await writer.send_response(status, headers, render(body))

    async def _login(self, request: HttpRequest, writer: ResponseWriter) -> None:
        """``{"key": "<server.admin_key>"}`` → a session cookie (or the reason not)."""
        admin_key = self._config().server.admin_key
        key = _given_key(request.body)
        if admin_key is None:
            problem = self._refusal(request)
            if problem is not None:
                await send_error(writer, problem)
            else:
                await writer.send_response(200, [JSON_HEADER], b'{"signed_in":true}')
            return
        problem = _bad(400, 'send {"key": "<server.admin_key>"}') if key is None else None
        problem = problem or access(
            authorization=f"Bearer {key}",
            cookie=None,
            admin_key=admin_key,
            bound_host=self._bound_host,
            sessions=self._sessions,
        )
        if problem is not None:
            await send_error(writer, problem)
            return
        token = self._sessions.issue(admin_key)
        await writer.send_response(200, [JSON_HEADER, set_cookie(token)], b'{"signed_in":true}')


@functools.cache
def _assets() -> dict[str, tuple[bytes, str]]:
    """The page's files, read once per process from the package."""
    folder = resources.files("actors.dashboard")
    return {
        path: (folder.joinpath(name).read_bytes(), kind) for path, (name, kind) in _ASSETS.items()
    }


def _given_key(body: bytes) -> str | None:
    if len(body) > _KEY_MAX:
        return None
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    key = parsed.get("key") if isinstance(parsed, dict) else None
    return key if isinstance(key, str) and key else None


def _bad(status: int, message: str) -> ErrorInfo:
    return ErrorInfo(kind=ErrorKind.BAD_REQUEST, status=status, message=message)


__all__ = ["AdminRoutes", "Handler"]
