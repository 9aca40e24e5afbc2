"""Restart an actor that crashed, loudly; give up (and crash the system) if it keeps crashing.

A crash is a bug in the actor's own state: it is logged with its traceback every time. A
bug met while serving one request never gets here — the request's own boundary fails it
alone (``actors.request_faults``) — so no client can spend this restart budget. The
actor's inbox survives the restart (the supervisor holds it), so queued messages are
served by the new run; the requests the crashed run held had their reply channels
closed by the run's own cleanup.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
import trio

log = structlog.get_logger("switchyard.supervisor")

MAX_RESTARTS = 5
RESTART_WINDOW_S = 60.0
RESTART_PAUSE_S = 0.1


async def supervised(
    name: str,
    run: Callable[..., Awaitable[None]],
    *args: Any,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Runs ``run(*args, task_status=…)`` and restarts it when it raises."""
    crashes: deque[float] = deque()
    started = False
    while True:
        try:
            async with trio.open_nursery() as nursery:
                await nursery.start(_call, run, args)
                if not started:
                    started = True
                    task_status.started()
            return
        except Exception:
            if not started:
                raise
            now = trio.current_time()
            crashes.append(now)
            while crashes and crashes[0] < now - RESTART_WINDOW_S:
                crashes.popleft()
            log.exception("actor crashed", actor=name, restarts_in_window=len(crashes))
            if len(crashes) > MAX_RESTARTS:
                log.error("actor keeps crashing; stopping the gateway", actor=name)
                raise
            await trio.sleep(RESTART_PAUSE_S)


async def _call(
    run: Callable[..., Awaitable[None]],
    args: tuple[Any, ...],
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    await run(*args, task_status=task_status)


__all__ = ["supervised"]
