"""The router actor: for each request, the ordered candidate providers, then a job for a
provider worker. It owns the routing state (the RNG now; breakers and health later).

Handling a message never awaits: a full worker inbox sheds the request with a 503 rather
than letting the router's own inbox back up behind it.
"""

from __future__ import annotations

import random
import time

import structlog
import trio

from config.model import GatewayConfig
from messages.commands import (
    AttemptReport,
    ProviderJob,
    ReplyError,
    RouteRequest,
    RouterInbox,
)
from messages.errors import ErrorInfo, ErrorKind
from messages.events import ResponseFailed, RouteDecided, TrailEvent
from routing.candidates import candidates_for

log = structlog.get_logger("switchyard.router")


class Router:
    def __init__(
        self,
        config: GatewayConfig,
        *,
        workers: trio.MemorySendChannel[ProviderJob],
        audit: trio.MemorySendChannel[TrailEvent],
        rng: random.Random | None = None,
    ) -> None:
        self._config = config
        self._workers = workers
        self._audit = audit
        self._rng = rng or random.Random()

    async def run(
        self,
        inbox: trio.MemoryReceiveChannel[RouterInbox],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        task_status.started()
        async for message in inbox:
            match message:
                case RouteRequest():
                    self._route(message)
                case AttemptReport():
                    pass  # breakers arrive with the routing issue

    def _route(self, message: RouteRequest) -> None:
        request = message.request
        account = self._config.account(request.account_id)
        candidates = (
            candidates_for(
                account,
                self._rng,
                pinned_provider=request.pinned_provider,
                pinned_model=request.pinned_model,
            )
            if account is not None
            else ()
        )
        if not candidates:
            self._refuse(
                message,
                ErrorInfo(
                    kind=ErrorKind.NOT_FOUND,
                    status=404,
                    message="no provider is configured for this key's account",
                    code="model_not_found",
                ),
            )
            return
        self._audit.send_nowait(
            RouteDecided(
                request_id=request.request_id,
                at=time.time(),
                candidates=tuple(c.provider.id for c in candidates),
                reason="pinned" if request.pinned_provider else "weighted",
            )
        )
        job = ProviderJob(
            request=request,
            candidates=candidates,
            reply_to=message.reply_to,
            deadline=message.deadline,
        )
        try:
            self._workers.send_nowait(job)
        except trio.WouldBlock:
            self._refuse(
                message,
                ErrorInfo(
                    kind=ErrorKind.SHED,
                    status=503,
                    message="gateway busy: provider workers are saturated",
                    retry_after=1.0,
                ),
            )

    def _refuse(self, message: RouteRequest, error: ErrorInfo) -> None:
        request = message.request
        self._audit.send_nowait(
            ResponseFailed(
                request_id=request.request_id,
                at=time.time(),
                status=error.status,
                latency_ms=(trio.current_time() - request.started) * 1000,
                provider_id=None,
                model=None,
                attempts=0,
                error=error,
            )
        )
        message.reply_to.send_nowait(ReplyError(error=error))


__all__ = ["Router"]
