"""The ingress's side of the cache: which requests use it, the lookup, serving a hit.

``plan`` runs for every inference request and costs one dict lookup and one pass over
the headers when the request did not opt in (no policy names its key, no
``x-switchyard-cache*`` header): no hashing, no message to the cache actor. A request
that opted in gets a ``CachePlan`` — its exact key and, in semantic mode, its context
fingerprint and latest user text (``cache.exact_key``) — or a 400 naming a header with
a wrong value (``cache.policy``).

``answered`` asks the cache actor (the ingress owns the timeout; a full inbox, a timeout
or a closed actor are a miss) and, on a hit, writes the stored answer as a live one in
the client's format (``cached_answer.replay_answer``: fresh ids, the full event grammar
for a stream) with ``x-switchyard-cache: hit-exact|hit-semantic`` (and
``x-switchyard-cache-similarity``), then records ``cache.hit`` and a
``response.completed`` with no attempt — so the meter settles the request's hold at
zero — carrying what the answer cost when it was made (``cost_saved_usd``). A miss
records ``cache.miss`` and the request goes on to the router; its response says
``x-switchyard-cache: miss`` (``actors.relay``).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog
import trio

from actors.ingress_trail import failed_event
from actors.relay import JSON_HEADER, SSE_HEADER, request_id_header
from actors.request_faults import emit
from cache.exact_key import Scope, exact_key, semantic_context
from cache.policy import (
    OFF,
    CacheHeaderInvalid,
    CachePolicies,
    RequestMode,
    request_mode,
)
from config.model import GatewayConfig, VirtualKeyConfig
from http11.server import ClientGone, HttpRequest, ReplyWriter
from messages.cache import (
    EXACT,
    SEMANTIC,
    CacheFound,
    CacheInbox,
    CacheLookup,
    CachePlan,
    CacheReply,
)
from messages.chat import ClientFormat
from messages.commands import ClientRequest
from messages.errors import ErrorInfo, ErrorKind
from messages.events import CacheHit, CacheMiss, ResponseCompleted, TrailEvent
from providers.client_formats.cached_answer import replay_answer
from providers.client_formats.chat_format import chat_include_usage
from providers.client_formats.inbound import RequestRejected

log = structlog.get_logger("switchyard.cache")

EXACT_LOOKUP_TIMEOUT_S = 0.5
SEMANTIC_LOOKUP_TIMEOUT_S = 2.0
TIMING_SAMPLES = 4096
CACHE_PROVIDER = "cache"  # the provider a hit's response.completed names
_PREFIX = "x-switchyard-cache"
_CACHED_FORMATS = frozenset({ClientFormat.RESPONSES, ClientFormat.CHAT})


class CacheGate:
    def __init__(
        self,
        config: GatewayConfig,
        cache: trio.MemorySendChannel[CacheInbox] | None,
        audit: trio.MemorySendChannel[TrailEvent],
    ) -> None:
        self._policies = CachePolicies(config.cache)
        self._cache = cache
        self._audit = audit
        self.full_inbox = 0
        self._timings: dict[str, deque[float]] = {
            layer: deque(maxlen=TIMING_SAMPLES) for layer in (EXACT, SEMANTIC, "miss")
        }

    def statistics(self) -> LookupStatistics:
        """Lookup round trips as the ingress waits for them (the last ``TIMING_SAMPLES``
        per outcome: an exact hit, a semantic hit, a miss), in milliseconds."""
        return LookupStatistics(
            full_inbox=self.full_inbox,
            **{f"{name}_ms": _spread(samples) for name, samples in self._timings.items()},
        )

    def reload(self, config: GatewayConfig) -> None:
        self._policies = CachePolicies(config.cache)

    def plan(
        self, request: HttpRequest, body: Mapping[str, Any], key: VirtualKeyConfig, fmt: str
    ) -> CachePlan | None:
        """This request's plan; ``RequestRejected`` (400) for a header with a wrong value.
        Anthropic Messages requests are not cached (yet): no replay encoder for them."""
        if fmt not in _CACHED_FORMATS:
            return None
        settings = self._policies.settings(account=key.account, team=key.team, key_id=key.id)
        headers = {name: value for name, value in request.headers if name.startswith(_PREFIX)}
        if settings is OFF and not headers:
            return None
        try:
            mode = request_mode(
                settings,
                mode=headers.get("x-switchyard-cache"),
                ttl=headers.get("x-switchyard-cache-ttl"),
                threshold=headers.get("x-switchyard-cache-threshold"),
            )
        except CacheHeaderInvalid as exc:
            error = ErrorInfo(
                kind=ErrorKind.BAD_REQUEST, status=400, message=exc.message, param=exc.header
            )
            model = body.get("model")
            raise RequestRejected(
                error,
                key_id=key.id,
                model=model if isinstance(model, str) else None,
                body_json=request.body,
            ) from None
        if mode is None or self._cache is None:
            return None
        return _plan(
            mode, Scope(account=key.account, team=key.team, customer=key.customer), fmt, body
        )

    async def answered(self, message: ClientRequest, writer: ReplyWriter) -> bool:
        """Look the request up; on a hit, answer it and return True."""
        plan = message.cache
        assert plan is not None
        started = time.perf_counter()
        reply = await self._lookup(message, plan)
        outcome = reply.layer if isinstance(reply, CacheFound) else "miss"
        self._timings[outcome].append((time.perf_counter() - started) * 1000)
        if not isinstance(reply, CacheFound):
            emit(
                self._audit,
                CacheMiss(
                    request_id=message.request_id, at=time.time(), mode=plan.mode, reason=reply
                ),
            )
            return False
        await self._serve(message, reply, writer)
        return True

    async def _lookup(self, message: ClientRequest, plan: CachePlan) -> CacheFound | str:
        if self._cache is None:
            return "the cache is not running"
        send, receive = trio.open_memory_channel[CacheReply](1)
        lookup = CacheLookup(
            request_id=message.request_id, plan=plan, at=time.time(), reply_to=send
        )
        async with send, receive:
            try:
                self._cache.send_nowait(lookup)
            except trio.WouldBlock:
                self.full_inbox += 1
                return "the cache actor is busy"
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                return "the cache is not running"
            timeout = SEMANTIC_LOOKUP_TIMEOUT_S if plan.mode == SEMANTIC else EXACT_LOOKUP_TIMEOUT_S
            with trio.move_on_after(timeout):
                try:
                    reply = await receive.receive()
                except trio.EndOfChannel:
                    return "the cache is not running"
                return reply if isinstance(reply, CacheFound) else reply.reason
            return f"the lookup took over {timeout:g}s"

    async def _serve(self, message: ClientRequest, found: CacheFound, writer: ReplyWriter) -> None:
        body = _replay(message, found, streaming=message.stream)
        record = _replay(message, found, streaming=False) if message.stream else body
        content_type = SSE_HEADER if message.stream else JSON_HEADER
        headers = [content_type, *request_id_header(message.request_id)]
        headers.append(("cache-control", "no-cache"))
        headers.append(("x-switchyard-provider", CACHE_PROVIDER))
        headers.append(("x-switchyard-cache", f"hit-{found.layer}"))
        if found.similarity is not None:
            headers.append(("x-switchyard-cache-similarity", f"{found.similarity:.4f}"))
        emit(self._audit, _hit_event(message, found))
        try:
            if message.stream:
                await writer.start_stream(200, headers, body, last=True)
            else:
                await writer.send_response(200, headers, body)
        except ClientGone:
            error = ErrorInfo(kind=ErrorKind.CLIENT_CLOSED, status=499, message="client left")
            emit(self._audit, failed_event(message, error, after_first_byte=True))
            raise
        emit(self._audit, _completed(message, found, record))


def _replay(message: ClientRequest, found: CacheFound, *, streaming: bool) -> bytes:
    responses = message.client_format is ClientFormat.RESPONSES
    suffix = message.request_id.removeprefix("req_")
    return replay_answer(
        found.answer,
        client_format=str(message.client_format),
        streaming=streaming,
        response_id=("resp_" if responses else "chatcmpl-") + suffix,
        model=message.model,
        created_at=int(time.time()),
        include_usage=chat_include_usage(message.body),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class LookupStatistics:
    full_inbox: int
    exact_ms: dict[str, float | int]
    semantic_ms: dict[str, float | int]
    miss_ms: dict[str, float | int]


def _spread(samples: deque[float]) -> dict[str, float | int]:
    ordered = sorted(samples)
    if not ordered:
        return {"count": 0}
    last = len(ordered) - 1
    p50, p99 = ordered[min(last, len(ordered) // 2)], ordered[min(last, int(0.99 * len(ordered)))]
    return {
        "count": len(ordered),
        "p50": round(p50, 3),
        "p99": round(p99, 3),
        "max": round(ordered[-1], 3),
    }


def _plan(mode: RequestMode, scope: Scope, fmt: str, body: Mapping[str, Any]) -> CachePlan | None:
    try:
        key = exact_key(fmt, scope, body)
        context = semantic_context(fmt, scope, body) if mode.mode == SEMANTIC else None
    except TypeError:  # nested deeper than orjson writes: not cacheable (and not routable)
        return None
    fingerprint, text = None, ""
    if context is not None and (mode.semantic_with_tool_results or not context.tool_results):
        fingerprint, text = context.fingerprint, context.latest_user_text
    return CachePlan(
        mode=mode.mode,
        scope=scope.label(),
        key=key,
        ttl_s=mode.ttl_s,
        threshold=mode.threshold,
        fingerprint=fingerprint if text else None,
        latest_user_text=text,
    )


def _hit_event(message: ClientRequest, found: CacheFound) -> CacheHit:
    return CacheHit(
        request_id=message.request_id,
        at=time.time(),
        layer=found.layer,
        similarity=found.similarity,
        origin_request_id=found.origin_request_id,
        cost_saved_usd=found.cost_saved_usd,
    )


def _completed(message: ClientRequest, found: CacheFound, record: bytes) -> ResponseCompleted:
    return ResponseCompleted(
        request_id=message.request_id,
        at=time.time(),
        status=200,
        latency_ms=(trio.current_time() - message.started) * 1000,
        provider_id=CACHE_PROVIDER,
        model=message.model,
        attempts=0,
        usage=None,
        response=record,
        cost_saved_usd=found.cost_saved_usd,
    )


__all__ = ["CACHE_PROVIDER", "CacheGate"]
