"""One request/response exchange with a provider, as the provider worker drives it.

The worker does the I/O; an ``Exchange`` does all the format work, purely:
``call()`` gives the bytes to send; for a streaming answer, ``start()`` gives what the
client sees first, each chunk of upstream body goes through ``feed()`` and comes out as
client-format bytes, and ``finish()`` closes the stream (reporting in-stream failure if
the provider ended without its terminal event); a non-streaming 2xx body goes through
``complete()``. ``outcome()`` then says what happened, for the trail. ``feed`` (and
``complete``) raise ``providers.garbage.ProviderGarbage`` for bytes that cannot be used
(over a size cap, unreadable, the wrong shape): the attempt fails as a protocol error.

Two kinds exist: a *passthrough* when the client already speaks the provider's format
(OpenAI Responses or Chat to an OpenAI-type upstream: events are forwarded byte for byte
and only observed), and a *translation* through the IR in ``messages.chat`` otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from messages.errors import ErrorInfo
from messages.usage import Usage, UsageAnomaly
from providers.adapter import HttpCall


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeOutcome:
    """What the trail records about an exchange once it ended."""

    usage: Usage | None
    response: bytes  # the full response in the client's format (JSON), for the trail
    failure: ErrorInfo | None
    finish_reason: str | None = None
    anomalies: tuple[UsageAnomaly, ...] = ()  # numbers the provider sent that were not believed


class Exchange(Protocol):
    def call(self) -> HttpCall: ...

    def start(self) -> bytes: ...

    def feed(self, chunk: bytes) -> bytes: ...

    def finish(self) -> bytes: ...

    def fail(self, error: ErrorInfo) -> bytes:
        """In-stream failure bytes, when the worker gives up mid-stream (timeout, reset)."""
        ...

    def complete(self, body: bytes) -> bytes: ...

    def map_error(
        self, status: int, headers: Sequence[tuple[str, str]], body: bytes
    ) -> ErrorInfo: ...

    def outcome(self) -> ExchangeOutcome: ...


__all__ = ["Exchange", "ExchangeOutcome"]
