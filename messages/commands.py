"""What actors say to each other about a request: the parsed request and its replies.

A request carries its own reply channel (``reply_to``); the ingress, which waits for the
answer, owns the timeout. Reply channels are typed by the small ``ReplySink`` protocol so
this module stays free of trio (a ``trio.MemorySendChannel`` satisfies it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeAlias

from messages.chat import ClientFormat
from messages.errors import ErrorInfo
from messages.json import JsonObject


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyHead:
    """The answer's status line. A non-streaming answer is complete in ``body``."""

    status: int
    headers: tuple[tuple[str, str], ...]
    streaming: bool
    body: bytes = b""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyChunk:
    """Bytes of a streaming answer, already in the client's format."""

    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyEnd:
    """The streaming answer is complete (any in-stream failure was sent as a chunk)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyError:
    """No byte was sent: the ingress renders this error in the client's shape."""

    error: ErrorInfo
    headers: tuple[tuple[str, str], ...] = ()


Reply: TypeAlias = ReplyHead | ReplyChunk | ReplyEnd | ReplyError


class ReplySink(Protocol):
    """The sending end of a per-request reply channel."""

    async def send(self, value: Reply, /) -> None: ...

    def send_nowait(self, value: Reply, /) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientRequest:
    """One parsed, authenticated client request. ``body`` is read-only from here on."""

    request_id: str
    received_at: float  # unix seconds
    started: float  # trio clock, for latencies
    client_format: ClientFormat
    endpoint: str
    model: str
    stream: bool
    body: JsonObject
    virtual_key_id: str
    account_id: str
    session_id: str | None
    pinned_provider: str | None = None  # from "provider/model"
    pinned_model: str | None = None
    forward_headers: tuple[tuple[str, str], ...] = ()  # for a passthrough: anthropic-beta


__all__ = [
    "ClientRequest",
    "Reply",
    "ReplyChunk",
    "ReplyEnd",
    "ReplyError",
    "ReplyHead",
    "ReplySink",
]
