"""The one small interface every provider module implements (sans-I/O, like h11).

A provider module turns a ``ChatRequest`` into an ``HttpCall`` and turns what comes back
— a whole body, or SSE events one by one — into ``StreamDelta`` values, mapping its
errors into ``messages.errors``. It never touches the network: the provider-worker actor
sends the call and feeds the replies in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from messages.chat import ChatRequest, StreamDelta, ToolSpec
from messages.errors import ErrorInfo
from providers.sse import SseEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpCall:
    """A request to send: ``path`` is appended to the provider's base URL."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class CallTarget:
    """Who to call, as far as the pure encoder needs to know."""

    model: str
    api_key: str
    stream: bool
    prompt_cache: bool = True  # mark provider prompt-cache breakpoints where the wire has them


class StreamDecoder(Protocol):
    """Per-stream state: feed each SSE event, then ``close`` at the end of the body."""

    def feed(self, event: SseEvent) -> Sequence[StreamDelta]: ...

    def close(self) -> Sequence[StreamDelta]:
        """End of body: a ``StreamFailure`` if the stream ended before its terminal event."""
        ...


class ProviderAdapter(Protocol):
    """What ``providers.REGISTRY`` maps each provider type to."""

    @property
    def name(self) -> str: ...

    def build_call(self, request: ChatRequest, target: CallTarget) -> HttpCall: ...

    def parse_reply(self, body: bytes, tools: Sequence[ToolSpec] = ()) -> Sequence[StreamDelta]:
        """A whole non-streaming 2xx body, as the same deltas a stream would give.
        ``tools`` are the request's tools (to recognise emulated custom tools)."""
        ...

    def new_stream_decoder(self, tools: Sequence[ToolSpec] = ()) -> StreamDecoder: ...

    def map_error(self, status: int, headers: Sequence[tuple[str, str]], body: bytes) -> ErrorInfo:
        """A non-2xx reply as one error of the shared vocabulary, keeping the retry delay."""
        ...


__all__ = ["CallTarget", "HttpCall", "ProviderAdapter", "StreamDecoder"]
