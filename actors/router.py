"""The router actor: for each request, the ordered candidate providers, then a job for a
provider worker. It owns the routing state: the RNG, the config in force, and the
per-provider circuit breakers, fed by the workers' ``AttemptReport``s.

Routing one request: the providers the request may use (its pin, or its account's);
each checked in turn — first by the ``checks`` given at construction (the plug-in point
for other reasons to leave a provider out, such as a spent budget), then by its circuit
breaker, last because admitting a half-open circuit's probe reserves it — and the rest
ordered by ``routing.candidates.plan_route``. ``route.decided`` records the order and
every provider left out, with why.

Handling a message never awaits: a full worker inbox sheds the request with a 503 rather
than letting the router's own inbox back up behind it. A bug met while routing one
request fails that request alone (a logged traceback, a 500, ``response.failed``); the
router goes on, and its supervisor restarts it only for failures of its own state
(attempt reports, reloads).
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeAlias, assert_never

import structlog
import trio

from actors.request_faults import emit, internal_error
from actors.trail_events import response_failed
from config.model import GatewayConfig, ProviderConfig
from messages.commands import ClientRequest, ReplyError
from messages.errors import ErrorInfo, ErrorKind
from messages.events import RouteDecided, TrailEvent
from routing.breaker import Admission, Breakers, CircuitState, CircuitStatus, Transition
from routing.candidates import RoutePlan, eligible_providers, plan_route
from routing.commands import AttemptReport, ProviderJob, ReloadConfig, RouteRequest, RouterInbox

log = structlog.get_logger("switchyard.router")

ProviderCheck: TypeAlias = Callable[[ClientRequest, ProviderConfig], str | None]
"""Why ``provider`` may not serve ``request`` now (``None``: it may)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RouterStatistics:
    """A snapshot for the health endpoint."""

    routed: int
    refused: int
    reports: int
    circuits: tuple[CircuitStatus, ...]  # every provider whose circuit is not plainly closed
    config_source: str


