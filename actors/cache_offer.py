"""The provider worker's side of the cache: a finished answer offered to the cache actor.

Only when the attempt ended well — no error before or after the first byte, the client
still there, the request's ``response.completed`` recorded — and the request opted in.
Sent without waiting: a full inbox drops the offer (counted), never delays the worker.
Whether the answer itself may be kept (complete, no refusal) the cache actor decides.
"""

from __future__ import annotations

import time

import trio

from actors.attempt import Attempt, AttemptResult
from messages.cache import CacheInbox, CacheStore
from messages.commands import ClientRequest
from providers.exchanges.protocol import Exchange


class AnswerOffers:
    def __init__(self, cache: trio.MemorySendChannel[CacheInbox] | None) -> None:
        self._cache = cache
        self.dropped = 0

    def offer(
        self,
        request: ClientRequest,
        attempt: Attempt,
        exchange: Exchange,
        result: AttemptResult,
        *,
        provider_type: str,
        model: str,
    ) -> None:
        plan = request.cache
        if plan is None or self._cache is None:
            return
        if result.error or result.failure or result.client_gone or not attempt.ended:
            return
        outcome = exchange.outcome()
        if outcome.failure is not None or not outcome.response:
            return
        store = CacheStore(
            request_id=request.request_id,
            plan=plan,
            client_format=str(request.client_format),
            response=outcome.response,
            usage=outcome.usage,
            provider_type=provider_type,
            model=model,
            at=time.time(),
        )
        try:
            self._cache.send_nowait(store)
        except trio.WouldBlock:
            self.dropped += 1
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass  # the cache actor has stopped (shutdown)


__all__ = ["AnswerOffers"]
