"""Entry points that start trio: ``serve`` runs the gateway until a signal stops it;
``demo`` runs it with a local fake provider so a newcomer sees it work without keys."""

from __future__ import annotations

import functools

import trio

from actors.system import run_gateway
from config.model import GatewayConfig


def serve(
    config: GatewayConfig,
    *,
    host: str | None = None,
    port: int | None = None,
    database_url: str | None = None,
) -> int:
    trio.run(
        functools.partial(
            run_gateway,
            config,
            host=host,
            port=port,
            database_url=database_url,
            handle_signals=True,
        )
    )
    return 0


def demo(*, host: str, port: int, database_url: str) -> int:
    from actors.demo import run_demo

    trio.run(functools.partial(run_demo, host=host, port=port, database_url=database_url))
    return 0


__all__ = ["demo", "serve"]
