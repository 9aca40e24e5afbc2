"""``switchyard replay``'s trio side: the replay gateway and the run's loop, under
signal handling. The first SIGINT/SIGTERM stops the run gracefully (in-flight requests
finish and are written; the rest stay pending for ``--resume``); a second one cuts the
requests in flight too (their trail may end unfinished: they are pending as well)."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Callable, Sequence

import structlog
import trio

from actors.replay_runner import RunEnd, replay_items
from actors.replay_system import ReplayOutcome, replay_gateway
from config.model import GatewayConfig
from replay.selection import ItemRef

log = structlog.get_logger("switchyard.replay")

Progress = Callable[[ItemRef, ReplayOutcome, float], None]
"""Told of each request sent, with what the run has spent so far in this process."""


def run_replay(
    config: GatewayConfig,
    *,
    database_url: str,
    run_id: str,
    items: Sequence[ItemRef],
    concurrency: int,
    cap_usd: float | None,
    progress: Progress,
) -> RunEnd:
    return trio.run(
        lambda: _main(config, database_url, run_id, items, concurrency, cap_usd, progress)
    )


async def _main(
    config: GatewayConfig,
    database_url: str,
    run_id: str,
    items: Sequence[ItemRef],
    concurrency: int,
    cap_usd: float | None,
    progress: Progress,
) -> RunEnd:
    stop = trio.Event()
    run_scope = trio.CancelScope()
    end = RunEnd(status="interrupted")
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_watch, signals, stop, run_scope)
            async with replay_gateway(
                config, database_url=database_url, run_id=run_id, cap_usd=cap_usd
            ) as gateway:

                def done(item: ItemRef, outcome: ReplayOutcome) -> None:
                    progress(item, outcome, gateway.spent_usd)

                with run_scope:
                    end = await replay_items(
                        gateway, items, concurrency=concurrency, stop=stop, on_done=done
                    )
            nursery.cancel_scope.cancel()
    return end


async def _watch(
    signals: AsyncIterator[int], stop: trio.Event, run_scope: trio.CancelScope
) -> None:
    async for received in signals:
        if not stop.is_set():
            log.info("stopping the replay: requests in flight finish", signal=received)
            stop.set()
        else:
            log.info("stopping the replay now: requests in flight are cut", signal=received)
            run_scope.cancel()


__all__ = ["Progress", "run_replay"]
