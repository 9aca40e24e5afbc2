"""The scriptable fake provider: a real HTTP server speaking each provider's wire format.

Tests (and ``switchyard demo``) start one in a nursery, point the gateway at
``server.base_url`` and script what the "provider" answers::

    server = await open_fake_provider(nursery)
    server.enqueue(Reply(items=(Text(text="hi"),)), Fault(status=429, retry_after="1"))
    ...
    assert server.requests[0].header("authorization") == "Bearer sk-test"

Each API request takes the next scripted ``Turn`` from a FIFO queue; when the queue
is empty it uses ``fallback`` if set, else the default behaviour of
``fakes.default_reply``. Every API request is recorded in ``requests``.

The same control over HTTP, for a fake in another process:
``POST /_fake/script`` (a JSON list of turns in the form of ``fakes.script``, or
``{"turns": [...], "fallback": turn|null}``), ``GET /_fake/requests``,
``POST /_fake/reset``. ``GET …/models`` lists ``models``.
"""

from __future__ import annotations

import secrets
import ssl
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import orjson
import trio

from fakes._http import HttpExchange, HttpRequest, open_listeners, serve_listeners
from fakes.anthropic_wire import ANTHROPIC
from fakes.cohere_wire import COHERE
from fakes.default_reply import default_reply
from fakes.gemini_wire import GEMINI
from fakes.mistral_wire import MISTRAL
from fakes.openai_wire import CHAT, RESPONSES
from fakes.output_cap import billed_at_max
from fakes.prompt_cache import PromptCache
from fakes.script import (
    FakeUsage,
    Fault,
    Reply,
    Scriptable,
    ScriptError,
    Turn,
    as_turn,
    turn_from_json,
    turn_to_json,
    usage_of,
)
from fakes.spoil import spoil_body, spoil_events
from fakes.wire import JsonBody, PrefixCached, WireContext, WireFormat

