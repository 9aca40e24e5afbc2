"""What the ingress, the provider worker and the cache actor say about cached answers.

The ingress decides a request's ``CachePlan`` (its keys, mode, TTL and threshold) and
asks the cache actor with a ``CacheLookup`` carrying its own reply channel (the ingress
owns the timeout); the answer is a ``CacheFound`` or a ``CacheMissed``. A request that
missed carries its plan on to the provider worker, which hands the finished answer to
the cache actor as a ``CacheStore`` (without waiting). Requests that did not opt in
carry no plan and never meet the cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeAlias

from messages.usage import Usage

EXACT = "exact"
SEMANTIC = "semantic"


@dataclass(frozen=True, slots=True, kw_only=True)
class CachePlan:
    """How one request uses the cache. ``key``: its exact key; ``fingerprint`` and
    ``latest_user_text``: its semantic context (``fingerprint`` is None when the
    semantic layer does not apply, e.g. the request carries tool results)."""

    mode: str  # EXACT | SEMANTIC
    scope: str  # account/team/customer: entries are never seen outside it
    key: bytes
    ttl_s: float
    threshold: float
    fingerprint: bytes | None = None
    latest_user_text: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CacheFound:
    """A hit: the stored answer (``providers.client_formats.cached_answer``'s document)."""

    answer: bytes
    layer: str  # EXACT | SEMANTIC
    similarity: float | None
    origin_request_id: str
    cost_saved_usd: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CacheMissed:
    reason: str


CacheReply: TypeAlias = CacheFound | CacheMissed


class CacheReplySink(Protocol):
    """The sending end of a lookup's reply channel."""

    def send_nowait(self, value: CacheReply, /) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class CacheLookup:
    request_id: str
    plan: CachePlan
    at: float  # unix seconds
    reply_to: CacheReplySink


@dataclass(frozen=True, slots=True, kw_only=True)
class CacheStore:
    """A complete, successful answer to keep (the provider worker checked it ended well)."""

    request_id: str
    plan: CachePlan
    client_format: str
    response: bytes  # the whole response in the client's format, as the trail records it
    usage: Usage | None
    provider_type: str
    model: str
    at: float


CacheInbox: TypeAlias = CacheLookup | CacheStore

__all__ = [
    "EXACT",
    "SEMANTIC",
    "CacheFound",
    "CacheInbox",
    "CacheLookup",
    "CacheMissed",
    "CachePlan",
    "CacheReply",
    "CacheReplySink",
    "CacheStore",
]
