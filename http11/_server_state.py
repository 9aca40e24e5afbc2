"""What the connections of ``http11.server`` share: settings, counters, the open set."""

from __future__ import annotations

import time
from email.utils import formatdate
from typing import Generic, TypeVar

import trio

from http11._server_exchange import ErrorRenderer, Handler, HandlerErrorHook, HeadCheck

ConnectionT = TypeVar("ConnectionT")
"""The connection type (``_server_connection.HttpConnection``), a parameter so this module
does not import the connection module that imports it."""


class ServerState(Generic[ConnectionT]):
    """What the connections share with their server: settings, counters, the open set."""

    def __init__(
        self,
        handler: Handler,
        *,
        render_error: ErrorRenderer,
        on_handler_error: HandlerErrorHook | None,
        head_check: HeadCheck | None,
        max_body_bytes: int,
        max_buffered_body_bytes: int,
        keepalive_timeout_s: float,
        header_timeout_s: float,
        body_timeout_s: float,
        write_timeout_s: float,
    ) -> None:
        self.handler = handler
        self.render_error = render_error
        self.on_handler_error = on_handler_error
        self.head_check = head_check
        self.max_body_bytes = max_body_bytes
        self.max_buffered_body_bytes = max_buffered_body_bytes
        self.body_bytes_buffered = 0
        self.keepalive_timeout_s = keepalive_timeout_s
        self.header_timeout_s = header_timeout_s
        self.body_timeout_s = body_timeout_s
        self.write_timeout_s = write_timeout_s
        self.requests_refused_early = 0
        self.bodies_over_cap = 0
        self.stalled_writers_dropped = 0
        self.accepting = True
        self.connections: set[ConnectionT] = set()
        self.in_flight = 0
        self.requests_served = 0
        self.handler_errors = 0
        self.protocol_errors = 0
        self.idle_event: trio.Event | None = None
        self._date_second = -1
        self._date_line = ""

    def request_finished(self) -> None:
        self.in_flight -= 1
        if not self.in_flight and self.idle_event is not None:
            self.idle_event.set()
            self.idle_event = None

    def handler_failed(self, exc: Exception) -> None:
        self.handler_errors += 1
        if self.on_handler_error is not None:
            self.on_handler_error(exc)

    def date_line(self) -> str:
        """The ``Date`` header line, formatted once per second."""
        now = int(time.time())
        if now != self._date_second:
            self._date_second = now
            self._date_line = f"date: {formatdate(now, usegmt=True)}\r\n"
        return self._date_line


__all__ = ["ServerState"]
