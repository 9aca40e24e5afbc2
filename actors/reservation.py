"""The ingress's side of a budget reservation: one round trip to the accountant.

Skipped outright (no message at all) when no budget or rate limit covers the key, its
team or its customer — the ``BudgetBoard`` the accountant publishes says so. Otherwise
the ingress sends ``Reserve`` without waiting (a full accountant inbox sheds the
request with a 503) and waits, bounded, on a one-shot reply channel of size 1 (so the
accountant never waits on a slow ingress). A refusal becomes the client's error: a
spent budget is HTTP 402 ``budget_exceeded``, a model without a price under a USD budget
HTTP 402 ``model_unpriced``, a rate limit HTTP 429 with Retry-After.
"""

from __future__ import annotations

import math

import trio

from actors.budget import BudgetBoard
from budgets.estimate import candidate_routes, estimated_input_tokens
from config.model import GatewayConfig, VirtualKeyConfig
from messages.budget import AccountantInbox, Refused, Reserve, Reserved, Route
from messages.commands import ClientRequest
from messages.errors import ErrorInfo, ErrorKind
from providers.client_formats.request_fields import RequestInvalid
from providers.output_limit import requested_output_tokens, sent_output_tokens

RESERVE_TIMEOUT_S = 5.0
HOLD_GRACE_S = 60.0
"""A hold outlives its request's deadline by this much before it lapses unsettled."""


class Reservations:
    def __init__(
        self,
        accountant: trio.MemorySendChannel[AccountantInbox] | None,
        board: BudgetBoard | None = None,
    ) -> None:
        """Without an accountant every request may go on (no budgets are kept)."""
        self._accountant = accountant
        self._board = board or BudgetBoard()

    async def reserve(
        self,
        request: ClientRequest,
        key: VirtualKeyConfig,
        config: GatewayConfig,
        *,
        body_size: int,
        expires_at: float,
    ) -> ErrorInfo | None:
        """``None`` when the request may go on; else the error to answer with."""
        accountant = self._accountant
        board = self._board
        if accountant is None or not (
            board.applies_to(key) or board.covers_providers(config.account(key.account))
        ):
            return None
        send, receive = trio.open_memory_channel[Reserved | Refused](1)
        message = Reserve(
            request_id=request.request_id,
            virtual_key_id=key.id,
            team=key.team,
            customer=key.customer,
            routes=_bounded_routes(request, config, key),
            input_tokens=estimated_input_tokens(body_size),
            expires_at=expires_at + HOLD_GRACE_S,
            reply_to=send,
        )
        with send, receive:
            try:
                accountant.send_nowait(message)
            except trio.WouldBlock:
                return _unavailable("the budget accountant is saturated")
            with trio.move_on_after(RESERVE_TIMEOUT_S):
                answer = await receive.receive()
                return refusal_error(answer) if isinstance(answer, Refused) else None
        return _unavailable("the budget accountant did not answer")


def _bounded_routes(
    request: ClientRequest, config: GatewayConfig, key: VirtualKeyConfig
) -> tuple[Route, ...]:
    """The routes that may serve ``request``, each with the output maximum its provider
    is sent (the adapters compute it with the same function)."""
    try:
        requested = requested_output_tokens(request.client_format, request.body)
    except RequestInvalid:
        requested = None  # the exchange answers 400 before any provider is called
    routes = candidate_routes(
        config.account(key.account),
        pinned_provider=request.pinned_provider,
        pinned_model=request.pinned_model,
    )
    return tuple(
        Route(
            provider_type=route.provider_type,
            model=route.model,
            max_output_tokens=sent_output_tokens(route.provider_type, route.model, requested),
            provider_id=route.provider_id,
        )
        for route in routes
    )


def refusal_error(refused: Refused) -> ErrorInfo:
    if refused.reason == "rate":
        return ErrorInfo(
            kind=ErrorKind.RATE_LIMITED,
            status=429,
            message=refused.describe(),
            code="rate_limit_exceeded",
            retry_after=float(max(1, math.ceil(refused.retry_after_s or 1.0))),
        )
    return ErrorInfo(
        kind=ErrorKind.BUDGET_EXCEEDED,
        status=402,
        message=refused.describe(),
        code="model_unpriced" if refused.reason == "unpriced" else "budget_exceeded",
    )


def _unavailable(why: str) -> ErrorInfo:
    return ErrorInfo(
        kind=ErrorKind.SHED, status=503, message=f"gateway busy: {why}", retry_after=1.0
    )


__all__ = ["HOLD_GRACE_S", "RESERVE_TIMEOUT_S", "Reservations", "refusal_error"]
