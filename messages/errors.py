"""One small vocabulary for everything that can go wrong with a request.

Every provider module maps its own statuses and error bodies into an ``ErrorKind``;
the ingress renders an ``ErrorInfo`` in the client's own error shape. The kinds::

    ErrorKind
    ├── the request's own fault (never retried, never failed over)
    │   ├── bad_request         400 malformed JSON, invalid body, unsupported field
    │   ├── not_found           404 unknown model / provider / route
    │   ├── payload_too_large   413 body over the configured limit
    │   ├── context_too_long    400 prompt does not fit the model
    │   └── forbidden           403 the provider refuses what the request names (a model
    │                               or file it may not use); our key is fine: not benched
    ├── the caller's standing
    │   ├── unauthenticated     401 missing / unknown / revoked virtual key
    │   ├── budget_exceeded     402 a customer, team or key budget is spent
    │   └── rate_limited        429 (ours or the provider's), with retry_after
    ├── the provider's state (retried, then failed over)
    │   ├── provider_auth       upstream says our provider key is invalid or revoked:
    │   │                           bench it (the client sees a generic 502)
    │   ├── quota_exhausted     429 our key is out of quota: bench it, fail over
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

import re
from dataclasses import dataclass, replace
from enum import StrEnum


class ErrorKind(StrEnum):
    BAD_REQUEST = "bad_request"
    NOT_FOUND = "not_found"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    CONTEXT_TOO_LONG = "context_too_long"
    FORBIDDEN = "forbidden"
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
        ErrorKind.FORBIDDEN,
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


_ABOUT_OUR_ACCOUNT = {
    ErrorKind.PROVIDER_AUTH: "the provider rejected the gateway's credentials; the gateway's "
    "operator can find the provider's answer in the gateway's log under this request id",
}

_ACCOUNT_DETAIL = re.compile(
    r"(?:sk|pk|rk)-[A-Za-z0-9_*.\-]{3,}"  # API keys, masked or not (sk-proj-****abcd)
    r"|AIza[A-Za-z0-9_\-]{8,}"  # Google API keys
    r"|\b(?:org|proj|user|acct|ws|wrkspc)[-_][A-Za-z0-9]{6,}"  # organisation, project ids
    r"|\*{3,}[A-Za-z0-9]{0,8}"  # a masked key's visible suffix
    r"|\bprojects/[0-9]{4,}"  # a Google project number
)


def client_message(error: ErrorInfo) -> str:
    """What a client may read of ``error``: a fixed sentence when the failure is about the
    gateway's own provider key or account (the provider's words, with masked key suffixes
    and organisation ids, stay in the trail and the log), else the message with anything
    that looks like a key or an account id masked."""
    fixed = _ABOUT_OUR_ACCOUNT.get(error.kind)
    if fixed is not None:
        return fixed
    return _ACCOUNT_DETAIL.sub("[redacted]", error.message)


def without_secret(error: ErrorInfo, secret: str, name: str) -> ErrorInfo:
    """``error`` with every occurrence of ``secret`` (a provider key some providers echo
    back, e.g. Gemini's "Consumer 'api_key:AIza…' has been suspended") replaced by
    ``name``, so the key never reaches the trail or the log."""
    if not secret or secret not in error.message:
        return error
    return replace(error, message=error.message.replace(secret, f"<key {name}>"))


__all__ = ["CLIENT_FAULTS", "ErrorInfo", "ErrorKind", "client_message", "without_secret"]
