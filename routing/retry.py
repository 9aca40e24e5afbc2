"""What to do after a failed attempt: retry the same provider, try its next key, fail
over, or give up. Pure; the jitter source is injected.

- The request's own fault (400, 404, 413, 422, context too long, and ``forbidden``: a
  403 about what the request names, such as a model or file our key may not use) goes
  back as it is, and benches nothing: a client must not be able to rest shared keys.
- ``provider_auth`` (the provider says our key is invalid or revoked: each provider's
  error module decides from its codes) and ``quota_exhausted`` (our key is spent): bench
  that key; try the provider's next key if it has one, else fail over. Never a retry.
- 429, 5xx, 529, connect errors, timeouts, unreadable answers: retry the same provider
  up to ``max_retries`` times — after ``Retry-After`` when the provider gave one (from
  its header or its body), else after exponential backoff with jitter — then fail over.
  A ``Retry-After`` longer than ``max_retry_after_s`` fails over at once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from enum import StrEnum

from config.model import RetryPolicy
from messages.errors import CLIENT_FAULTS, ErrorInfo, ErrorKind


class Next(StrEnum):
    RETRY = "retry"  # same provider, after ``delay_s``
    NEXT_KEY = "next_key"  # same provider, another key, now (not counted as a retry)
    FAILOVER = "failover"  # next candidate now
    GIVE_UP = "give_up"  # the error goes back to the client


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    next: Next
    delay_s: float = 0.0
    reason: str = ""
    bench_key: bool = False  # the key just used is bad or spent: rest it


_RETRYABLE = frozenset(
    {
        ErrorKind.RATE_LIMITED,
        ErrorKind.OVERLOADED,
        ErrorKind.UPSTREAM_ERROR,
        ErrorKind.TIMEOUT,
        ErrorKind.PROTOCOL,
    }
)
_KEY_FAULTS = frozenset({ErrorKind.PROVIDER_AUTH, ErrorKind.QUOTA_EXHAUSTED})


def decide(
    error: ErrorInfo,
    *,
    retries_done: int,
    policy: RetryPolicy,
    rng: random.Random,
    spare_key: bool = False,
) -> Decision:
    """``spare_key``: the provider has another usable key besides the one that failed."""
    what = describe(error)
    if error.kind in CLIENT_FAULTS or error.kind not in _RETRYABLE | _KEY_FAULTS:
        return Decision(next=Next.GIVE_UP, reason=what)
    if error.kind in _KEY_FAULTS:
        following = Next.NEXT_KEY if spare_key else Next.FAILOVER
        return Decision(next=following, reason=f"key rejected: {what}", bench_key=True)
    if retries_done >= policy.max_retries:
        return Decision(next=Next.FAILOVER, reason=f"{what}; no retries left")
    if error.retry_after is not None:
        if error.retry_after > policy.max_retry_after_s:
            cap = f"over the {policy.max_retry_after_s:g}s cap"
            return Decision(next=Next.FAILOVER, reason=f"{what}; retry-after {cap}")
        return Decision(next=Next.RETRY, delay_s=error.retry_after, reason=what)
    backoff = min(policy.backoff_max_s, policy.backoff_base_s * (2**retries_done))
    delay = backoff * (0.5 + rng.random() / 2)
    return Decision(next=Next.RETRY, delay_s=delay, reason=f"{what}; backoff {delay:.2f}s")


def describe(error: ErrorInfo) -> str:
    """A short phrase for the trail: the kind, the code, the provider's delay."""
    parts = [str(error.kind)]
    if error.code and error.code != str(error.kind):
        parts.append(error.code)
    text = " ".join(parts)
    if error.retry_after is not None:
        text += f", retry-after {error.retry_after:g}s"
    return text


def most_informative(errors: list[ErrorInfo]) -> ErrorInfo:
    """The error to show when every candidate failed: a 429 with a delay if any provider
    was rate limited (so the client waits and retries), else the last one."""
    limited = [e for e in errors if e.kind is ErrorKind.RATE_LIMITED]
    if limited:
        best = min(limited, key=lambda e: e.retry_after if e.retry_after is not None else 1.0)
        return best if best.retry_after is not None else replace(best, retry_after=1.0)
    return errors[-1]


__all__ = ["Decision", "Next", "decide", "describe", "most_informative"]