# path suffix routing: the first format whose ``matches`` accepts the request serves it
FORMATS: Final[tuple[WireFormat, ...]] = (RESPONSES, MISTRAL, CHAT, ANTHROPIC, GEMINI, COHERE)
CONTROL_PREFIX = "/_fake/"
JSON_HEADERS = [(b"content-type", b"application/json")]
SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
]


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedRequest:
    """An API request as the fake saw it (``path`` with its query), and the turn that
    answered it (``None`` for ``GET …/models`` and unparsable bodies)."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: object
    raw_body: bytes
    received_at: float
    turn: Turn | None
    scripted: bool

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def to_json(self) -> dict[str, object]:
        return {
            "method": self.method,
            "path": self.path,
            "headers": [list(pair) for pair in self.headers],
            "body": self.body,
            "received_at": self.received_at,
            "turn": None if self.turn is None else turn_to_json(self.turn),
            "scripted": self.scripted,
        }


class FakeProviderServer:
    """A scriptable fake of the providers' HTTP APIs (see the module docstring)."""

    def __init__(self, *, models: Sequence[str] = ("gpt-5.5", "gpt-4o-mini")) -> None:
        self.models = tuple(models)
        self.requests: list[RecordedRequest] = []
        self.fallback: Turn | None = None
        self.bill_max_output: int | None = None
        """Set: every reply bills the output maximum it was sent, or this many tokens
        when it was sent none (``fakes.output_cap``)."""
        self.prompt_cache = PromptCache()  # marked prompt prefixes seen (formats that cache)
        self._queue: deque[Turn] = deque()
        self._port: int | None = None
        self._scheme = "http"
        self._recorded = trio.Event()

    # --- scripting --------------------------------------------------------------------

    def enqueue(self, *turns: Scriptable) -> None:
        """Append turns (a ``Reply`` or ``Fault`` alone is a turn) to the FIFO queue."""
        self._queue.extend(as_turn(turn) for turn in turns)

    def reset(self) -> None:
        """Forget scripted turns, the fallback, the recorded requests and the prompt cache."""
        self._queue.clear()
        self.requests.clear()
        self.fallback = None
        self.bill_max_output = None
        self.prompt_cache.clear()

    @property
    def pending(self) -> int:
        """How many scripted turns are still queued."""
        return len(self._queue)

    async def wait_requests(self, count: int) -> None:
        """Wait until at least ``count`` API requests have been recorded."""
        while len(self.requests) < count:
            await self._recorded.wait()

    # --- serving ----------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the fake provider is not serving yet")
        return self._port

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT`` (``https`` when serving TLS)."""
        return f"{self._scheme}://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, ``<origin>/v1``."""
        return f"{self.origin}/v1"

    async def serve(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ssl_context: ssl.SSLContext | None = None,
        task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Listen and answer until cancelled; ``task_status.started(port)`` once bound."""
        listeners, self._port = await open_listeners(host, port, ssl_context)
        self._scheme = "http" if ssl_context is None else "https"
        task_status.started(self._port)
        await serve_listeners(listeners, self._answer)

    async def _answer(self, request: HttpRequest, exchange: HttpExchange) -> None:
        path = request.path
        if path.startswith(CONTROL_PREFIX):
            await self._answer_control(request, exchange)
            return
        wire = next((f for f in FORMATS if f.matches(request.method, path)), None)
        if wire is not None:
            await self._answer_api(wire, request, exchange)
        elif request.method == "GET" and path.endswith("/models"):
            self._record(request, body=None, turn=None, scripted=False)
            await exchange.send_complete(200, self._models_body(), JSON_HEADERS)
        else:
            error = {
                "message": f"Invalid URL ({request.method} {path})",
                "type": "invalid_request_error",
            }
            body = orjson.dumps({"error": {**error, "param": None, "code": None}})
            await exchange.send_complete(404, body, JSON_HEADERS)

    def _models_body(self) -> bytes:
        data = [
            {"id": model, "object": "model", "created": 1700000000, "owned_by": "switchyard-fake"}
            for model in self.models
        ]
        return orjson.dumps({"object": "list", "data": data})

    def _record(
        self, request: HttpRequest, *, body: object, turn: Turn | None, scripted: bool
    ) -> None:
        self.requests.append(
            RecordedRequest(
                method=request.method,
                path=request.target,
                headers=request.headers,
                body=body,
                raw_body=request.body,
                received_at=request.received_at,
                turn=turn,
                scripted=scripted,
            )
        )
        self._recorded.set()
        self._recorded = trio.Event()

    def _next_turn(self) -> tuple[Turn | None, bool]:
        if self._queue:
            return self._queue.popleft(), True
        return self.fallback, False

    async def _answer_api(
        self, wire: WireFormat, request: HttpRequest, exchange: HttpExchange
    ) -> None:
        try:
            body = orjson.loads(request.body)
        except orjson.JSONDecodeError:
            body = None
        if not isinstance(body, dict):
            self._record(request, body=body, turn=None, scripted=False)
            unparsable = Fault(error_message="We could not parse the JSON body of your request.")
            await _send_error(exchange, 400, unparsable, wire)
            return
        turn, scripted = self._next_turn()
        reply = turn.reply if turn is not None else None
        fault = turn.fault if turn is not None else None
        if reply is None and (fault is None or fault.status is None):
            reply = default_reply(wire.conversation(body))
        if reply is not None and self.bill_max_output is not None:
            cap, size = self.bill_max_output, len(request.body)
            reply = billed_at_max(reply, body, default=cap, request_bytes=size)
        answered = Turn(reply=reply, fault=fault)
        self._record(request, body=body, turn=answered, scripted=scripted)
        usage = FakeUsage() if reply is None else self._usage(wire, request, body, reply)
        await _play(wire, request, body, answered, exchange, usage)

    def _usage(
        self, wire: WireFormat, request: HttpRequest, body: JsonBody, reply: Reply
    ) -> FakeUsage:
        """The reply's usage; a computed one is charged to the format's prompt cache."""
        usage = usage_of(reply, request_bytes=len(request.body))
        if reply.usage is not None or not isinstance(wire, PrefixCached):
            return usage
        scope = (wire.cache_scope(request.headers), wire.requested_model(request.path, body))
        return self.prompt_cache.charged(usage, body, scope=scope, now=trio.current_time())

    async def _answer_control(self, request: HttpRequest, exchange: HttpExchange) -> None:
        route = (request.method, request.path.removeprefix(CONTROL_PREFIX))
        if route == ("GET", "requests"):
            body = orjson.dumps([recorded.to_json() for recorded in self.requests])
            await exchange.send_complete(200, body, JSON_HEADERS)
        elif route == ("POST", "reset"):
            self.reset()
            await exchange.send_complete(200, b'{"ok":true}', JSON_HEADERS)
        elif route == ("POST", "script"):
            await self._script_over_http(request, exchange)
        else:
            await _send_error(exchange, 404, Fault(error_message=f"no control route {route}"))

    async def _script_over_http(self, request: HttpRequest, exchange: HttpExchange) -> None:
        try:
            doc = orjson.loads(request.body)
            if isinstance(doc, list):
                turns, fallback = [turn_from_json(turn) for turn in doc], self.fallback
            elif isinstance(doc, dict):
                turns = [turn_from_json(turn) for turn in doc.get("turns", [])]
                fallback = None if doc.get("fallback") is None else turn_from_json(doc["fallback"])
            else:
                raise ScriptError("the script must be a list of turns or an object")
        except (orjson.JSONDecodeError, ScriptError, TypeError) as exc:
            await _send_error(exchange, 400, Fault(error_message=f"bad script: {exc}"))
            return
        self.enqueue(*turns)
        self.fallback = fallback
        await exchange.send_complete(200, orjson.dumps({"pending": self.pending}), JSON_HEADERS)


async def open_fake_provider(
    nursery: trio.Nursery, *, ssl_context: ssl.SSLContext | None = None
) -> FakeProviderServer:
    """Start a ``FakeProviderServer`` on a free 127.0.0.1 port in ``nursery``."""
    server = FakeProviderServer()
    await nursery.start(
        lambda task_status: server.serve(ssl_context=ssl_context, task_status=task_status)
    )
    return server


# --- playing one turn -------------------------------------------------------------------


async def _send_error(
    exchange: HttpExchange, status: int, fault: Fault, wire: WireFormat = RESPONSES
) -> None:
    """An error answer in ``wire``'s error format, with ``Retry-After`` when the fault has one."""
    headers = [*JSON_HEADERS, (b"x-request-id", f"req_{secrets.token_hex(12)}".encode())]
    if fault.retry_after is not None:
        headers.append((b"retry-after", fault.retry_after.encode()))
    await exchange.send_complete(status, wire.error_body(status, fault), headers)


def _context(
    wire: WireFormat, request: HttpRequest, body: JsonBody, usage: FakeUsage
) -> WireContext:
    return WireContext(
        model=wire.requested_model(request.path, body),
        token=secrets.token_hex(12),
        created=int(request.received_at),
        usage=usage,
        request=body,
    )


async def _play(
    wire: WireFormat,
    request: HttpRequest,
    body: JsonBody,
    turn: Turn,
    exchange: HttpExchange,
    usage: FakeUsage,
) -> None:
    """Answer with ``turn``: its faults first, then its reply streamed or whole."""
    fault = turn.fault or Fault()
    if fault.hang_before_headers_s > 0:
        await trio.sleep(fault.hang_before_headers_s)
    if fault.reset_before_response or fault.close_before_response:
        await exchange.abandon(reset=fault.reset_before_response)
        return
    if fault.status is not None:
        await _send_error(exchange, fault.status, fault, wire)
        return
    assert turn.reply is not None
    ctx = _context(wire, request, body, usage)
    request_id = [(b"x-request-id", f"req_{ctx.token}".encode())]
    if wire.wants_stream(request.path, body):
        events = wire.stream_events(turn.reply, ctx, failure=fault.failed_event)
        if _spoils(fault):
            events = spoil_events(
                events,
                garbage=fault.garbage,
                garbage_event=fault.garbage_event,
                usage_value=fault.usage_value,
                size=fault.oversize_bytes,
            )
        await exchange.send_head(200, SSE_HEADERS + request_id)
        await _send_events(exchange, events, fault)
        return
    answer = wire.complete_answer(turn.reply, ctx, failure=fault.failed_event)
    payload = answer.body
    if _spoils(fault):
        payload = spoil_body(
            payload, garbage=fault.garbage, usage_value=fault.usage_value, size=fault.oversize_bytes
        )
    await _send_whole(exchange, answer.status, payload, JSON_HEADERS + request_id, fault)


def _spoils(fault: Fault) -> bool:
    return bool(fault.garbage or fault.usage_value or fault.oversize_bytes)


async def _send_events(exchange: HttpExchange, events: Sequence[bytes], fault: Fault) -> None:
    """Send events one write each, honouring the event-count faults."""
    for sent, event in enumerate(events):
        if sent == fault.cut_after_events:
            await exchange.abandon()
            return
        if sent == fault.hang_after_events:
            await exchange.stall()
            return
        if sent and fault.delay_between_events_s > 0:
            await trio.sleep(fault.delay_between_events_s)
        await exchange.send_body(event)
    await exchange.finish()


async def _send_whole(
    exchange: HttpExchange,
    status: int,
    body: bytes,
    headers: list[tuple[bytes, bytes]],
    fault: Fault,
) -> None:
    """A complete answer; its body counts as one event for the event-count faults."""
    if fault.cut_after_events == 0 or fault.hang_after_events == 0:
        length = (b"content-length", str(len(body)).encode())
        await exchange.send_head(status, [*headers, length])
        if fault.cut_after_events == 0:
            await exchange.abandon()
        else:
            await exchange.stall()
        return
    await exchange.send_complete(status, body, headers)
