"""Requests refused at the head for want of a valid key: counted, answered, barely recorded.

The ingress authenticates from the request head (``Ingress.check_head``), so a request
without a valid virtual key is answered 401 before its body is read. It costs the
gateway a counter, a rendered error and, at most ``RECORDS_PER_S`` times a second, a
bounded summary in the trail: ``request.received`` without the body (``null``) and
with the client's free-text headers cut to ``HEADER_CHARS``, then ``response.failed``.
Beyond that rate, or while the audit inbox is above the ingress's admission high-water
mark, a refusal is only counted, and the count of those left out is logged once a
second. A flood of bad keys therefore cannot fill the audit inbox, and cannot make the
ingress shed an authenticated caller.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import structlog
import trio

from actors.client_headers import CLAUDE_CODE_SESSION, key_error, render_client_error
from budgets.keys import KeyLookup
from http11.server import EarlyResponse, HttpHead
from messages.events import RequestReceived, ResponseFailed, TrailEvent
from messages.ids import RequestIds

log = structlog.get_logger("switchyard.ingress")

RECORDS_PER_S = 10
"""Refusals recorded in the trail per second, at most; the rest are only counted."""

HEADER_CHARS = 200
"""How much of a refused request's user agent, session and thread ids is recorded."""

_JSON = ("content-type", "application/json")


@dataclass(frozen=True, slots=True, kw_only=True)
class RefusalStatistics:
    unauthenticated: int
    """Requests answered 401 from their head (no, unknown, revoked or expired key)."""
    unauthenticated_recorded: int
    """Of those, the ones with a summary in the trail (at most RECORDS_PER_S a second)."""


class Refusals:
    """Answers and accounts for the requests the ingress refuses at the head."""

    def __init__(
        self, ids: RequestIds, audit: trio.MemorySendChannel[TrailEvent], high_water: int
    ) -> None:
        self._ids = ids
        self._audit = audit
        self._high_water = high_water
        self._refused = 0
        self._recorded = 0
        self._window_end = -1.0
        self._window_records = 0
        self._unrecorded = 0

    def statistics(self) -> RefusalStatistics:
        return RefusalStatistics(
            unauthenticated=self._refused, unauthenticated_recorded=self._recorded
        )

    def unauthenticated(
        self, head: HttpHead, path: str, client_format: str | None, lookup: KeyLookup
    ) -> EarlyResponse:
        """The 401 for ``head``; a summary goes to the trail if the rate allows."""
        self._refused += 1
        request_id = self._ids.next()
        error = key_error(lookup, client_format)
        if client_format is not None and self._may_record():
            now = time.time()
            headers = _free_text_headers(head)
            received = RequestReceived(
                request_id=request_id,
                at=now,
                client_format=client_format,
                endpoint=path,
                model_requested="",
                stream=False,
                virtual_key_id=lookup.key_id,
                account_id=None,
                session_id=headers.get("session-id") or headers.get(CLAUDE_CODE_SESSION),
                thread_id=headers.get("thread-id"),
                user_agent=headers.get("user-agent"),
                body=b"null",
            )
            failed = ResponseFailed(
                request_id=request_id,
                at=now,
                status=error.status,
                latency_ms=0.0,
                provider_id=None,
                model=None,
                attempts=0,
                error=error,
            )
            self._record(received, failed)
        headers_out = (_JSON, ("x-request-id", request_id))
        body = render_client_error(client_format, error, request_id)
        return EarlyResponse(status=401, headers=headers_out, body=body)

    def _may_record(self) -> bool:
        now = trio.current_time()
        if now >= self._window_end:
            if self._unrecorded:
                log.warning(
                    "unauthenticated requests refused without a trail",
                    count=self._unrecorded,
                    total=self._refused,
                )
            self._window_end = now + 1.0
            self._window_records = 0
            self._unrecorded = 0
        busy = self._audit.statistics().current_buffer_used >= self._high_water
        if busy or self._window_records >= RECORDS_PER_S:
            self._unrecorded += 1
            return False
        self._window_records += 1
        return True

    def _record(self, received: RequestReceived, failed: ResponseFailed) -> None:
        try:
            self._audit.send_nowait(received)
            self._audit.send_nowait(failed)
        except (trio.WouldBlock, trio.BrokenResourceError, trio.ClosedResourceError):
            # not while the gateway runs: below the high-water mark both events fit
            self._unrecorded += 1
            return
        self._recorded += 1


_FREE_TEXT = frozenset({"user-agent", "session-id", "thread-id", CLAUDE_CODE_SESSION})


def _free_text_headers(head: HttpHead) -> dict[str, str]:
    """The first user agent, session and thread id of ``head``, each cut short."""
    found: dict[str, str] = {}
    for name, value in head.headers:
        if name in _FREE_TEXT and name not in found:
            found[name] = value[:HEADER_CHARS]
    return found


__all__ = ["HEADER_CHARS", "RECORDS_PER_S", "RefusalStatistics", "Refusals"]
