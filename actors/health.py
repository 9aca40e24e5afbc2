"""``GET /healthz``: liveness for anyone (``LIVENESS``); with the admin key
(``actors.admin``), each actor's ``statistics()`` record too, as JSON.

The system registers one callable per actor when it wires them; the ingress renders
whatever is registered. Statistics are frozen records read without locking (each actor
owns its state; a report is a snapshot taken on the event loop's thread)."""

from __future__ import annotations

from collections.abc import Callable

import orjson

LIVENESS = b'{"status":"ok"}'
"""All that ``/healthz`` tells without the admin key."""


class HealthReport:
    def __init__(self) -> None:
        self._sources: dict[str, Callable[[], object]] = {}

    def register(self, name: str, statistics: Callable[[], object]) -> None:
        self._sources[name] = statistics

    def render(self) -> bytes:
        report: dict[str, object] = {"status": "ok"}
        for name, statistics in self._sources.items():
            report[name] = statistics()
        return orjson.dumps(report, default=str)


__all__ = ["LIVENESS", "HealthReport"]
