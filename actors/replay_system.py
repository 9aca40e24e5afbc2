"""The gateway's own actors, in-process, for one replay run (``switchyard replay``).

The same ingress, router, provider worker, audit logger and budget accountant as
``actors.system`` runs for live traffic — same parsing, translation, routing, retries and
trail — wired without an HTTP server: each logged request enters the ingress as the
request it was (its endpoint, its body byte for byte, its session and thread headers)
and its answer is written to an in-memory connection through the real response writer.

What differs from live traffic, and why:

- the config is the replay's (``replay.pinning.replay_config``): the other mix, a key
  per account made for this run, no live budgets, no session cap;
- the ingress tags each ``request.received`` with the run and the original request
  (``replay_run_id``, ``original_request_id``), from a header only this ingress reads
  (``REPLAY_OF``; the live ingress has no tagger, so no client can tag a request);
- the accountant knows one budget only, the run's ``--max-cost`` on the run's team, and
  writes no counters: the reservations hold the cap under concurrency, and live budgets
  never see a replay;
- a meter that adds up what the run spends, for the progress bar.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import orjson
import trio
from sqlalchemy.engine import Engine

from actors.audit import AuditLogger
from actors.budget import Accountant, BudgetBoard
from actors.budget_wiring import prices_for
from actors.inboxes import Inboxes
from actors.ingress import Ingress, TagReceived
from actors.provider_worker import ProviderWorker
from actors.reservation import Reservations
from actors.router import Router
from actors.supervisor import supervised
from actors.system import open_inboxes, total_timeout
from actors.trail_writer import TrailWriter
from budgets.metering import Meter
from budgets.pricing import Pricer
from config.model import GatewayConfig
from http11.client import UpstreamPool
from http11.server import HttpRequest, ResponseWriter
from messages.budget import BudgetLevel, BudgetRule, Settle
from messages.events import RequestReceived, TrailEvent
from replay.pinning import key_for, replay_team
from replay.selection import ItemRef, ReplayItem
from storage.database import ensure_migrated, make_engine
from storage.replay_store import load_item
from storage.sql import SqlRecorder

REPLAY_OF = "x-switchyard-replay-of"
CAPTURE_MAX_BYTES = 65_536
"""Of each answer only its head and first bytes are kept (the trail has the whole)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayOutcome:
    """How one re-sent request ended, as its client would have seen it."""

    status: int
    refusal: str | None = None  # the run's cap refused it: "budget_exceeded" | "model_unpriced"
    gone: bool = False  # the trail no longer holds its body: not sent


class _RunMeter(Meter):
    """The audit logger's meter, adding up what the run's requests cost as they settle."""

    def __init__(self, pricer: Pricer) -> None:
        super().__init__(pricer)
        self.spent_usd = 0.0
        self.settled = 0  # terminal events priced (at least one per request sent)

    def observe(self, event: TrailEvent) -> tuple[TrailEvent, Settle | None]:
        priced, settle = super().observe(event)
        if settle is not None:
            self.spent_usd += settle.cost_usd
            self.settled += 1
        return priced, settle


class ReplayGateway:
    """Sends logged requests through the in-process actors (``replay_gateway``)."""

    def __init__(
        self, ingress: Ingress, config: GatewayConfig, meter: _RunMeter, engine: Engine
    ) -> None:
        self._ingress = ingress
        self._config = config
        self._meter = meter
        self._engine = engine

    @property
    def spent_usd(self) -> float:
        """What this process's replays cost so far (priced attempts)."""
        return self._meter.spent_usd

    @property
    def settled(self) -> int:
        """Terminal events settled with the accountant so far."""
        return self._meter.settled

    async def send(self, ref: ItemRef) -> ReplayOutcome:
        """``ref``'s logged request, read from the trail and sent through the ingress."""
        item = await trio.to_thread.run_sync(load_item, self._engine, ref)
        if item is None:
            return ReplayOutcome(status=0, gone=True)
        return await self._send(item)

    async def _send(self, item: ReplayItem) -> ReplayOutcome:
        key = key_for(self._config, item.account_id)
        headers = [("authorization", f"Bearer {key.secret}"), (REPLAY_OF, item.original_request_id)]
        for name, value in (
            ("session-id", item.session_id),
            ("thread-id", item.thread_id),
            ("user-agent", item.user_agent),
        ):
            if value is not None:
                headers.append((name, value))
        request = HttpRequest(
            method="POST",
            target=item.endpoint,
            headers=tuple(headers),
            body=item.body,
            client="replay",
        )
        connection = _Capture()
        writer = ResponseWriter(connection, head_only=False, http_1_0=False, keep_alive=True)
        await self._ingress.handle(request, writer)
        return connection.outcome()


@dataclass(frozen=True, slots=True, kw_only=True)
class _Parts:
    config: GatewayConfig
    run_id: str
    pool: UpstreamPool
    board: BudgetBoard
    accountant: Accountant
    inboxes: Inboxes


