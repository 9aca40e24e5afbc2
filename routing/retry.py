"""What to do after a failed attempt: retry the same provider, fail over, or give up.
Pure; the jitter source is injected."""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from config.model import RetryPolicy
from messages.errors import CLIENT_FAULTS, ErrorInfo, ErrorKind


class Next(StrEnum):
    RETRY = "retry"  # same provider, after ``delay_s``
    FAILOVER = "failover"  # next candidate now
    GIVE_UP = "give_up"  # the error goes back to the client


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    next: Next
    delay_s: float = 0.0
    reason: str = ""


_RETRYABLE = frozenset(
    {
        ErrorKind.RATE_LIMITED,
        ErrorKind.OVERLOADED,
        ErrorKind.UPSTREAM_ERROR,
        ErrorKind.TIMEOUT,
        ErrorKind.PROTOCOL,
    }
)
_FAILOVER_ONLY = frozenset({ErrorKind.PROVIDER_AUTH, ErrorKind.QUOTA_EXHAUSTED})


def decide(
    error: ErrorInfo, *, retries_done: int, policy: RetryPolicy, rng: random.Random
) -> Decision:
    if error.kind in CLIENT_FAULTS or error.kind not in _RETRYABLE | _FAILOVER_ONLY:
        return Decision(next=Next.GIVE_UP, reason=str(error.kind))
    if error.kind in _FAILOVER_ONLY or retries_done >= policy.max_retries:
        return Decision(next=Next.FAILOVER, reason=str(error.kind))
    if error.retry_after is not None:
        if error.retry_after > policy.max_retry_after_s:
            return Decision(next=Next.FAILOVER, reason="retry-after too long")
        return Decision(next=Next.RETRY, delay_s=error.retry_after, reason="retry-after")
    backoff = min(policy.backoff_max_s, policy.backoff_base_s * (2**retries_done))
    return Decision(
        next=Next.RETRY, delay_s=backoff * (0.5 + rng.random() / 2), reason=str(error.kind)
    )


def most_informative(errors: list[ErrorInfo]) -> ErrorInfo:
    """The error to show when every candidate failed: a 429 with a delay if any provider
    was rate limited (so the client waits and retries), else the last one."""
    limited = [e for e in errors if e.kind is ErrorKind.RATE_LIMITED]
    if limited:
        best = min(limited, key=lambda e: e.retry_after if e.retry_after is not None else 1.0)
        return best if best.retry_after is not None else _with_retry_after(best, 1.0)
    return errors[-1]


def _with_retry_after(error: ErrorInfo, seconds: float) -> ErrorInfo:
    return ErrorInfo(
        kind=error.kind,
        status=error.status,
        message=error.message,
        code=error.code,
        param=error.param,
        retry_after=seconds,
        provider_id=error.provider_id,
    )


__all__ = ["Decision", "Next", "decide", "most_informative"]
