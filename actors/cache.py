"""The cache actor: owns the cached answers, answers lookups, keeps new answers.

Its inbox (bounded, opened in ``actors.system``) takes ``CacheLookup`` from the ingress
— with the request's own reply channel; the ingress owns the timeout and a full inbox
means a miss, never a wait — and ``CacheStore`` from the provider worker, sent without
waiting once an answer ended well.

- **Exact:** one dict lookup by the request's exact key (``cache.exact_key``), scope
  checked, TTL and the request's own max age honoured, LRU refreshed; answered at once.
- **Semantic** (when the exact layer missed and the request asked for it): the latest
  user text is embedded in a worker thread (``actors.cache_semantic``), the index is
  searched within the request's context fingerprint, and
  ``cache.semantic.decision.choose_candidate`` (threshold, then the salient-token guard)
  picks the entry or none. This runs in its own task, so exact lookups never wait
  behind an embedding.
- **Store:** the answer is normalised (``cached_answer.storable_answer``: only
  complete, successful answers of a known shape), priced with the audit logger's prices
  (what a hit on it saves), kept in the entry table (``cache.entries``: TTL, LRU bound)
  and in SQL through the one SQL writer (``actors.cache_persistence``).
- At start the entries are read back from SQL (the semantic index from their stored
  vectors, without the model) and the rows that expired meanwhile deleted; expired
  entries are forgotten every ``PRUNE_EVERY_S`` (their rows deleted with the next write,
  which also deletes any other expired row). A gateway without cache policies or entries
  writes nothing.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

import structlog
import trio
from sqlalchemy.engine import Engine

from actors.cache_persistence import CachePersistence, Submit
from actors.cache_semantic import SemanticLayer, vector_bytes
from budgets.pricing import Pricer, safe_cost
from cache.entries import Entry, EntryTable
from cache.policy import semantic_enabled
from cache.semantic.decision import CANDIDATES, Candidate, choose_candidate
from config.cache_policy import CacheConfig
from messages.cache import (
    EXACT,
    SEMANTIC,
    CacheFound,
    CacheInbox,
    CacheLookup,
    CacheMissed,
    CacheReply,
    CacheStore,
)
from providers.client_formats.cached_answer import storable_answer

log = structlog.get_logger("switchyard.cache")

PRUNE_EVERY_S = 60.0
FOLLOW_S = 2.0
"""Replicas: how often the others' new entries are read from SQL."""
FOLLOW_OVERLAP_S = 5.0
"""How far back each poll looks again (a write committed after a later one still shows)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CacheStatistics:
    entries: int
    semantic_entries: int
    model_loaded: bool
    model_load_s: float | None
    lookups: int
    hits_exact: int
    hits_semantic: int
    stored: int
    not_stored: int
    evictions: int
    expirations: int
    embeddings: int
    sql_writes: int


class CacheActor:
    def __init__(
        self,
        config: CacheConfig,
        *,
        persistence: CachePersistence | None = None,
        pricer: Pricer | None = None,
        semantic_at_start: bool = False,
        follow_s: float | None = None,
    ) -> None:
        self._config = config
        self._follow_s = follow_s  # replicas: poll SQL for the others' entries this often
        self._seen_until = 0.0
        self._table = EntryTable(config.max_entries)
        self._persistence = persistence
        self._pricer = pricer
        self._semantic = SemanticLayer()
        self._semantic_at_start = semantic_at_start
        self._nursery: trio.Nursery | None = None
        self._lookups = self._hits_exact = self._hits_semantic = 0
        self._stored = self._not_stored = 0

    @classmethod
    def wired(
        cls, config: CacheConfig, engine: Engine, submit: Submit, pricer: Pricer, *, follow: bool
    ) -> CacheActor:
        """The gateway's: entries in SQL through the one writer, hits priced with the
        audit logger's prices, the model loaded at start if a policy wants it; with
        ``follow`` (replicas), the other replicas' new entries read every ``FOLLOW_S``."""
        persistence = CachePersistence(engine, submit)
        semantic = semantic_enabled(config)
        return cls(
            config,
            persistence=persistence,
            pricer=pricer,
            semantic_at_start=semantic,
            follow_s=FOLLOW_S if follow else None,
        )

    def reload(self, config: CacheConfig) -> None:
        self._config = config
        self._removed(self._table.resize(config.max_entries))
        if semantic_enabled(config) and self._nursery is not None:
            self._semantic.start_loading(self._nursery)

    def statistics(self) -> CacheStatistics:
        return CacheStatistics(
            entries=len(self._table),
            semantic_entries=self._semantic.entries,
            model_loaded=self._semantic.ready,
            model_load_s=self._semantic.load_s,
            lookups=self._lookups,
            hits_exact=self._hits_exact,
            hits_semantic=self._hits_semantic,
            stored=self._stored,
            not_stored=self._not_stored,
            evictions=self._table.evictions,
            expirations=self._table.expirations,
            embeddings=self._semantic.embeddings,
            sql_writes=0 if self._persistence is None else self._persistence.writes,
        )

    async def run(
        self,
        inbox: trio.MemoryReceiveChannel[CacheInbox],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        await self._rebuild()
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            if self._semantic_at_start:
                self._semantic.start_loading(nursery)
            nursery.start_soon(self._prune_every, PRUNE_EVERY_S)
            if self._follow_s is not None:
                nursery.start_soon(self._follow_every, self._follow_s)
            task_status.started()
            async for message in inbox:
                if isinstance(message, CacheLookup):
                    self._lookup(message, nursery)
                else:
                    self._store(message, nursery)
            nursery.cancel_scope.cancel()

    # ---- lookups ----------------------------------------------------------------------

    def _lookup(self, message: CacheLookup, nursery: trio.Nursery) -> None:
        self._lookups += 1
        plan = message.plan
        entry = self._table.get(plan.key, plan.scope, now=message.at, max_age_s=plan.ttl_s)
        if entry is not None:
            self._hits_exact += 1
            _reply(message, _found(entry, EXACT, None))
        elif plan.mode != SEMANTIC or plan.fingerprint is None:
            _reply(message, CacheMissed(reason="no entry"))
        elif not self._semantic.ready:
            self._semantic.start_loading(nursery)
            _reply(message, CacheMissed(reason="the embedding model is loading"))
        else:
            nursery.start_soon(self._semantic_lookup, message)

    async def _semantic_lookup(self, message: CacheLookup) -> None:
        plan = message.plan
        assert plan.fingerprint is not None
        vector = await self._semantic.embed(plan.latest_user_text, message.request_id)
        if vector is None:
            _reply(message, CacheMissed(reason="no entry (the text is not eligible)"))
            return
        candidates = []
        for entry_id, similarity in self._semantic.search(plan.fingerprint, vector, CANDIDATES):
            entry = self._table.by_id(entry_id)
            if entry is None or entry.scope != plan.scope or entry.fingerprint != plan.fingerprint:
                continue
            if entry.expires_at <= message.at or message.at - entry.created_at > plan.ttl_s:
                continue
            candidates.append(
                Candidate(entry_id=entry_id, text=entry.user_text, similarity=similarity)
            )
        choice = choose_candidate(plan.latest_user_text, candidates, plan.threshold)
        chosen = None if choice is None else self._table.by_id(choice.entry_id)
        if choice is None or chosen is None:
            best = max((c.similarity for c in candidates), default=None)
            reason = "no entry" if best is None else f"no match (best similarity {best:.3f})"
            _reply(message, CacheMissed(reason=reason))
            return
        self._table.touch(chosen)
        self._hits_semantic += 1
        _reply(message, _found(chosen, SEMANTIC, choice.verdict.similarity))

    # ---- stores -----------------------------------------------------------------------

    def _store(self, message: CacheStore, nursery: trio.Nursery) -> None:
        answer = storable_answer(message.client_format, message.response)
        if answer is None or len(answer) > self._config.max_answer_bytes:
            self._not_stored += 1
            self._semantic.forget_vector(message.request_id)
            return
        plan = message.plan
        cost = self._cost(message)
        entry = Entry(
            key=plan.key,
            scope=plan.scope,
            model=message.model,
            answer=answer,
            origin_request_id=message.request_id,
            cost_usd=cost,
            created_at=message.at,
            expires_at=message.at + plan.ttl_s,
        )
        if plan.mode == SEMANTIC and plan.fingerprint is not None and plan.latest_user_text:
            entry.fingerprint = plan.fingerprint
            entry.user_text = plan.latest_user_text
            self._semantic.start_loading(nursery)
            nursery.start_soon(self._store_semantic, entry, message.request_id)
        else:
            self._keep(entry)

    async def _store_semantic(self, entry: Entry, request_id: str) -> None:
        vector = None
        if await self._semantic.wait_ready():
            vector = await self._semantic.embed(entry.user_text, request_id)
        self._semantic.forget_vector(request_id)
        if vector is not None:
            entry.embedding = vector_bytes(vector)
        self._keep(entry, vector)

    def _keep(self, entry: Entry, vector: object | None = None) -> None:
        self._removed(self._table.put(entry))
        if vector is not None and entry.fingerprint is not None:
            self._semantic.add(entry.fingerprint, entry.entry_id, vector)
        self._stored += 1
        if self._persistence is not None:
            self._persistence.stored(entry)

    def _cost(self, message: CacheStore) -> float | None:
        if self._pricer is None:
            return None
        cost, _ = self._pricer.priced(message.provider_type, message.model, message.usage)
        return None if cost is None else safe_cost(cost)

    def _removed(self, entries: list[Entry]) -> None:
        for entry in entries:
            self._semantic.remove(entry.entry_id)
        if self._persistence is not None:
            self._persistence.removed(entries)

    # ---- upkeep -----------------------------------------------------------------------

    async def _rebuild(self) -> None:
        if self._persistence is None:
            return
        try:
            entries = await self._persistence.load(now=time.time(), limit=self._config.max_entries)
        except Exception:
            log.exception("cache entries could not be read back: starting empty")
            return
        for entry in entries:
            self._table.put(entry)
            self._seen_until = max(self._seen_until, entry.created_at)
            if entry.embedding is not None and entry.fingerprint is not None:
                self._semantic.add_stored(entry.fingerprint, entry.entry_id, entry.embedding)
        if entries or self._config.policies:
            self._persistence.prune_soon()  # rows that expired while the gateway was down
            log.info("cache rebuilt from SQL", entries=len(entries))

    async def _follow_every(self, every_s: float) -> None:
        while True:
            await trio.sleep(every_s)
            try:
                await self.follow()
            except Exception:
                log.exception("other replicas' cache entries unreadable: next poll retries")

    async def follow(self) -> int:
        """Take in the entries other replicas stored since the last look; how many."""
        if self._persistence is None:
            return 0
        now = time.time()
        since = self._seen_until - FOLLOW_OVERLAP_S  # a row committed late still shows
        entries = await self._persistence.load_since(
            since=since, now=now, limit=self._config.max_entries
        )
        taken = 0
        for entry in entries:
            self._seen_until = max(self._seen_until, entry.created_at)
            if self._table.holds(entry):
                continue
            for replaced in self._table.put(entry):  # only here: SQL keeps the rows
                self._semantic.remove(replaced.entry_id)
            if entry.embedding is not None and entry.fingerprint is not None:
                self._semantic.add_stored(entry.fingerprint, entry.entry_id, entry.embedding)
            taken += 1
        return taken

    async def _prune_every(self, every_s: float) -> None:
        while True:
            await trio.sleep(every_s)
            self.prune(time.time())

    def prune(self, now: float) -> int:
        """Forget the expired entries (their rows go with the next write)."""
        expired = self._table.prune(now)
        self._removed(expired)
        return len(expired)


def _found(entry: Entry, layer: str, similarity: float | None) -> CacheFound:
    return CacheFound(
        answer=entry.answer,
        layer=layer,
        similarity=similarity,
        origin_request_id=entry.origin_request_id,
        cost_saved_usd=entry.cost_usd,
    )


def _reply(message: CacheLookup, reply: CacheReply) -> None:
    # the ingress may have given up (its timeout) and closed the channel: nobody listens
    with contextlib.suppress(trio.WouldBlock, trio.BrokenResourceError, trio.ClosedResourceError):
        message.reply_to.send_nowait(reply)


__all__ = ["PRUNE_EVERY_S", "CacheActor", "CacheStatistics"]
