"""What an exchange raises when a provider's bytes cannot be used at all.

A body or SSE event over its size cap, unreadable JSON, JSON that is not an object,
invalid UTF-8, or a document whose shape contradicts the format (``{"choices": 5}``):
the exchange raises ``ProviderGarbage`` from ``feed``/``complete`` and the attempt fails
with ``error`` — a protocol error (502), retried or failed over like any provider
failure before the client saw a byte, reported in the stream after. Never anything
else: a provider's garbage must not look like a bug of ours.
"""

from __future__ import annotations

from typing import Any

import orjson

from messages.errors import ErrorInfo, ErrorKind


class ProviderGarbage(Exception):
    """The provider sent something unusable; ``error`` is the attempt's failure."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.error = ErrorInfo(kind=ErrorKind.PROTOCOL, status=502, message=message)


def json_object(data: bytes | str, what: str) -> dict[str, Any]:
    """``data`` parsed as a JSON object (orjson also rejects invalid UTF-8), else garbage."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise ProviderGarbage(f"the upstream sent unreadable JSON in {what}") from None
    if not isinstance(document, dict):
        raise ProviderGarbage(f"the upstream sent {what} that is not a JSON object")
    return document


def require(condition: bool, message: str) -> None:
    """Raise ``ProviderGarbage(message)`` unless ``condition``."""
    if not condition:
        raise ProviderGarbage(message)


__all__ = ["ProviderGarbage", "json_object", "require"]
