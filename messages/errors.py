"""One small vocabulary for everything that can go wrong with a request.

Every provider module maps its own statuses and error bodies into an ``ErrorKind``;
the ingress renders an ``ErrorInfo`` in the client's own error shape. The kinds::

    ErrorKind
    ├── the request's own fault (never retried, never failed over)
    │   ├── bad_request         400 malformed JSON, invalid body, unsupported field
    │   ├── not_found           404 unknown model / provider / route
    │   ├── payload_too_large   413 body over the configured limit
    │   └── context_too_long    400 prompt does not fit the model
    ├── the caller's standing
    │   ├── unauthenticated     401 missing / unknown / revoked virtual key
    │   ├── budget_exceeded     402 a customer, team or key budget is spent
    │   └── rate_limited        429 (ours or the provider's), with retry_after
    ├── the provider's state (retried, then failed over)
    │   ├── provider_auth       401/403 from upstream: our provider key is bad
    │   ├── quota_exhausted     429 insufficient_quota: fail over, do not retry
    │   ├── overloaded          529 / 503 overloaded
    │   ├── upstream_error      5xx, connection refused or reset
    │   ├── timeout             connect, first byte, idle gap or total deadline
    │   └── protocol            the provider answered something we cannot read
    └── ours
        ├── shed                503 an inbox is full; retry after a moment
        ├── client_closed       499 the client went away before the answer ended
        └── internal            500 a bug; the trail says which
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorKind(StrEnum):
    BAD_REQUEST = "bad_request"
    NOT_FOUND = "not_found"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    CONTEXT_TOO_LONG = "context_too_long"
    UNAUTHENTICATED = "unauthenticated"
    BUDGET_EXCEEDED = "budget_exceeded"
    RATE_LIMITED = "rate_limited"
    PROVIDER_AUTH = "provider_auth"
    QUOTA_EXHAUSTED = "quota_exhausted"
    OVERLOADED = "overloaded"
    UPSTREAM_ERROR = "upstream_error"
    TIMEOUT = "timeout"
    PROTOCOL = "protocol"
    SHED = "shed"
    CLIENT_CLOSED = "client_closed"
    INTERNAL = "internal"


CLIENT_FAULTS = frozenset(
    {
        ErrorKind.BAD_REQUEST,
        ErrorKind.NOT_FOUND,
        ErrorKind.PAYLOAD_TOO_LARGE,
        ErrorKind.CONTEXT_TOO_LONG,
    }
)
"""Kinds that are the request's own fault: returned as they are, never failed over."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorInfo:
    """One failure, as data. ``status`` is the HTTP status the client should see."""

    kind: ErrorKind
    status: int
    message: str
    code: str | None = None
    param: str | None = None
    retry_after: float | None = None
    provider_id: str | None = None


__all__ = ["CLIENT_FAULTS", "ErrorInfo", "ErrorKind"]
