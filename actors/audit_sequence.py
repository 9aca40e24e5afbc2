"""Per-request ``seq`` numbers for the audit logger (arrival order at its one inbox)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from messages.events import RequestReceived, ResponseCompleted, ResponseFailed, TrailEvent
from storage import SequencedEvent

_CLOSED_MEMORY = 4096  # finished requests whose counter is kept for stragglers
_TERMINAL = (ResponseCompleted, ResponseFailed)  # a tuple: ``A | B`` is built on every use


@dataclass(slots=True)
class OpenRequest:
    next_seq: int
    session_id: str | None


class Sequencer:
    """Per-request ``seq`` counters, forgotten (after a grace) at the terminal event.

    A straggler that arrives after its request's terminal event (say, a losing
    attempt's ``attempt.finished``) still gets the next ``seq`` while the request
    is among the last ``_CLOSED_MEMORY`` finished ones, instead of colliding with 1.
    """

    def __init__(self) -> None:
        self._open: dict[str, OpenRequest] = {}
        self._closed: OrderedDict[str, int] = OrderedDict()

    @property
    def open_requests(self) -> int:
        return len(self._open)

    def assign(self, event: TrailEvent) -> tuple[SequencedEvent, OpenRequest]:
        request = self._open.get(event.request_id)
        if request is None:
            request = OpenRequest(next_seq=self._closed.pop(event.request_id, 1), session_id=None)
            self._open[event.request_id] = request
        if isinstance(event, RequestReceived):
            request.session_id = event.session_id
        sequenced = SequencedEvent(seq=request.next_seq, event=event)
        request.next_seq += 1
        if isinstance(event, _TERMINAL):
            self._close(event.request_id, request.next_seq)
        return sequenced, request

    def _close(self, request_id: str, next_seq: int) -> None:
        del self._open[request_id]
        self._closed[request_id] = next_seq
        if len(self._closed) > _CLOSED_MEMORY:
            self._closed.popitem(last=False)


__all__ = ["OpenRequest", "Sequencer"]
