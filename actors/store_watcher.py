"""The store watcher: picks up what the CLI changed in SQL while the gateway runs.

Every ``poll_s`` (2 s by default) it reads the stored virtual keys and the budgets set
with ``switchyard budgets set`` in one worker-thread call. Changed keys go to the
ingress (``use_stored_keys``), changed budgets to the accountant (``UseBudgets``). So a
key created, revoked or expiring, or a budget set, takes effect within ``poll_s`` plus
one read — a revoked key is refused within about two seconds. Nothing of this is on a
request's path: requests only ever read what the last poll handed over. While the
database cannot be read (restarting, unreachable) the last keys and budgets stay in
force; that is logged once when it starts and once when it ends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

import structlog
import trio

from budgets.keys import StoredKey
from messages.budget import AccountantInbox, BudgetRule, UseBudgets
from storage.database import is_unavailable

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
        self._unreadable = False
        self.polls = 0

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        while True:
            await trio.sleep(self._poll_s)
            try:
                state = await trio.to_thread.run_sync(self._load, limiter=self._limiter)
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                if not self._unreadable:
                    self._unreadable = True
                    log.warning(
                        "stored keys and budgets unreadable: the last ones stay in force",
                        error=type(exc).__name__,
                    )
                continue
            if self._unreadable:
                self._unreadable = False
                log.info("stored keys and budgets readable again")
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
