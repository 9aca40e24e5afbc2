"""A provider's ``Retry-After`` header, in seconds from now.

RFC 9110 allows either delay-seconds or an HTTP-date. Seconds are read as a number (a
fraction too, as some gateways send), an HTTP-date as the time until it; anything else —
garbage, a negative, an infinity, a NaN, a date in the past counts as 0 — gives ``None``
or 0, never an exception. How long the gateway then waits is bounded elsewhere
(``routing.retry.bounded_retry_after``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from email.utils import parsedate_to_datetime


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from ``now`` (unix seconds; the clock if not given), or ``None``."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        return _until_date(text, time.time() if now is None else now)
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def retry_after_header(
    headers: Sequence[tuple[str, str]], *, now: float | None = None
) -> float | None:
    """``parse_retry_after`` of the first ``retry-after`` header, any case."""
    for name, value in headers:
        if name.lower() == "retry-after":
            return parse_retry_after(value, now=now)
    return None


def _until_date(text: str, now: float) -> float | None:
    if len(text) > 64:  # an HTTP-date is 29 characters
        return None
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:  # RFC 850 and asctime dates are GMT too
        return None
    return max(0.0, moment.timestamp() - now)


__all__ = ["parse_retry_after", "retry_after_header"]
