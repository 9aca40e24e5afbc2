"""Rate limits: requests and tokens per minute, over a sliding 60-second window.

A request is counted when it is admitted, with its estimated input tokens; when it
settles, its entry is corrected to the tokens it really used (input and output). So
the token limit admits a request while the last minute's tokens plus this request's
estimated input fit. ``Retry-After`` is when enough of the window ages out.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from messages.budget import Refused

WINDOW_S = 60.0


@dataclass(slots=True)
class RateEntry:
    at: float
    tokens: int
    live: bool = True  # still inside its window


@dataclass(frozen=True, slots=True, kw_only=True)
class RateRefusal:
    unit: str  # "requests" or "tokens"
    limit: int
    used: int
    retry_after_s: float


class RateWindow:
    def __init__(self, *, requests_per_minute: int | None, tokens_per_minute: int | None) -> None:
        self.requests_per_minute = requests_per_minute
        self.tokens_per_minute = tokens_per_minute
        self._entries: deque[RateEntry] = deque()
        self._tokens = 0

    def used(self, now: float) -> tuple[int, int]:
        """(requests, tokens) in the last minute."""
        self._prune(now)
        return len(self._entries), self._tokens

    def refusal(self, now: float, tokens: int) -> RateRefusal | None:
        """Why one more request of ``tokens`` may not start now, or ``None``."""
        self._prune(now)
        rpm = self.requests_per_minute
        if rpm is not None and len(self._entries) >= rpm:
            oldest_to_leave = self._entries[len(self._entries) - rpm]
            wait = oldest_to_leave.at + WINDOW_S - now
            return RateRefusal(
                unit="requests", limit=rpm, used=len(self._entries), retry_after_s=wait
            )
        tpm = self.tokens_per_minute
        if tpm is not None and self._tokens + tokens > tpm:
            return RateRefusal(
                unit="tokens", limit=tpm, used=self._tokens, retry_after_s=self._wait(now, tokens)
            )
        return None

    def admit(self, now: float, tokens: int) -> RateEntry:
        self._prune(now)
        entry = RateEntry(at=now, tokens=tokens)
        self._entries.append(entry)
        self._tokens += tokens
        return entry

    def adjust(self, entry: RateEntry, tokens: int) -> None:
        """Replace an admitted entry's estimate with what the request really used."""
        if entry.live:
            self._tokens += tokens - entry.tokens
        entry.tokens = tokens

    def _wait(self, now: float, tokens: int) -> float:
        assert self.tokens_per_minute is not None
        remaining = self._tokens
        for entry in self._entries:
            remaining -= entry.tokens
            if remaining + tokens <= self.tokens_per_minute:
                return entry.at + WINDOW_S - now
        return WINDOW_S

    def _prune(self, now: float) -> None:
        horizon = now - WINDOW_S
        entries = self._entries
        while entries and entries[0].at <= horizon:
            entry = entries.popleft()
            entry.live = False
            self._tokens -= entry.tokens


def rate_refused(
    request_id: str, scope: tuple[str, str], refusal: RateRefusal, tokens: int, now: float
) -> Refused:
    """The accountant's answer for a request over ``scope``'s rate limit."""
    return Refused(
        request_id=request_id,
        reason="rate",
        level=scope[0],
        scope_id=scope[1],
        period="minute",
        limit=refusal.limit,
        unit=refusal.unit,
        used=refusal.used,
        estimate=tokens,
        resets_at=now + refusal.retry_after_s,
        retry_after_s=max(refusal.retry_after_s, 0.0),
    )


def smallest_limit(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


__all__ = [
    "WINDOW_S",
    "RateEntry",
    "RateRefusal",
    "RateWindow",
    "rate_refused",
    "smallest_limit",
]
