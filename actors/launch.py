"""Entry points that start trio: ``serve`` runs the gateway until a signal stops it;
``demo`` runs it with a local fake provider so a newcomer sees it work without keys."""

from __future__ import annotations

import functools
import sys

import trio

from actors.system import run_gateway
from config.model import GatewayConfig
from http11.server import free_port

GIL_SWITCH_INTERVAL_S = 0.001
"""How long a thread may keep the GIL while another waits for it (CPython's default is
5 ms). The trail writer thread runs SQLAlchemy's Python code between SQLite calls; at the
default a request that wakes meanwhile can wait up to 5 ms per wake-up for the event loop
to run again. At 1 ms the 1-client p99 overhead fell from ~3.9 to ~3.2 ms, throughput
unchanged (``scripts/bench --clients 1,16 --workloads chat``, alternated)."""


def serve(
    config: GatewayConfig,
    *,
    host: str | None = None,
    port: int | None = None,
    database_url: str | None = None,
) -> int:
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
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

    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    trio.run(functools.partial(run_demo, host=host, port=port, database_url=database_url))
    return 0


def workers_port(host: str, port: int) -> int:
    """The port ``serve --workers`` share: ``port``, or a free one for 0."""
    return port or free_port(host)


__all__ = ["demo", "serve", "workers_port"]
