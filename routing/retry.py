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
- A provider's delay is never trusted as it came (``bounded_retry_after``): not a number
  or NaN is ignored, negative is 0, longer than a day (``inf`` included) is a day.
- A failure after the whole request reached the provider with no answer back (a
  timeout, a connection dropped after the write, a garbled 2xx: ``unanswered``) may
  already be billed: it is retried or failed over only when the provider's
  ``resend_unanswered`` allows (the default), and the decision's reason says so.
"""

from __future__ import annotations

import math
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
MAX_RETRY_AFTER_S = 86_400.0
"""The longest delay a provider's ``Retry-After`` is taken to mean (one day)."""
RESEND_NOTE = "the request may have reached the provider: a resend may be billed twice"


def bounded_retry_after(value: object) -> float | None:
    """A provider's retry delay made safe to sleep on, compare and render: None for
    anything that is not a number (NaN included), else clamped to [0, one day]."""
    if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
        return None
    return min(max(float(value), 0.0), MAX_RETRY_AFTER_S)


def decide(
    error: ErrorInfo,
    *,
    retries_done: int,
    policy: RetryPolicy,
    rng: random.Random,
    spare_key: bool = False,
    unanswered: bool = False,
) -> Decision:
    """``spare_key``: the provider has another usable key besides the one that failed.
    ``unanswered``: the failure came after the whole request reached the provider."""
    decision = _decide(error, retries_done, policy, rng, spare_key)
    if not unanswered or decision.next is Next.GIVE_UP:
        return decision
    if not policy.resend_unanswered:
        return Decision(next=Next.GIVE_UP, reason=f"{decision.reason}; {RESEND_NOTE}, not resent")
    return replace(decision, reason=f"{decision.reason}; {RESEND_NOTE}")


def _decide(
    error: ErrorInfo, retries_done: int, policy: RetryPolicy, rng: random.Random, spare_key: bool
) -> Decision:
    what = describe(error)
    if error.kind in CLIENT_FAULTS or error.kind not in _RETRYABLE | _KEY_FAULTS:
        return Decision(next=Next.GIVE_UP, reason=what)
    if error.kind in _KEY_FAULTS:
        following = Next.NEXT_KEY if spare_key else Next.FAILOVER
        return Decision(next=following, reason=f"key rejected: {what}", bench_key=True)
    if retries_done >= policy.max_retries:
        return Decision(next=Next.FAILOVER, reason=f"{what}; no retries left")
    retry_after = bounded_retry_after(error.retry_after)
    if retry_after is not None:
        if retry_after > policy.max_retry_after_s:
            cap = f"over the {policy.max_retry_after_s:g}s cap"
            return Decision(next=Next.FAILOVER, reason=f"{what}; retry-after {cap}")
        return Decision(next=Next.RETRY, delay_s=retry_after, reason=what)
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
    limited = [
        replace(e, retry_after=bounded_retry_after(e.retry_after))
        for e in errors
        if e.kind is ErrorKind.RATE_LIMITED
    ]
    if limited:
        best = min(limited, key=lambda e: e.retry_after if e.retry_after is not None else 1.0)
        return best if best.retry_after is not None else replace(best, retry_after=1.0)
    return errors[-1]


__all__ = [
    "MAX_RETRY_AFTER_S",
    "RESEND_NOTE",
    "Decision",
    "Next",
    "bounded_retry_after",
    "decide",
    "describe",
    "most_informative",
]
