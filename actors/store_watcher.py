"""The store watcher: picks up what the CLI changed in SQL while the gateway runs.

Every ``poll_s`` (2 s by default) it reads the stored virtual keys and the budgets set
with ``switchyard budgets set`` in one worker-thread call. Changed keys go to the
ingress (``use_stored_keys``), changed budgets to the accountant (``UseBudgets``). So a
key created, revoked or expiring, or a budget set, takes effect within ``poll_s`` plus
one read — a revoked key is refused within about two seconds. Nothing of this is on a
request's path: requests only ever read what the last poll handed over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

import structlog
import trio

from budgets.keys import StoredKey
from messages.budget import AccountantInbox, BudgetRule, UseBudgets

log = structlog.get_logger("switchyard.store_watcher")

POLL_S = 2.0


KeysSink: TypeAlias = Callable[[tuple[StoredKey, ...]], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredState:
    keys: tuple[StoredKey, ...]
    rules: tuple[BudgetRule, ...]


class StoreWatcher:
    def __init__(
        self,
        load: Callable[[], StoredState],
        initial: StoredState,
        *,
        use_keys: KeysSink,
        accountant: trio.MemorySendChannel[AccountantInbox],
        poll_s: float = POLL_S,
    ) -> None:
        self._load = load
        self._seen = initial
        self._use_keys = use_keys
        self._accountant = accountant
        self._poll_s = poll_s
        self._limiter = trio.CapacityLimiter(1)
        self.polls = 0

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        while True:
            await trio.sleep(self._poll_s)
            state = await trio.to_thread.run_sync(self._load, limiter=self._limiter)
            await self._apply(state)
            self.polls += 1

    async def _apply(self, state: StoredState) -> None:
        if state.keys != self._seen.keys:
            self._use_keys(state.keys)
            log.info("stored virtual keys changed", keys=len(state.keys))
        if state.rules != self._seen.rules:
            await self._accountant.send(UseBudgets(source="cli", rules=state.rules))
        self._seen = state


__all__ = ["POLL_S", "KeysSink", "StoreWatcher", "StoredState"]