class Router:
    def __init__(
        self,
        config: GatewayConfig,
        *,
        workers: trio.MemorySendChannel[ProviderJob],
        audit: trio.MemorySendChannel[TrailEvent],
        rng: random.Random | None = None,
        checks: Sequence[ProviderCheck] = (),
    ) -> None:
        self._config = config
        self._workers = workers
        self._audit = audit
        self._rng = rng or random.Random()
        self._checks = tuple(checks)
        self._breakers = Breakers()
        self._routed = 0
        self._refused = 0
        self._reports = 0

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
                    try:
                        self._route(message)
                    except Exception:
                        # a bug met with this request: it fails alone, the router goes on
                        request_id = message.request.request_id
                        log.exception("request failed: internal error", request_id=request_id)
                        self._refuse(message, internal_error(request_id))
                case AttemptReport():
                    self._record(message)
                case ReloadConfig():
                    self._reload(message.config)
                case _:
                    assert_never(message)

    def statistics(self) -> RouterStatistics:
        return RouterStatistics(
            routed=self._routed,
            refused=self._refused,
            reports=self._reports,
            circuits=self._breakers.status(now=trio.current_time()),
            config_source=self._config.source,
        )

    def _route(self, message: RouteRequest) -> None:
        request = message.request
        account = self._config.account(request.account_id)
        providers = (
            eligible_providers(account, pinned_provider=request.pinned_provider)
            if account is not None
            else ()
        )
        if not providers:
            self._refuse(message, _no_provider())
            return
        plan = self._plan(request, providers, deadline=message.deadline)
        reason = plan.describe(pinned=request.pinned_provider is not None)
        emit(
            self._audit,
            RouteDecided(
                request_id=request.request_id,
                at=time.time(),
                candidates=tuple(c.provider.id for c in plan.candidates),
                reason=reason,
            ),
        )
        if not plan.candidates:
            self._refuse(message, self._unavailable(plan))
            return
        job = ProviderJob(
            request=request,
            candidates=plan.candidates,
            reply_to=message.reply_to,
            deadline=message.deadline,
        )
        try:
            self._workers.send_nowait(job)
        except trio.WouldBlock:
            self._refuse(message, _shed())
            return
        self._routed += 1

    def _plan(
        self, request: ClientRequest, providers: Sequence[ProviderConfig], *, deadline: float
    ) -> RoutePlan:
        now = trio.current_time()
        skip: dict[str, str] = {}
        probes: set[str] = set()
        for provider in providers:
            why = self._check(request, provider) if self._checks else None
            if why is not None:
                skip[provider.id] = why
                continue
            admission, transition = self._breakers.admit(
                provider.id, provider.breaker, now=now, lease_until=deadline
            )
            self._log_transition(transition, request.request_id, None)
            if admission is Admission.REFUSE:
                retry_in = self._breakers.retry_in(provider.id, now=now)
                skip[provider.id] = f"circuit open, next probe in {retry_in:.1f}s"
            elif admission is Admission.PROBE:
                probes.add(provider.id)
        return plan_route(
            providers,
            self._rng,
            pinned_model=request.pinned_model,
            skip=skip,
            probes=frozenset(probes),
        )

    def _check(self, request: ClientRequest, provider: ProviderConfig) -> str | None:
        for check in self._checks:
            why = check(request, provider)
            if why is not None:
                return why
        return None

    def _unavailable(self, plan: RoutePlan) -> ErrorInfo:
        now = trio.current_time()
        waits = [self._breakers.retry_in(provider_id, now=now) for provider_id, _ in plan.skipped]
        why = "; ".join(f"{provider_id}: {reason}" for provider_id, reason in plan.skipped)
        return ErrorInfo(
            kind=ErrorKind.OVERLOADED,
            status=503,
            message=f"no provider can take this request now ({why})",
            retry_after=max(1.0, min((w for w in waits if w > 0), default=1.0)),
        )

    def _record(self, report: AttemptReport) -> None:
        self._reports += 1
        provider = report.provider
        transition = self._breakers.record(
            provider.id, provider.breaker, report.error, now=trio.current_time()
        )
        self._log_transition(transition, report.request_id, report.error)

    def _log_transition(
        self, transition: Transition | None, request_id: str, error: ErrorInfo | None
    ) -> None:
        if transition is None:
            return
        fields = {
            "provider": transition.provider_id,
            "from_state": str(transition.before),
            "to_state": str(transition.after),
            "failures": transition.failures,
            "request_id": request_id,
        }
        if error is not None:
            fields["error_kind"] = str(error.kind)
        if transition.after is CircuitState.OPEN:
            log.warning("circuit opened", **fields)
        elif transition.after is CircuitState.HALF_OPEN:
            log.info("circuit half-open: probing", **fields)
        else:
            log.info("circuit closed", **fields)

    def _reload(self, config: GatewayConfig) -> None:
        self._config = config
        self._breakers.keep_only(p.id for account in config.accounts for p in account.providers)
        log.info("router switched config", source=config.source)

    def _refuse(self, message: RouteRequest, error: ErrorInfo) -> None:
        self._refused += 1
        request = message.request
        emit(
            self._audit,
            response_failed(request.request_id, request.started, error),
        )
        headers = (("x-request-id", request.request_id), ("x-switchyard-attempts", "0"))
        # the ingress may have given up on the request already (its channel is closed)
        with contextlib.suppress(trio.WouldBlock, trio.BrokenResourceError):
            message.reply_to.send_nowait(ReplyError(error=error, headers=headers))


def _no_provider() -> ErrorInfo:
    return ErrorInfo(
        kind=ErrorKind.NOT_FOUND,
        status=404,
        message="no provider is configured for this key's account",
        code="model_not_found",
    )


def _shed() -> ErrorInfo:
    return ErrorInfo(
        kind=ErrorKind.SHED,
        status=503,
        message="gateway busy: provider workers are saturated",
        retry_after=1.0,
    )


__all__ = ["ProviderCheck", "Router", "RouterStatistics"]
