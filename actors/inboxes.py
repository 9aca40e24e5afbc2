"""The actors' inboxes as ``actors/system.py`` opens them (it alone opens channels), named,
so no anonymous tuple of channel ends passes between its wiring functions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import trio

from messages.budget import AccountantInbox
from messages.events import TrailEvent
from routing.commands import ProviderJob, RouterInbox

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Inbox(Generic[T]):
    """Both ends of one actor's inbox."""

    send: trio.MemorySendChannel[T]
    receive: trio.MemoryReceiveChannel[T]


@dataclass(frozen=True, slots=True, kw_only=True)
class Inboxes:
    """The audit logger's, the router's, the provider workers' and the accountant's."""

    audit: Inbox[TrailEvent]
    router: Inbox[RouterInbox]
    workers: Inbox[ProviderJob]
    accountant: Inbox[AccountantInbox]

    def depths(self) -> dict[str, tuple[int, int]]:
        """Each inbox's (messages waiting, capacity), for ``/metrics``."""
        inboxes: dict[str, Inbox[Any]] = {
            "audit": self.audit,
            "router": self.router,
            "provider_worker": self.workers,
            "budget_accountant": self.accountant,
        }
        out = {}
        for name, inbox in inboxes.items():
            stats = inbox.send.statistics()
            out[name] = (stats.current_buffer_used, int(stats.max_buffer_size))
        return out

    @asynccontextmanager
    async def closing_senders(self) -> AsyncIterator[None]:
        """Close the original sending ends on the way out (each actor closes its clone)."""
        async with self.audit.send, self.router.send, self.workers.send, self.accountant.send:
            yield


__all__ = ["Inbox", "Inboxes"]
