"""Reading a provider's whole (non-streamed) body within bounds: a 2xx body up to
``MAX_BODY_BYTES`` (beyond, the provider is talking garbage), an error body's first
``MAX_ERROR_BODY`` bytes (enough for any error message)."""

from __future__ import annotations

from http11.client import UpstreamResponse
from providers.garbage import ProviderGarbage

MAX_ERROR_BODY = 64 * 1024
MAX_BODY_BYTES = 32 * 1024 * 1024
"""The largest non-streamed 2xx body accepted from a provider (a bigger one fails the
attempt as a protocol error; a stream is held to ``providers.sse.MAX_EVENT_BYTES`` per event)."""


async def read_whole_body(response: UpstreamResponse) -> bytes:
    """A whole 2xx body; over ``MAX_BODY_BYTES`` it is garbage (read no further)."""
    parts: list[bytes] = []
    size = 0
    async for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ProviderGarbage(f"the upstream's response body is over {MAX_BODY_BYTES} bytes")
        parts.append(chunk)
    return parts[0] if len(parts) == 1 else b"".join(parts)


async def read_error_body(response: UpstreamResponse) -> bytes:
    """The first ``MAX_ERROR_BODY`` bytes of an error body (the rest is not read)."""
    parts: list[bytes] = []
    size = 0
    async for chunk in response.iter_bytes():
        parts.append(chunk)
        size += len(chunk)
        if size >= MAX_ERROR_BODY:
            break
    return b"".join(parts)[:MAX_ERROR_BODY]


__all__ = ["MAX_BODY_BYTES", "MAX_ERROR_BODY", "read_error_body", "read_whole_body"]
