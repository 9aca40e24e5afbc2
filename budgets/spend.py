"""What one budget has spent in its current window.

Calendar windows keep one total and start again at zero when a new period begins; a
charge dated before the current window belongs to a past period and is not counted
(SQL counts it there too). Rolling windows keep the spend in buckets of
``bucket_width`` seconds (1/600 of the window, at least a second): a bucket counts
while its end is inside the window, so the sum may include up to one bucket more than
the exact window — it errs towards refusing, never towards overspending. The SQL
rebuild sums the trail into the same buckets.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from budgets.periods import Period

ROLLING_BUCKETS = 600
TOLERANCE_USD = 1e-9
"""Float sums of cents drift in the 16th digit; a billionth of a dollar is no overspend."""


MAX_CHARGE_USD = 1e300


def bucket_width(rolling_s: float) -> float:
    return max(1.0, rolling_s / ROLLING_BUCKETS)


class SpendWindow:
    def __init__(self, period: Period) -> None:
        self._period = period
        self._start: float | None = None
        self._end: float | None = None
        self._total = 0.0
        self._fresh = True  # no window chosen yet
        self._width = bucket_width(period.rolling_s) if period.rolling_s else 0.0
        self._buckets: dict[int, float] = {}

    @property
    def period(self) -> Period:
        return self._period

    def load(self, buckets: Iterable[tuple[float, float]], now: float) -> None:
        """Forget everything and count ``(at, usd)`` pairs (a SQL rebuild)."""
        self._buckets.clear()
        self._total = 0.0
        self._fresh = True
        self._roll(now)
        for at, usd in buckets:
            self.charge(usd, at)

    def charge(self, usd: float, at: float) -> None:
        """Count ``usd`` spent at ``at``. Defence in depth (the meter never makes such a
        charge): a negative or NaN amount, or a non-finite time, is ignored and +infinity
        counts as ``MAX_CHARGE_USD``, so no charge ever lowers or poisons the spend."""
        if not (usd > 0.0 and math.isfinite(at)):
            return
        usd = min(usd, MAX_CHARGE_USD)
        if self._period.rolling_s is not None:
            index = math.floor(at / self._width)
            self._buckets[index] = self._buckets.get(index, 0.0) + usd
            return
        self._roll(at)
        if self._start is None or at >= self._start:
            self._total += usd

    def spent(self, now: float) -> float:
        if self._period.rolling_s is not None:
            self._prune(now)
            return sum(self._buckets.values())
        self._roll(now)
        return self._total

    def bounds(self, now: float) -> tuple[float | None, float | None]:
        if self._period.rolling_s is not None:
            return self._period.bounds(now)
        self._roll(now)
        return self._start, self._end

    def resets_at(self, now: float, *, limit: float, need: float) -> float | None:
        """When ``need`` more fits under ``limit``: the period's end (calendar), the
        moment enough spend ages out (rolling), ``None`` for a total budget."""
        if self._period.rolling_s is None:
            return self.bounds(now)[1]
        remaining = self.spent(now)
        moment = now
        for index in sorted(self._buckets):
            remaining -= self._buckets[index]
            moment = (index + 1) * self._width + self._period.rolling_s
            if remaining + need <= limit + TOLERANCE_USD:
                break
        return moment

    def _roll(self, now: float) -> None:
        if self._fresh or (self._end is not None and now >= self._end):
            self._start, self._end = self._period.bounds(now)
            self._total = 0.0
            self._fresh = False

    def _prune(self, now: float) -> None:
        assert self._period.rolling_s is not None
        horizon = now - self._period.rolling_s
        stale = [i for i in self._buckets if (i + 1) * self._width <= horizon]
        for index in stale:
            del self._buckets[index]


__all__ = ["MAX_CHARGE_USD", "ROLLING_BUCKETS", "TOLERANCE_USD", "SpendWindow", "bucket_width"]
