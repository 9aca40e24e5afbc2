"""The ingress actor: HTTP in, one parsed and authenticated request message out, and the
answer relayed back to the socket chunk by chunk as the provider worker sends it.

Per request: the key resolved from the head, before the body is read (``check_head``;
no, unknown, revoked or expired key → 401, counted and summarised by
``actors.refusals``), one JSON parse, ``request.received`` to the audit logger, the
session cap (a Codex ``session-id`` over its requests per minute → 429,
``budgets.session_caps``), a budget reservation if a budget covers the key (402 / 429;
settled later by the audit logger's meter), a ``RouteRequest`` with a fresh reply
channel to the router (``send_nowait``: a full inbox sheds load with a 503, never an
unbounded queue), then the relay (``actors.relay``).
Errors are in the client's shape (OpenAI's, or Anthropic's: ``actors.client_headers``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import structlog
import trio

from actors.admin import admin_refusal
from actors.cache_gate import CacheGate
from actors.client_headers import (
    forwarded_headers,
    header_in,
    presented_key,
    session_id,
)
from actors.client_routes import ENDPOINTS as _ENDPOINTS
from actors.client_routes import KEYED as _KEYED
from actors.client_routes import MODELS as _MODELS
from actors.count_tokens import COUNT_TOKENS_PATHS, count_tokens
from actors.health import LIVENESS, HealthReport
from actors.ingress_trail import (
    RejectedAt,
    TagReceived,
    failed_event,
    received_event,
    rejected_events,
    tagged,
)
from actors.model_listing import serve_models
from actors.refusals import Refusals
from actors.relay import (
    JSON_HEADER,
    WORKER_LOST,
    WorkerLost,
    message_failure,
    relay,
    request_id_header,
    send_error,
    send_refusal,
)
from actors.request_body import decoded_request
from actors.request_faults import emit, internal_error, parse_guarded
from actors.reservation import Reservations
from actors.responses_socket import is_upgrade_request, serve_responses_socket
from budgets.keys import KeyDirectory, KeyLookup, StoredKey
from budgets.session_caps import SessionCaps
from config.model import GatewayConfig, VirtualKeyConfig
from http11.server import (
    ClientGone,
    EarlyResponse,
    HttpHead,
    HttpRequest,
    ReplyWriter,
    ResponseWriter,
)
from messages.chat import ClientFormat
from messages.commands import ClientRequest, Reply
from messages.errors import ErrorInfo, ErrorKind
from messages.events import TrailEvent
from messages.ids import RequestIds
from providers.client_formats.inbound import ParsedRequest, RequestRejected
from routing.commands import RouteRequest, RouterInbox

log = structlog.get_logger("switchyard.ingress")

REPLY_BUFFER = 32
"""Chunks a provider worker may run ahead of a slow client before it waits."""

DEADLINE_GRACE_S = 5.0
"""How long past its deadline the ingress waits for a worker before giving up on it."""


class Ingress:
    def __init__(
        self,
        config: GatewayConfig,
        *,
        router: trio.MemorySendChannel[RouterInbox],
        audit: trio.MemorySendChannel[TrailEvent],
        total_timeout_s: float,
        reservations: Reservations | None = None,
        stored_keys: Sequence[StoredKey] = (),
        tag_received: TagReceived | None = None,
        cache: CacheGate | None = None,
    ) -> None:
        """``tag_received`` marks each request's ``request.received`` (replay runs only)."""
        self._config = config
        self._tag_received = tag_received
        self._cache = cache or CacheGate(config, None, audit)
        self._ids = RequestIds()
        self._keys = KeyDirectory(config.virtual_keys, stored_keys)
        self._reservations = reservations or Reservations(None)
        self._sessions = SessionCaps()
        self._router = router
        self._audit = audit
        self._total_timeout_s = total_timeout_s
        self._inflight = 0
        self._max_inflight = config.server.max_inflight
        self._audit_high_water = max(1, int(audit.statistics().max_buffer_size * 0.8))
        self._refusals = Refusals(self._ids, audit, self._audit_high_water)
        self._head_lookup: tuple[str | None, KeyDirectory, KeyLookup] = (None, self._keys, _NONE)
        self.health = HealthReport()
        self.health.register("session_caps", self._sessions.statistics)
        self.health.register("ingress", self._refusals.statistics)

    @property
    def inflight(self) -> int:
        return self._inflight

    def reload(self, config: GatewayConfig, *, total_timeout_s: float) -> None:
        """Use ``config`` for every request parsed from now on; those already parsed keep
        the config (and deadline) they started with."""
        self._config = config
        self._cache.reload(config)
        self._keys = self._keys.with_config_keys(config.virtual_keys)
        self._total_timeout_s = total_timeout_s
        self._max_inflight = config.server.max_inflight

    def use_stored_keys(self, keys: Sequence[StoredKey]) -> None:
        """The virtual keys stored in SQL, as the store watcher last read them."""
        self._keys = self._keys.with_stored(keys)

    def check_head(self, head: HttpHead, client: str) -> EarlyResponse | None:
        """The HTTP server's head check: a 401 for a model or inference request without
        a valid key, answered before its body is read; None lets the request go on."""
        path = head.target.partition("?")[0]
        client_format = _KEYED.get(path)
        if client_format is None and path not in _MODELS:
            return None
        authorization = presented_key(header_in(head.headers), client_format)
        lookup = self._keys.resolve(authorization, now=time.time())
        # the handler gets the very same header string once the body is in: reuse the lookup
        self._head_lookup = (authorization, self._keys, lookup)
        if lookup.key is not None:
            return None
        fmt = None if client_format is None else str(client_format)
        return self._refusals.unauthenticated(head, path, fmt, lookup)

    def _resolve(self, request: HttpRequest, fmt: ClientFormat | None = None) -> KeyLookup:
        authorization = presented_key(request.header, fmt)
        cached = self._head_lookup
        if cached[0] == authorization and cached[1] is self._keys and authorization:
            return cached[2]
        return self._keys.resolve(authorization, now=time.time())

    async def handle(self, request: HttpRequest, writer: ResponseWriter) -> None:
        path = request.target.partition("?")[0]
        client_format = _ENDPOINTS.get(path)
        if client_format is not None:
            if request.method == "POST":
                await self._handle_inference(request, writer, client_format, path)
            elif client_format is ClientFormat.RESPONSES and is_upgrade_request(request.headers):
                await serve_responses_socket(
                    request, writer, self._socket_turn, self._config.server
                )
            else:
                await send_error(
                    writer, _error(ErrorKind.BAD_REQUEST, 405, "use POST"), (), client_format
                )
        elif path in COUNT_TOKENS_PATHS and request.method == "POST":
            lookup = self._resolve(request, ClientFormat.ANTHROPIC)
            await count_tokens(request, writer, lookup, self._ids.next())
        elif path in _MODELS and request.method == "GET":
            await serve_models(request, writer, self._config, self._resolve(request).key)
        elif path == "/healthz":
            await self._handle_health(request, writer)
        else:
            await send_error(writer, _error(ErrorKind.NOT_FOUND, 404, f"no route {path}"))

    async def _socket_turn(self, request: HttpRequest, writer: ReplyWriter) -> None:
        """One ``response.create`` of a Responses WebSocket, served as its POST would be."""
        self._head_lookup = (None, self._keys, _NONE)  # resolve the key now, not at upgrade
        await self._handle_inference(request, writer, ClientFormat.RESPONSES, request.target)

    async def _handle_health(self, request: HttpRequest, writer: ReplyWriter) -> None:
        """Liveness for anyone; the actors' details only with the admin key."""
        authorization, admin_key = request.header("authorization"), self._config.server.admin_key
        if authorization is None or admin_key is None:
            await writer.send_response(200, [JSON_HEADER], LIVENESS)
            return
        problem = admin_refusal(authorization, admin_key)
        if problem is not None:
            await send_error(writer, problem)
            return
        await writer.send_response(200, [JSON_HEADER], self.health.render())

    async def _handle_inference(
        self, request: HttpRequest, writer: ReplyWriter, fmt: ClientFormat, path: str
    ) -> None:
        request_id = self._ids.next()
        started = trio.current_time()
        received_at = time.time()
        lookup = self._resolve(request, fmt)
        key = lookup.key
        try:
            if lookup.problem in ("revoked", "expired"):
                error, key_id = lookup.error(), lookup.key_id
                raise RequestRejected(error, key_id=key_id, model=None, body_json=b"null")
            request = decoded_request(request, self._config.server, key)
            parsed = parse_guarded(request.body, fmt, self._config, key, request_id)
            plan = None if key is None else self._cache.plan(request, parsed.body, key, fmt)
        except RequestRejected as rejected:
            self._reject(request, request_id, fmt, path, received_at, started, rejected)
            await send_error(writer, rejected.error, request_id_header(request_id), fmt)
            return
        assert key is not None  # parse_request rejects a missing key
        message = ClientRequest(
            request_id=request_id,
            received_at=received_at,
            started=started,
            client_format=fmt,
            endpoint=path,
            model=parsed.model,
            stream=parsed.stream,
            body=parsed.body,
            virtual_key_id=key.id,
            account_id=key.account,
            session_id=session_id(request.header, fmt),
            pinned_provider=parsed.pinned_provider,
            pinned_model=parsed.pinned_model,
            forward_headers=forwarded_headers(request.header, fmt),
            cache=plan,
        )
        self._emit(tagged(self._tag_received, received_event(message, request, key), request))
        try:
            await self._admit(message, key, len(request.body), writer)
        except ClientGone:
            raise
        except Exception:
            await self._fail_internal(message, writer)

    async def _admit(
        self,
        message: ClientRequest,
        key: VirtualKeyConfig,
        body_size: int,
        writer: ReplyWriter,
    ) -> None:
        problem = (
            self._admission_problem()
            or self._session_problem(message, key)
            or await self._reservations.reserve(
                message,
                key,
                self._config,
                body_size=body_size,
                expires_at=message.received_at + self._total_timeout_s + DEADLINE_GRACE_S,
            )
        )
        if problem is not None:
            self._fail(message, problem)
            await send_refusal(writer, message, problem)
            return
        if message.cache is None or not await self._cache.answered(message, writer):
            await self._dispatch(message, writer)  # not served from the response cache

    async def _fail_internal(self, message: ClientRequest, writer: ReplyWriter) -> None:
        """Our bug met this admitted request: it fails alone, logged with its traceback,
        recorded, and answered 500 (or ended in-stream) if the client can still hear."""
        log.exception("request failed: internal error", request_id=message.request_id)
        error = internal_error(message.request_id)
        self._fail(message, error, after_first_byte=writer.started)
        try:
            if writer.started:
                await writer.send_chunk(message_failure(message, error), last=True)
            else:
                await send_error(writer, error, _ids(message), message.client_format)
        except Exception:
            # the response had ended, or the writer itself failed: nothing more to say
            log.info("internal error left unanswered", request_id=message.request_id)

    def _admission_problem(self) -> ErrorInfo | None:
        if self._inflight >= self._max_inflight:
            return _shed("too many requests in flight")
        if self._audit.statistics().current_buffer_used >= self._audit_high_water:
            return _shed("the event trail is catching up")
        return None

    def _session_problem(self, message: ClientRequest, key: VirtualKeyConfig) -> ErrorInfo | None:
        """The runaway-agent cap: requests per minute of one session of one key."""
        if message.session_id is None:
            return None
        cap = key.session_requests_per_minute
        cap = self._config.server.session_request_cap if cap is None else cap
        refusal = self._sessions.admit(
            message.virtual_key_id, message.session_id, cap=cap, now=message.started
        )
        return None if refusal is None else refusal.error()

    async def _dispatch(self, message: ClientRequest, writer: ReplyWriter) -> None:
        send, receive = trio.open_memory_channel[Reply](REPLY_BUFFER)
        deadline = message.started + self._total_timeout_s
        route = RouteRequest(request=message, reply_to=send, deadline=deadline)
        try:
            self._router.send_nowait(route)
        except trio.WouldBlock:
            send.close()
            receive.close()
            error = _shed("the router is saturated")
            self._fail(message, error)
            await send_error(writer, error, _ids(message), message.client_format)
            return
        self._inflight += 1
        try:
            async with receive:
                with trio.move_on_at(deadline + DEADLINE_GRACE_S):
                    await relay(receive, writer, message)
                    return
                await self._abandon(message, writer)
        except WorkerLost:
            # the worker ended without a final reply (it crashed): the trail says so
            self._fail(message, WORKER_LOST)
        except ClientGone:
            log.info("client gone", request_id=message.request_id)
        finally:
            self._inflight -= 1

    async def _abandon(self, message: ClientRequest, writer: ReplyWriter) -> None:
        error = _error(ErrorKind.TIMEOUT, 504, "the request outlived its deadline")
        self._fail(message, error)
        if writer.started:
            await writer.send_chunk(message_failure(message, error), last=True)
        else:
            await send_error(writer, error, _ids(message), message.client_format)

    def _reject(
        self,
        request: HttpRequest,
        request_id: str,
        fmt: ClientFormat,
        path: str,
        received_at: float,
        started: float,
        rejected: RequestRejected,
    ) -> None:
        at = RejectedAt(request_id=request_id, fmt=fmt, path=path, received_at=received_at)
        received, failed = rejected_events(request, at, started, rejected)
        self._emit(tagged(self._tag_received, received, request))
        self._emit(failed)

    def _fail(
        self, message: ClientRequest, error: ErrorInfo, *, after_first_byte: bool = False
    ) -> None:
        self._emit(failed_event(message, error, after_first_byte=after_first_byte))

    def _emit(self, event: TrailEvent) -> None:
        # The inbox is sized far above the admission high-water mark; should it ever be
        # full, the event is dropped and logged, never an exception on the request's path.
        emit(self._audit, event)


_NONE = KeyLookup(key=None, problem="missing")


def _ids(message: ClientRequest) -> tuple[tuple[str, str], ...]:
    return request_id_header(message.request_id)


def _error(kind: ErrorKind, status: int, message: str) -> ErrorInfo:
    return ErrorInfo(kind=kind, status=status, message=message)


def _shed(why: str) -> ErrorInfo:
    return ErrorInfo(
        kind=ErrorKind.SHED, status=503, message=f"gateway busy: {why}", retry_after=1.0
    )


__all__ = ["Ingress", "ParsedRequest", "TagReceived"]
