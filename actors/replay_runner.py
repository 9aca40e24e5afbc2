"""One replay run's loop: the selected requests through the replay gateway, at most
``concurrency`` at a time, until they are all sent, the run's cap stops it, or it is
told to stop (Ctrl-C).

The cap (``--max-cost``) is the accountant's: each request holds its estimated cost
before it is routed, so requests in flight together cannot overspend. A request the cap
refuses while others are in flight waits: no new request starts until those have
finished and settled (their holds become what they really cost), then it is sent again
alone; refused then, the run stops there (``capped``) — spending more would pass the cap.

Stopping is graceful: nothing new starts, and each request in flight finishes and is
written to the trail; what never started stays pending for ``--resume``, and so does a
request the cap refused (it reached no provider; see ``replay_results``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import trio

from actors.replay_system import ReplayGateway, ReplayOutcome
from replay.selection import ItemRef

OnDone = Callable[[ItemRef, ReplayOutcome], None]
POLL_S = 0.01


@dataclass(slots=True)
class RunEnd:
    """How the loop ended: ``completed``, ``capped`` or ``interrupted``."""

    status: str = "completed"
    refusal: str | None = None  # what refused the request the run stopped at


@dataclass(slots=True)
class _State:
    in_flight: int = 0
    sent: int = 0  # requests the gateway answered (each settles once it is written)
    draining: bool = False  # a refused request waits for the others to settle
    waiting: int = 0  # refused requests waiting to be sent again alone
    alone: trio.Lock = field(default_factory=trio.Lock)


async def replay_items(
    gateway: ReplayGateway,
    items: Sequence[ItemRef],
    *,
    concurrency: int,
    stop: trio.Event,
    on_done: OnDone,
) -> RunEnd:
    end = RunEnd()
    state = _State()
    slots = trio.Semaphore(concurrency)

    async def one(item: ItemRef) -> None:
        try:
            outcome = await _send_within_cap(gateway, item, state, end)
            if outcome.refusal is None:
                on_done(item, outcome)
        finally:
            state.in_flight -= 1
            slots.release()

    async with trio.open_nursery() as nursery:
        for item in items:
            await slots.acquire()
            await _until(lambda: not state.draining or end.refusal is not None or stop.is_set())
            if stop.is_set() or end.refusal is not None:
                slots.release()
                break
            state.in_flight += 1
            nursery.start_soon(one, item)
    if end.refusal is None and stop.is_set():
        end.status = "interrupted"
    return end


async def _send_within_cap(
    gateway: ReplayGateway, item: ItemRef, state: _State, end: RunEnd
) -> ReplayOutcome:
    outcome = await gateway.send(item)
    state.sent += 1
    if outcome.refusal is None or end.refusal is not None:
        return outcome
    state.waiting += 1
    state.draining = True
    try:
        async with state.alone:
            if end.refusal is not None:
                return outcome
            await _until(lambda: state.in_flight <= state.waiting and gateway.settled >= state.sent)
            outcome = await gateway.send(item)  # alone now, against what was really spent
            state.sent += 1
    finally:
        state.waiting -= 1
        state.draining = state.waiting > 0
    if outcome.refusal is not None and end.refusal is None:
        end.status, end.refusal = "capped", outcome.refusal
    return outcome


async def _until(ready: Callable[[], bool]) -> None:
    """Poll ``ready``: it reads counters that other tasks and the audit logger's meter
    change (the meter is no trio task to signal an event)."""
    while True:
        if ready():
            return
        await trio.sleep(POLL_S)


__all__ = ["OnDone", "RunEnd", "replay_items"]
