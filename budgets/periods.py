"""Budget periods: calendar windows in UTC, or rolling windows of a fixed length.

``daily``, ``weekly`` (from Monday 00:00) and ``monthly`` (from the 1st, 00:00) are
calendar-aligned in UTC and reset at their end; ``total`` never resets; a duration
(``30m``, ``12h``, ``7d``, ``90s``) is a rolling window: the spend of the last N.

Every time here is unix seconds (UTC), passed in: nothing reads a clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

CALENDAR_PERIODS = ("daily", "weekly", "monthly", "total")
_DURATION = re.compile(r"([1-9][0-9]*)([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True)
class Period:
    """A parsed period: ``rolling_s`` is set for rolling windows, else it is calendar."""

    text: str
    rolling_s: float | None = None

    @property
    def rolling(self) -> bool:
        return self.rolling_s is not None

    def bounds(self, now: float) -> tuple[float | None, float | None]:
        """The window that contains ``now``: ``(start, end)``, ``None`` for open ends."""
        if self.rolling_s is not None:
            return now - self.rolling_s, None
        return calendar_bounds(self.text, now)


def parse_period(text: str) -> Period:
    """A ``Period``, or ``ValueError`` naming what is accepted."""
    if text in CALENDAR_PERIODS:
        return Period(text)
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(
            f"unknown period {text!r}: expected {', '.join(CALENDAR_PERIODS)} "
            "or a duration such as '30m', '12h', '7d'"
        )
    return Period(text, float(int(match.group(1)) * _UNIT_S[match.group(2)]))


def calendar_bounds(name: str, now: float) -> tuple[float | None, float | None]:
    """``[start, end)`` of the calendar period ``name`` containing ``now`` (UTC)."""
    if name == "total":
        return None, None
    moment = datetime.fromtimestamp(now, UTC)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if name == "daily":
        start, end = day, day + timedelta(days=1)
    elif name == "weekly":
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=7)
    elif name == "monthly":
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    else:
        raise ValueError(f"{name!r} is not a calendar period")
    return start.timestamp(), end.timestamp()


__all__ = ["CALENDAR_PERIODS", "Period", "calendar_bounds", "parse_period"]
