"""What the router is told and what it tells the provider workers.

The ingress sends a ``RouteRequest``, the config watcher a ``ReloadConfig``, the workers
an ``AttemptReport`` after each attempt; the router answers a request with a
``ProviderJob`` naming its ``Candidate`` providers in order. These messages carry the
config's provider entries, so they live beside the routing decisions rather than in
``messages/``, which imports nothing of ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from config.model import GatewayConfig, ProviderConfig
from messages.commands import ClientRequest, ReplySink
from messages.errors import ErrorInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteRequest:
    request: ClientRequest
    reply_to: ReplySink
    deadline: float  # trio clock: the whole request must end by then


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    provider: ProviderConfig
    model: str  # what the upstream receives


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderJob:
    """The router's decision, for a provider worker to carry out."""

    request: ClientRequest
    candidates: tuple[Candidate, ...]
    reply_to: ReplySink
    deadline: float


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptReport:
    """A provider worker tells the router how an attempt went (it feeds the breakers).

    ``error`` is ``None`` when the provider served the answer to its end; otherwise the
    failure, whether it came before the first byte or in the stream. Sent without
    waiting: when the router's inbox is full the report is dropped, never the request.
    """

    request_id: str
    provider: ProviderConfig
    error: ErrorInfo | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReloadConfig:
    """A new config for the router. Requests already routed keep the one they started with."""

    config: GatewayConfig


RouterInbox: TypeAlias = RouteRequest | AttemptReport | ReloadConfig

__all__ = [
    "AttemptReport",
    "Candidate",
    "ProviderJob",
    "ReloadConfig",
    "RouteRequest",
    "RouterInbox",
]
