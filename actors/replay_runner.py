"""One replay run's loop: the selected requests through the replay gateway, at most
``concurrency`` at a time, until they are all sent, the run's cap refuses one, or it is
told to stop (Ctrl-C).

Stopping is graceful: nothing new starts, and each request in flight finishes and is
written to the trail; what never started stays pending for ``--resume``. A request the
cap refused reached no provider and is pending too (see ``replay_results``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import trio

from actors.replay_system import ReplayGateway, ReplayOutcome
from replay.selection import ReplayItem

OnDone = Callable[[ReplayItem, ReplayOutcome], None]


@dataclass(slots=True)
class RunEnd:
    """How the loop ended: ``completed``, ``capped`` or ``interrupted``."""

    status: str = "completed"
    refusal: str | None = None  # what refused the capped request


async def replay_items(
    gateway: ReplayGateway,
    items: Sequence[ReplayItem],
    *,
    concurrency: int,
    stop: trio.Event,
    on_done: OnDone,
) -> RunEnd:
    end = RunEnd()
    slots = trio.Semaphore(concurrency)

    async def one(item: ReplayItem) -> None:
        try:
            outcome = await gateway.send(item)
            if outcome.refusal is not None and end.refusal is None:
                end.status, end.refusal = "capped", outcome.refusal
            on_done(item, outcome)
        finally:
            slots.release()

    async with trio.open_nursery() as nursery:
        for item in items:
            if stop.is_set() or end.refusal is not None:
                break
            await slots.acquire()
            if stop.is_set() or end.refusal is not None:
                slots.release()
                break
            nursery.start_soon(one, item)
    if end.refusal is None and stop.is_set():
        end.status = "interrupted"
    return end


__all__ = ["OnDone", "RunEnd", "replay_items"]