@asynccontextmanager
async def replay_gateway(
    config: GatewayConfig, *, database_url: str, run_id: str, cap_usd: float | None
) -> AsyncIterator[ReplayGateway]:
    """The actors running for ``run_id`` until the block ends; then every event of the
    run is written before this returns. ``cap_usd``: what the run may still spend."""
    await trio.to_thread.run_sync(ensure_migrated, database_url)
    engine = make_engine(database_url)
    pool = UpstreamPool()
    writer = TrailWriter(recorder := SqlRecorder(engine))
    prices = prices_for(config)
    board = BudgetBoard()
    rules = () if cap_usd is None else (_cap_rule(run_id, cap_usd),)
    accountant = Accountant(prices=prices, board=board, rules={"config": rules})
    meter = _RunMeter(Pricer(prices))
    inboxes = open_inboxes()
    settle = inboxes.accountant.send.clone()
    audit = AuditLogger(recorder, meter=meter, settle=settle, writer=writer)
    parts = _Parts(
        config=config, run_id=run_id, pool=pool, board=board, accountant=accountant, inboxes=inboxes
    )
    try:
        async with trio.open_nursery() as root:
            await root.start(audit.run, inboxes.audit.receive)
            async with inboxes.closing_senders(), _actors(parts) as ingress:
                yield ReplayGateway(ingress, config, meter, engine)
    finally:
        with trio.CancelScope(shield=True):
            await pool.aclose()
        engine.dispose()


@asynccontextmanager
async def _actors(parts: _Parts) -> AsyncIterator[Ingress]:
    """The accountant, the provider worker and the router running; the ingress to use."""
    inboxes, board, config = parts.inboxes, parts.board, parts.config
    audit, router_inbox = inboxes.audit.send, inboxes.router.send
    async with (
        audit.clone() as router_audit,
        audit.clone() as worker_audit,
        audit.clone() as ingress_audit,
        router_inbox.clone() as worker_router,
        router_inbox.clone() as ingress_router,
        inboxes.workers.send.clone() as router_workers,
        inboxes.accountant.send.clone() as ingress_accountant,
        inboxes.workers.receive,
        inboxes.router.receive,
        inboxes.accountant.receive,
        trio.open_nursery() as actors,
    ):
        accountant_run = parts.accountant.run
        await actors.start(
            supervised, "budget_accountant", accountant_run, inboxes.accountant.receive
        )
        worker = ProviderWorker(pool=parts.pool, audit=worker_audit, router=worker_router)
        checks = (board.provider_check,)
        router = Router(config, workers=router_workers, audit=router_audit, checks=checks)
        await actors.start(supervised, "provider_worker", worker.run, inboxes.workers.receive)
        await actors.start(supervised, "router", router.run, inboxes.router.receive)
        yield Ingress(
            config,
            router=ingress_router,
            audit=ingress_audit,
            total_timeout_s=total_timeout(config),
            reservations=Reservations(ingress_accountant, board),
            tag_received=_tagger(parts.run_id),
        )
        actors.cancel_scope.cancel()


def _cap_rule(run_id: str, cap_usd: float) -> BudgetRule:
    return BudgetRule(
        level=str(BudgetLevel.TEAM),
        scope_id=replay_team(run_id),
        period="total",
        limit_usd=cap_usd,
        source="replay",
    )


def _tagger(run_id: str) -> TagReceived:
    def tag(event: RequestReceived, request: HttpRequest) -> RequestReceived:
        original = request.header(REPLAY_OF)
        return dataclasses.replace(event, replay_run_id=run_id, original_request_id=original)

    return tag


class _State:
    accepting = True

    def date_line(self) -> str:
        return ""


class _Capture:
    """An in-memory connection: keeps the answer's status and its first bytes."""

    def __init__(self) -> None:
        self.state = _State()
        self.broken = False
        self._data = bytearray()

    async def write(self, data: bytes) -> None:
        if len(self._data) < CAPTURE_MAX_BYTES:
            self._data += data[: CAPTURE_MAX_BYTES - len(self._data)]

    def outcome(self) -> ReplayOutcome:
        head, _, body = bytes(self._data).partition(b"\r\n\r\n")
        try:
            status = int(head.split(b" ", 2)[1])
        except (IndexError, ValueError):
            status = 0  # nothing was answered (the run was cut)
        refusal = None
        if status == 402:
            refusal = _error_code(body) or "budget_exceeded"
        return ReplayOutcome(status=status, refusal=refusal)


def _error_code(body: bytes) -> str | None:
    try:
        code = orjson.loads(body)["error"]["code"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    return code if isinstance(code, str) else None


__all__ = ["REPLAY_OF", "ReplayGateway", "ReplayOutcome", "replay_gateway"]
